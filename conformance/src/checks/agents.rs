//! The Agents resource: GET /agents?agent=… answers a Person object (objectType `Person`,
//! every identifying property an array of values shaped like the Agent property of the same
//! name, each property once), also for agents the LRS knows nothing about, and 400 for a
//! missing or invalid agent parameter.

use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::check::{Area, Check, Ctx, Failure, Verdict};
use crate::checks::common;
use crate::client::excerpt;
use crate::fixtures::HOST;
use crate::{ensure, fail};

pub fn checks() -> Vec<Check> {
    let person_rows = [
        "Communication 2.4.s2",
        "Communication B.s1.table1.row2",
        "Communication 2.4.s5.table1.row1",
        "Communication 2.4.s6.b1",
        "Communication 2.4.s6.b2",
    ];
    let person_clauses = ["4.1.6.3#1", "4.1.6.3#3", "4.1.6.3#6"];
    vec![
        Check::new(
            Area::Agents,
            "agents.person-for-mbox",
            "GET /agents for an Agent seen in a statement (mbox) answers a Person listing its mbox",
            |cx| person_for(cx, Identifier::Mbox),
        )
        .v1(&person_rows)
        .v1(&[
            "Communication 2.4.s5.table1.row2",
            "Communication 2.4.s5.table1.row3",
        ])
        .v2(&person_clauses),
        Check::new(
            Area::Agents,
            "agents.person-for-mbox-sha1sum",
            "GET /agents for an Agent identified by mbox_sha1sum answers a Person listing it",
            |cx| person_for(cx, Identifier::MboxSha1sum),
        )
        .v1(&person_rows)
        .v1(&["Communication 2.4.s5.table1.row4"])
        .v2(&person_clauses),
        Check::new(
            Area::Agents,
            "agents.person-for-openid",
            "GET /agents for an Agent identified by openid answers a Person listing it",
            |cx| person_for(cx, Identifier::Openid),
        )
        .v1(&person_rows)
        .v1(&["Communication 2.4.s5.table1.row5"])
        .v2(&person_clauses),
        Check::new(
            Area::Agents,
            "agents.person-for-account",
            "GET /agents for an Agent identified by account answers a Person listing the whole account",
            |cx| person_for(cx, Identifier::Account),
        )
        .v1(&person_rows)
        .v1(&["Communication 2.4.s5.table1.row6"])
        .v2(&person_clauses)
        .v2(&["4.1.6.3#4"]),
        Check::new(
            Area::Agents,
            "agents.person-for-unknown-agent",
            "GET /agents for an Agent the LRS never saw answers a Person holding just that Agent",
            person_for_unknown_agent,
        )
        .v1(&[
            "Communication 2.4.s3.b3",
            "Communication 2.4.s5.table1.row1",
            "Communication 2.4.s6.b1",
        ])
        .v2(&["4.1.6.3#5", "4.1.6.3#3"]),
        Check::new(
            Area::Agents,
            "agents.missing-agent-400",
            "GET /agents without the agent parameter gets 400",
            missing_agent,
        )
        .v1(&["Communication 2.4.s2.table1.row1"])
        .v2(&["4.1.6.3#2"]),
        Check::new(
            Area::Agents,
            "agents.invalid-agent-400",
            "GET /agents with an agent that is not a valid Agent (bad JSON, no or two identifiers, \
             a Person, a malformed identifier) gets 400",
            invalid_agent,
        )
        .v1(&["Communication 2.4.s2.table1.row1"])
        .v2(&["4.1.6.3#2"]),
    ]
}

/// The inverse functional identifier an Agent is built with.
#[derive(Clone, Copy, Debug)]
enum Identifier {
    Mbox,
    MboxSha1sum,
    Openid,
    Account,
}

impl Identifier {
    /// A fresh Agent identified this way, and the value its Person must list.
    fn agent(self, cx: &Ctx) -> (Value, &'static str, Value) {
        let (property, value) = match self {
            Identifier::Mbox => ("mbox", json!(cx.fx.mbox())),
            Identifier::MboxSha1sum => {
                // Any 40 hexadecimal digits are a well-formed mbox_sha1sum.
                let hex = format!("{}{}", cx.fx.uuid(), cx.fx.uuid()).replace('-', "");
                ("mbox_sha1sum", json!(hex[..40]))
            }
            Identifier::Openid => ("openid", json!(cx.fx.iri("openid"))),
            Identifier::Account => (
                "account",
                json!({ "homePage": format!("http://{HOST}"), "name": cx.fx.uuid() }),
            ),
        };
        let mut agent = json!({ "objectType": "Agent", "name": "Conformance Learner" });
        agent[property] = value.clone();
        (agent, property, value)
    }
}

