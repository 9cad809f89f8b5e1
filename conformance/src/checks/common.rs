//! Helpers every area's checks share: storing and fetching statements, comparing what the
//! LRS returns with what was sent, and reading timestamps.

use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use crate::check::{Ctx, Failure};
use crate::client::{excerpt, Response};
use crate::fail;

/// POSTs one statement; returns the id the LRS answers with.
pub async fn post_statement(cx: &Ctx, statement: &Value) -> Result<String, Failure> {
    let ids = post_statements(cx, &Value::Array(vec![statement.clone()])).await?;
    match ids.as_slice() {
        [id] => Ok(id.clone()),
        other => fail!("POST of one statement: expected one id back, got {other:?}"),
    }
}

/// POSTs a batch (an array) or one statement; returns the ids answered, asserting 200.
pub async fn post_statements(cx: &Ctx, body: &Value) -> Result<Vec<String>, Failure> {
    let response = cx
        .post("statements")
        .json(body)
        .send()
        .await?
        .expect(200, "POST /statements of valid statements")?;
    id_list(&response)
}

/// The body of a POST /statements answer: an array of ids.
pub fn id_list(response: &Response) -> Result<Vec<String>, Failure> {
    match response.json()? {
        Value::Array(ids) if ids.iter().all(Value::is_string) => Ok(ids
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()),
        other => fail!("POST /statements: expected an array of ids, got {other}"),
    }
}

/// PUTs `statement` under `id`, asserting 204.
pub async fn put_statement(cx: &Ctx, id: &str, statement: &Value) -> Result<(), Failure> {
    cx.put("statements")
        .query("statementId", id)
        .json(statement)
        .send()
        .await?
        .expect(
            204,
            "PUT /statements?statementId=… of a new valid statement",
        )?;
    Ok(())
}

/// GET /statements?statementId=…, asserting 200 and a JSON object. A 404 is retried a few
/// times (briefly, and only then), because an LRS may answer a write before the statement
/// is readable.
pub async fn get_statement(cx: &Ctx, id: &str) -> Result<Value, Failure> {
    get_single(cx, "statementId", id).await
}

/// GET /statements?voidedStatementId=…, as [`get_statement`].
pub async fn get_voided_statement(cx: &Ctx, id: &str) -> Result<Value, Failure> {
    get_single(cx, "voidedStatementId", id).await
}

async fn get_single(cx: &Ctx, parameter: &str, id: &str) -> Result<Value, Failure> {
    let mut delay = Duration::from_millis(50);
    let mut retries = 5;
    loop {
        let response = cx.get("statements").query(parameter, id).send().await?;
        if response.status == 404 && retries > 0 {
            retries -= 1;
            tokio::time::sleep(delay).await;
            delay *= 2;
            continue;
        }
        let response = response.expect(200, &format!("GET /statements?{parameter}={id}"))?;
        let statement = response.json()?;
        if !statement.is_object() {
            fail!("GET /statements?{parameter}={id}: expected a Statement object, got {statement}");
        }
        return Ok(statement);
    }
}

/// GET /statements with query parameters; asserts 200 and a StatementResult.
pub async fn query(cx: &Ctx, params: &[(&str, &str)]) -> Result<Value, Failure> {
    let mut request = cx.get("statements");
    for (name, value) in params {
        request = request.query(name, *value);
    }
    let response = request
        .send()
        .await?
        .expect(200, &format!("GET /statements?{}", describe_query(params)))?;
    let result = response.json()?;
    if !result["statements"].is_array() {
        fail!(
            "GET /statements?{}: expected a StatementResult with a `statements` array, got {}",
            describe_query(params),
            excerpt(&result.to_string(), 300)
        );
    }
    Ok(result)
}

fn describe_query(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The ids of a StatementResult's statements, in answer order.
pub fn ids_of(result: &Value) -> Vec<String> {
    result["statements"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Where `actual` differs from `expected`, ignoring properties `actual` adds: `None` when
/// every property of `expected` is in `actual` with an equal value (arrays element by
/// element). The path names the first difference, e.g. `/object/definition/name`.
pub fn difference(expected: &Value, actual: &Value) -> Option<String> {
    fn walk(expected: &Value, actual: &Value, path: &mut String) -> Option<String> {
        match (expected, actual) {
            (Value::Object(e), Value::Object(a)) => {
                for (key, value) in e {
                    let len = path.len();
                    path.push('/');
                    path.push_str(key);
                    let found = match a.get(key) {
                        Some(got) => walk(value, got, path),
                        None => Some(format!("{path}: missing (sent {value})")),
                    };
                    if found.is_some() {
                        return found;
                    }
                    path.truncate(len);
                }
                None
            }
            (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
                for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                    let len = path.len();
                    path.push_str(&format!("/{i}"));
                    if let Some(found) = walk(ev, av, path) {
                        return Some(found);
                    }
                    path.truncate(len);
                }
                None
            }
            (Value::Number(e), Value::Number(a)) if e.as_f64() == a.as_f64() => None,
            (e, a) if e == a => None,
            (e, a) => Some(format!(
                "{}: sent {}, got {}",
                if path.is_empty() { "/" } else { path },
                excerpt(&e.to_string(), 200),
                excerpt(&a.to_string(), 200)
            )),
        }
    }
    walk(expected, actual, &mut String::new())
}

/// Fails unless the returned statement keeps the actor, verb and object (and result and
/// context, when sent) of the one sent.
pub fn ensure_same_statement(sent: &Value, got: &Value, what: &str) -> Result<(), Failure> {
    for key in ["actor", "verb", "object", "result", "context"] {
        if let Some(value) = sent.get(key) {
            if let Some(diff) = difference(value, &got[key]) {
                fail!("{what}: /{key}{diff}");
            }
        }
    }
    Ok(())
}

/// An ISO 8601 timestamp the LRS returned.
pub fn timestamp(value: &Value, what: &str) -> Result<DateTime<FixedOffset>, Failure> {
    let Some(text) = value.as_str() else {
        fail!("{what}: expected a timestamp string, got {value}");
    };
    DateTime::parse_from_rfc3339(text).map_err(|e| {
        Failure::new(format!(
            "{what}: `{text}` is not an ISO 8601 timestamp ({e})"
        ))
    })
}

/// True when `text` is a UUID in the standard 8-4-4-4-12 hex form.
pub fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn difference_ignores_additions_and_names_the_path() {
        let sent = json!({"a": {"b": [1, {"c": "x"}]}, "n": 1.0});
        let same = json!({"a": {"b": [1, {"c": "x", "extra": true}]}, "n": 1, "more": 2});
        assert_eq!(difference(&sent, &same), None);
        let changed = json!({"a": {"b": [1, {"c": "y"}]}, "n": 1});
        assert_eq!(
            difference(&sent, &changed).as_deref(),
            Some("/a/b/1/c: sent \"x\", got \"y\"")
        );
        assert!(difference(&sent, &json!({"n": 1}))
            .unwrap()
            .starts_with("/a: missing"));
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("e05aa883-acaf-40ad-bf54-02c8ce485fb0"));
        assert!(!is_uuid("e05aa883acaf40adbf5402c8ce485fb0"));
        assert!(!is_uuid("e05aa883-acaf-40ad-bf54-02c8ce485fbz"));
    }
}