/// The property names of a JSON object in the order they occur, repeats kept (a parse into
/// [`Value`] would silently keep only the last of repeated names).
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = Keys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        deserializer.deserialize_map(KeysVisitor)
    }
}

/// `scheme:rest` with a scheme as RFC 3986 defines it: an absolute IRI at least.
fn has_scheme(text: &str) -> bool {
    match text.split_once(':') {
        Some((scheme, rest)) => {
            !rest.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
                && !text.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn is_mailto(text: &str) -> bool {
    text.strip_prefix("mailto:")
        .and_then(|address| address.split_once('@'))
        .is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !local.contains(char::is_whitespace)
        })
        && !text.contains(char::is_whitespace)
}

/// Why `member` is not a valid value of the Agent property `property`, if it is not.
fn member_problem(property: &str, member: &Value) -> Option<String> {
    let text = member.as_str();
    let ok = match property {
        "name" => text.is_some(),
        "mbox" => text.is_some_and(is_mailto),
        "mbox_sha1sum" => {
            text.is_some_and(|t| t.len() == 40 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        }
        "openid" => text.is_some_and(has_scheme),
        "account" => {
            member["homePage"].as_str().is_some_and(has_scheme) && member["name"].is_string()
        }
        _ => true,
    };
    let shape = match property {
        "name" => "a string",
        "mbox" => "a mailto IRI",
        "mbox_sha1sum" => "40 hexadecimal digits",
        "openid" => "an absolute URI",
        "account" => "an account with a homePage IRL and a name string",
        _ => "",
    };
    (!ok).then(|| format!("`{property}` holds {member}, which is not {shape}"))
}

/// The body of a GET /agents answer as a Person object, or what is wrong with it.
fn person_problem(body: &[u8]) -> Result<Value, String> {
    let person: Value =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON ({e})"))?;
    if !person.is_object() {
        return Err(format!("expected a Person object, got {person}"));
    }
    if person["objectType"] != "Person" {
        return Err(format!(
            "objectType is {}, expected \"Person\"",
            person
                .get("objectType")
                .map_or("missing".to_owned(), Value::to_string)
        ));
    }
    if let Ok(Keys(keys)) = serde_json::from_slice::<Keys>(body) {
        let mut seen: Vec<&String> = Vec::new();
        for key in &keys {
            if seen.contains(&key) {
                return Err(format!("the property `{key}` occurs more than once"));
            }
            seen.push(key);
        }
    }
    for property in ["name", "mbox", "mbox_sha1sum", "openid", "account"] {
        let Some(value) = person.get(property) else {
            continue;
        };
        let Some(members) = value.as_array() else {
            return Err(format!("`{property}` must be an array, got {value}"));
        };
        if let Some(problem) = members.iter().find_map(|m| member_problem(property, m)) {
            return Err(problem);
        }
    }
    Ok(person)
}

/// GET /agents?agent=…, asserting 200 and a well-formed Person object.
async fn get_person(cx: &Ctx, agent: &Value) -> Result<Value, Failure> {
    let what = format!("GET /agents?agent={agent}");
    let response = cx
        .get("agents")
        .query("agent", agent.to_string())
        .send()
        .await?
        .expect(200, &what)?;
    person_problem(&response.body).map_err(|problem| {
        Failure::new(format!(
            "{what}: {problem}; answered {}",
            excerpt(&response.text(), 300)
        ))
    })
}

/// Fails unless `person[property]` lists `value`.
fn ensure_listed(person: &Value, property: &str, value: &Value, agent: &Value) -> Verdict {
    let listed = person[property].as_array().is_some_and(|members| {
        members
            .iter()
            .any(|m| common::difference(value, m).is_none())
    });
    ensure!(
        listed,
        "the Person for {agent} does not list the agent's {property} {value}: {person}"
    );
    Ok(())
}

async fn person_for(cx: Ctx, identifier: Identifier) -> Verdict {
    let (agent, property, value) = identifier.agent(&cx);
    common::post_statement(&cx, &cx.fx.statement_by(&agent)).await?;
    // Asked for by the identifier alone (objectType and name are optional in an Agent), so
    // the LRS must match on the identifier rather than on the whole object it stored.
    let asked = json!({ property: value });
    let person = get_person(&cx, &asked).await?;
    ensure_listed(&person, property, &value, &asked)
}

async fn person_for_unknown_agent(cx: Ctx) -> Verdict {
    let mbox = cx.fx.mbox();
    let agent = json!({ "objectType": "Agent", "mbox": mbox });
    let person = get_person(&cx, &agent).await?;
    ensure!(
        person["mbox"] == json!([mbox]),
        "the Person for an agent the LRS never saw must list just its mbox [\"{mbox}\"], got \
         mbox {}",
        person.get("mbox").unwrap_or(&Value::Null)
    );
    for property in ["openid", "account"] {
        if let Some(members) = person[property].as_array() {
            ensure!(
                members.is_empty(),
                "the Person for an agent the LRS never saw holds only that agent's information, \
                 but lists {property} {}",
                person[property]
            );
        }
    }
    Ok(())
}

async fn missing_agent(cx: Ctx) -> Verdict {
    cx.get("agents")
        .send()
        .await?
        .expect(400, "GET /agents without the agent parameter")?;
    Ok(())
}

async fn invalid_agent(cx: Ctx) -> Verdict {
    let mbox = cx.fx.mbox();
    let mut cases = vec![
        ("not JSON", format!("{{\"mbox\": \"{mbox}\"")),
        (
            "no identifier",
            json!({ "objectType": "Agent", "name": "Conformance Learner" }).to_string(),
        ),
        (
            "two identifiers",
            json!({ "mbox": mbox, "openid": cx.fx.iri("openid") }).to_string(),
        ),
        (
            "a Person object",
            json!({ "objectType": "Person", "mbox": [mbox] }).to_string(),
        ),
        (
            "an mbox without mailto:",
            json!({ "mbox": mbox.trim_start_matches("mailto:") }).to_string(),
        ),
        (
            "an account without a name",
            json!({ "account": { "homePage": format!("http://{HOST}") } }).to_string(),
        ),
        ("a JSON array", json!([{ "mbox": mbox }]).to_string()),
    ];
    if cx.is_v1() {
        // Communication 2.4.s2: the parameter "is not a Person Object, nor is it a Group".
        cases.push((
            "an identified Group",
            json!({ "objectType": "Group", "mbox": mbox }).to_string(),
        ));
    }
    let mut accepted = Vec::new();
    for (what, agent) in &cases {
        let response = cx.get("agents").query("agent", agent).send().await?;
        if response.status != 400 {
            accepted.push(format!("{what} `{agent}` got {}", response.status));
        }
    }
    if !accepted.is_empty() {
        fail!(
            "GET /agents with an invalid agent must get 400: {}",
            accepted.join("; ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_person_passes() {
        let body = br#"{"objectType":"Person","name":["A","B"],"mbox":["mailto:a@example.org"],
            "mbox_sha1sum":["ebd31e95054c018b10727ccffd2ef2ec3a016ee9"],
            "openid":["http://openid.example.org/a"],
            "account":[{"homePage":"http://example.org","name":"a"}]}"#;
        assert!(person_problem(body).is_ok());
        assert!(person_problem(br#"{"objectType":"Person"}"#).is_ok());
    }

    #[test]
    fn malformed_persons_are_named() {
        let cases: [(&[u8], &str); 8] = [
            (
                br#"{"objectType":"Agent","mbox":["mailto:a@b.c"]}"#,
                "objectType",
            ),
            (br#"{"mbox":["mailto:a@b.c"]}"#, "missing"),
            (br#"{"objectType":"Person","mbox":"mailto:a@b.c"}"#, "array"),
            (br#"{"objectType":"Person","mbox":["a@b.c"]}"#, "mailto"),
            (
                br#"{"objectType":"Person","mbox_sha1sum":["xyz"]}"#,
                "hexadecimal",
            ),
            (br#"{"objectType":"Person","openid":["not a uri"]}"#, "URI"),
            (
                br#"{"objectType":"Person","account":[{"name":"a"}]}"#,
                "homePage",
            ),
            (
                br#"{"objectType":"Person","name":["a"],"name":["b"]}"#,
                "more than once",
            ),
        ];
        for (body, expected) in cases {
            let problem = person_problem(body).unwrap_err();
            assert!(problem.contains(expected), "{problem} lacks {expected}");
        }
    }
}
