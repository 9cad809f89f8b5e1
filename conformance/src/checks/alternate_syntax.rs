//! The alternate request syntax of xAPI 1.0.3 (Communication 1.3): a POST whose only query
//! parameter is `method`, with the request's parameters, the listed headers and its content
//! as form fields. Every resource is driven through it and read back with the usual syntax;
//! requests breaking its rules must be refused and change nothing. xAPI 2.0 dropped it, and
//! an xAPI 2.0 LRS refuses it like any unknown parameter.

use serde_json::{json, Value};

use crate::check::{Area, Check, Ctx, Failure, Verdict};
use crate::checks::common::{self, ensure_same_statement};
use crate::client::{excerpt, Request, Response};
use crate::{ensure, fail};

const FORM: &str = "application/x-www-form-urlencoded";

pub fn checks() -> Vec<Check> {
    vec![
        Check::new(
            Area::AlternateSyntax,
            "alternate-syntax.put-statement",
            "A statement PUT through the alternate syntax (statementId, version header and \
             content as form fields) is stored",
            put_statement,
        )
        .v1(&[
            "Communication 1.3.s3.b15",
            "Communication 1.3.s3.b2",
            "Communication 1.3.s3.b4",
            "Communication 1.3.s3.b7",
            "Communication 1.3.s3.b13",
            "Communication 1.3.s3.b14",
        ]),
        Check::new(
            Area::AlternateSyntax,
            "alternate-syntax.post-statement",
            "A statement POSTed through the alternate syntax is stored and its id answered",
            post_statement,
        )
        .v1(&[
            "Communication 1.3.s3.b15",
            "Communication 1.3.s3.b2",
            "Communication 1.3.s3.b4",
        ]),
        Check::new(
            Area::AlternateSyntax,
            "alternate-syntax.get-statements",
            "method=GET with query parameters as form fields answers the statement query, not a store",
            get_statements,
        )
        .v1(&[
            "Communication 2.1.2.s2.b3",
            "Communication 2.1.2.s2.b2",
            "Communication 1.3.s3.b15",
            "Communication 1.3.s3.b2",
            "Communication 1.3.s3.b13",
            "Communication 1.3.s3.b14",
        ]),
        Check::new(
            Area::AlternateSyntax,
            "alternate-syntax.document-resources",
            "State, activity profile and agent profile documents are PUT, read and DELETEd \
             through the alternate syntax",
            document_resources,
        )
        .v1(&[
            "Communication 1.3.s3.b15",
            "Communication 1.3.s3.b2",
            "Communication 1.3.s3.b4",
            "Communication 1.3.s3.b13",
            "Communication 1.3.s3.b14",
        ]),
        Check::new(
            Area::AlternateSyntax,
            "alternate-syntax.activities-and-agents",
            "The Activities and Agents resources answer method=GET with their parameter as a form field",
            activities_and_agents,
        )
        .v1(&[
            "Communication 1.3.s3.b15",
            "Communication 1.3.s3.b2",
            "Communication 1.3.s3.b13",
        ]),
        Check::new(
            Area::AlternateSyntax,
            "alternate-syntax.version-form-field-honoured",
            "An unsupported X-Experience-API-Version form field gets 400 and stores nothing",
            version_form_field_honoured,
        )
        .v1(&["Communication 1.3.s3.b7"]),
        Check::new(
            Area::AlternateSyntax,
            "alternate-syntax.precondition-form-fields-honoured",
            "If-Match and If-None-Match form fields are applied as preconditions (412 when unmet)",
            precondition_form_fields_honoured,
        )
        .v1(&["Communication 1.3.s3.b7", "Communication 1.3.s3.b15"]),
        Check::new(
            Area::AlternateSyntax,
            "alternate-syntax.content-type-form-field-honoured",
            "The Content-Type form field is the document's type: JSON merges into a document PUT \
             as application/json, and is refused (400) over one PUT as text/plain",
            content_type_form_field_honoured,
        )
        .v1(&[
            "Communication 1.3.s3.b7",
            "Communication 1.3.s3.b15",
            "Communication 2.2.s7",
            "Communication 2.2.s8.b1",
        ]),
        Check::new(
            Area::AlternateSyntax,
            "alternate-syntax.refused-in-2.0",
            "xAPI 2.0 has no alternate syntax: a POST with a method parameter gets 400 and \
             changes nothing",
            refused_in_2_0,
        )
        .v2(&["4.1.5#5"]),
        Check::new(
            Area::AlternateSyntax,
            "alternate-syntax.only-as-post",
            "A method parameter on a PUT or GET is refused (400 or 405) and changes nothing",
            only_as_post,
        )
        .v1(&["Communication 1.3.s3.b1"]),
        Check::new(
            Area::AlternateSyntax,
            "alternate-syntax.other-query-parameters-400",
            "An alternate-syntax request with a query parameter besides method gets 400 and \
             stores nothing",
            other_query_parameters,
        )
        .v1(&["Communication 1.3.s3.b3"]),
        Check::new(
            Area::AlternateSyntax,
            "alternate-syntax.content-only-in-form-field",
            "Content sent other than as the `content` form field (missing, misnamed, a raw JSON \
             body) gets 400 and stores nothing",
            content_only_in_form_field,
        )
        .v1(&["Communication 1.3.s3.b4"]),
        Check::new(
            Area::AlternateSyntax,
            "alternate-syntax.content-is-utf8",
            "Non-ASCII text in the `content` form field is read as UTF-8",
            content_is_utf8,
        )
        .v1(&["Communication 1.3.s3.b5", "Communication 1.3.s3.b15"]),
    ]
}

/// `application/x-www-form-urlencoded` encoding of `fields`: every byte outside the RFC 3986
/// unreserved set is percent-encoded, which every form decoder reads back unchanged.
fn form_encode(fields: &[(&str, String)]) -> String {
    fn encode(text: &str, out: &mut String) {
        for byte in text.bytes() {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(byte));
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    let mut out = String::new();
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode(name, &mut out);
        out.push('=');
        encode(value, &mut out);
    }
    out
}

/// An alternate-syntax request: POST `path?method=<method>` whose form carries `fields` and
/// the version header (which is left out of the HTTP headers, so the LRS can only find it
/// in the form). The credentials stay in the HTTP header, as the syntax allows.
fn alternate(cx: &Ctx, path: &str, method: &str, fields: &[(&str, String)]) -> Request {
    let mut fields = fields.to_vec();
    fields.push(("X-Experience-API-Version", cx.version.as_str().to_owned()));
    cx.post(path)
        .query("method", method)
        .without_version()
        .body(FORM, form_encode(&fields))
}

/// The form fields of a JSON content.
fn json_content(content: &Value) -> [(&'static str, String); 2] {
    [
        ("content", content.to_string()),
        ("Content-Type", "application/json".to_owned()),
    ]
}

/// A fresh statement with its id set, and that id.
fn statement_with_id(cx: &Ctx) -> (String, Value) {
    let id = cx.fx.uuid();
    let mut statement = cx.fx.statement();
    statement["id"] = json!(id);
    (id, statement)
}

/// Fails if GET /statements?statementId=`id` returns that statement: the refused request
/// `what` must not have stored it. Anything but 404 or a 2xx answer leaves that undecided,
/// which fails too.
async fn ensure_not_stored(cx: &Ctx, id: &str, what: &str) -> Verdict {
    let response = cx.get("statements").query("statementId", id).send().await?;
    if (200..300).contains(&response.status) {
        ensure!(
            response.json().ok().is_none_or(|s| s["id"] != id),
            "{what} was refused, yet GET /statements?statementId={id} returns the statement: it \
             was stored"
        );
        return Ok(());
    }
    ensure!(
        response.status == 404,
        "cannot confirm that the refused {what} stored nothing: GET \
         /statements?statementId={id} answered {} instead of 404",
        response.status
    );
    Ok(())
}

/// Fails unless `response` has status 400, naming the request.
fn expect_400(response: Response, what: &str) -> Verdict {
    response.expect(400, what)?;
    Ok(())
}

async fn put_statement(cx: Ctx) -> Verdict {
    let (id, statement) = statement_with_id(&cx);
    let mut fields = vec![("statementId", id.clone())];
    fields.extend(json_content(&statement));
    alternate(&cx, "statements", "PUT", &fields)
        .send()
        .await?
        .expect(204, "POST /statements?method=PUT with a form")?;
    let stored = common::get_statement(&cx, &id).await?;
    ensure_same_statement(&statement, &stored, "the statement PUT through the form")
}

async fn post_statement(cx: Ctx) -> Verdict {
    let (id, statement) = statement_with_id(&cx);
    let response = alternate(&cx, "statements", "POST", &json_content(&statement))
        .send()
        .await?
        .expect(200, "POST /statements?method=POST with a form")?;
    let ids = common::id_list(&response)?;
    ensure!(
        ids == [id.clone()],
        "POST /statements?method=POST: expected the id list [{id}], got {ids:?}"
    );
    let stored = common::get_statement(&cx, &id).await?;
    ensure_same_statement(&statement, &stored, "the statement POSTed through the form")
}

async fn get_statements(cx: Ctx) -> Verdict {
    let agent = cx.fx.agent();
    let statement = cx.fx.statement_by(&agent);
    let id = common::post_statement(&cx, &statement).await?;
    // Make sure it is readable before querying, so an empty answer means a wrong filter.
    common::get_statement(&cx, &id).await?;

    let what = "POST /statements?method=GET with agent as a form field";
    let response = alternate(&cx, "statements", "GET", &[("agent", agent.to_string())])
        .send()
        .await?
        .expect(200, what)?;
    let result = response.json()?;
    let Some(statements) = result["statements"].as_array() else {
        fail!(
            "{what}: expected a StatementResult (the query's answer), got {}",
            excerpt(&result.to_string(), 300)
        );
    };
    let ids: Vec<&str> = statements.iter().filter_map(|s| s["id"].as_str()).collect();
    ensure!(
        ids == [id.as_str()],
        "{what}: expected exactly the agent's statement [{id}], got {ids:?}"
    );

    let what = "POST /statements?method=GET with statementId as a form field";
    let response = alternate(&cx, "statements", "GET", &[("statementId", id.clone())])
        .send()
        .await?
        .expect(200, what)?;
    let got = response.json()?;
    ensure!(
        got["id"] == id,
        "{what}: expected the statement {id}, got {}",
        excerpt(&got.to_string(), 300)
    );
    ensure_same_statement(&statement, &got, what)
}

/// One document resource and the parameters addressing a fresh document in it.
struct Document {
    path: &'static str,
    params: Vec<(&'static str, String)>,
}

fn documents(cx: &Ctx) -> Vec<Document> {
    let agent = cx.fx.agent().to_string();
    let activity = cx.fx.iri("activity");
    vec![
        Document {
            path: "activities/state",
            params: vec![
                ("activityId", activity.clone()),
                ("agent", agent.clone()),
                ("stateId", cx.fx.iri("state")),
            ],
        },
        Document {
            path: "activities/profile",
            params: vec![
                ("activityId", activity),
                ("profileId", cx.fx.iri("profile")),
            ],
        },
        Document {
            path: "agents/profile",
            params: vec![("agent", agent), ("profileId", cx.fx.iri("profile"))],
        },
    ]
}

/// GET of a document with the usual syntax.
fn usual_get(cx: &Ctx, document: &Document) -> Request {
    document
        .params
        .iter()
        .fold(cx.get(document.path), |r, (k, v)| r.query(k, v.clone()))
}

async fn document_resources(cx: Ctx) -> Verdict {
    for document in documents(&cx) {
        let path = document.path;
        let content = json!({ "written-through": "alternate syntax", "resource": path });
        let mut fields = document.params.clone();
        fields.extend(json_content(&content));
        // A precondition that holds for a new document, so LRSs requiring one on profile
        // PUTs accept the request.
        fields.push(("If-None-Match", "*".to_owned()));
        alternate(&cx, path, "PUT", &fields)
            .send()
            .await?
            .expect(204, &format!("POST /{path}?method=PUT with a form"))?;

        let what = format!("GET /{path} of the document PUT through the form");
        let read = usual_get(&cx, &document).send().await?.expect(200, &what)?;
        ensure!(
            read.json().ok().as_ref() == Some(&content),
            "{what}: expected {content}, got {}",
            excerpt(&read.text(), 300)
        );

        let what = format!("POST /{path}?method=GET with a form");
        let read = alternate(&cx, path, "GET", &document.params)
            .send()
            .await?
            .expect(200, &what)?;
        ensure!(
            read.json().ok().as_ref() == Some(&content),
            "{what}: expected {content}, got {}",
            excerpt(&read.text(), 300)
        );

        alternate(&cx, path, "DELETE", &document.params)
            .send()
            .await?
            .expect(204, &format!("POST /{path}?method=DELETE with a form"))?;
        let after = usual_get(&cx, &document).send().await?;
        ensure!(
            after.status == 404,
            "GET /{path} after POST /{path}?method=DELETE: expected 404, got {} (the document \
             was not deleted)",
            after.status
        );
    }
    Ok(())
}

async fn activities_and_agents(cx: Ctx) -> Verdict {
    let statement = cx.fx.statement();
    common::post_statement(&cx, &statement).await?;
    let activity = &statement["object"];
    let id = activity["id"].as_str().unwrap_or_default().to_owned();

    let what = "POST /activities?method=GET with activityId as a form field";
    let response = alternate(&cx, "activities", "GET", &[("activityId", id.clone())])
        .send()
        .await?
        .expect(200, what)?;
    let got = response.json()?;
    ensure!(
        got["id"] == id,
        "{what}: expected the Activity {id}, got {}",
        excerpt(&got.to_string(), 300)
    );

    let agent = &statement["actor"];
    let what = "POST /agents?method=GET with agent as a form field";
    let response = alternate(&cx, "agents", "GET", &[("agent", agent.to_string())])
        .send()
        .await?
        .expect(200, what)?;
    let person = response.json()?;
    ensure!(
        person["mbox"]
            .as_array()
            .is_some_and(|m| m.contains(&agent["mbox"])),
        "{what}: expected the agent's Person, listing mbox {}, got {}",
        agent["mbox"],
        excerpt(&person.to_string(), 300)
    );
    Ok(())
}

async fn version_form_field_honoured(cx: Ctx) -> Verdict {
    let (id, statement) = statement_with_id(&cx);
    let mut fields = vec![("statementId", id.clone())];
    fields.extend(json_content(&statement));
    fields.push(("X-Experience-API-Version", "0.8".to_owned()));
    let body = form_encode(&fields);
    let what = "POST /statements?method=PUT with the form field X-Experience-API-Version: 0.8";
    let response = cx
        .post("statements")
        .query("method", "PUT")
        .without_version()
        .body(FORM, body)
        .send()
        .await?;
    expect_400(response, what)?;
    ensure_not_stored(&cx, &id, what).await
}

async fn precondition_form_fields_honoured(cx: Ctx) -> Verdict {
    let path = "activities/profile";
    let params = vec![
        ("activityId", cx.fx.iri("activity")),
        ("profileId", cx.fx.iri("profile")),
    ];
    let put = |content: &Value, precondition: (&'static str, String)| {
        let mut fields = params.clone();
        fields.extend(json_content(content));
        fields.push(precondition);
        alternate(&cx, path, "PUT", &fields)
    };
    let first = json!({ "version": 1 });
    put(&first, ("If-None-Match", "*".to_owned()))
        .send()
        .await?
        .expect(
            204,
            "POST /activities/profile?method=PUT creating a document",
        )?;
    let read = params
        .iter()
        .fold(cx.get(path), |r, (k, v)| r.query(k, v.clone()))
        .send()
        .await?
        .expect(200, "GET /activities/profile of the new document")?;
    // An ETag sent back quoted, as RFC 7232 writes it, whether or not the LRS quoted it.
    let etag = read.header("etag").map(|tag| {
        if tag.starts_with('"') || tag.starts_with("W/") {
            tag.to_owned()
        } else {
            format!("\"{tag}\"")
        }
    });

    let second = json!({ "version": 2 });
    let unmet = [
        ("If-None-Match", "*".to_owned()),
        (
            "If-Match",
            "\"0000000000000000000000000000000000000000\"".to_owned(),
        ),
    ];
    for (name, value) in unmet {
        let response = put(&second, (name, value.clone())).send().await?;
        ensure!(
            response.status == 412,
            "POST /activities/profile?method=PUT with the form field {name}: {value} over an \
             existing document: expected 412, got {} {}",
            response.status,
            excerpt(&response.text(), 200)
        );
    }
    // Without an ETag (a concurrency finding of its own) only the unmet preconditions above
    // can be exercised.
    if let Some(etag) = etag {
        put(&second, ("If-Match", etag.clone()))
            .send()
            .await?
            .expect(
                204,
                &format!(
                    "POST /activities/profile?method=PUT with the form field If-Match: {etag}"
                ),
            )?;
        let read = params
            .iter()
            .fold(cx.get(path), |r, (k, v)| r.query(k, v.clone()))
            .send()
            .await?
            .expect(200, "GET /activities/profile after the matched If-Match")?;
        ensure!(
            read.json().ok().as_ref() == Some(&second),
            "the document should hold {second} after the PUT whose If-Match matched, got {}",
            excerpt(&read.text(), 200)
        );
    }
    // Clean-up; its answer is not what this check judges.
    let mut delete = cx.delete(path);
    for (name, value) in &params {
        delete = delete.query(name, value.clone());
    }
    delete.send().await?;
    Ok(())
}

async fn content_type_form_field_honoured(cx: Ctx) -> Verdict {
    let agent = cx.fx.agent().to_string();
    let activity = cx.fx.iri("activity");
    for (content_type, merged) in [("application/json", true), ("text/plain", false)] {
        let params = [
            ("activityId", activity.clone()),
            ("agent", agent.clone()),
            ("stateId", cx.fx.iri("state")),
        ];
        let address = |r: Request| {
            params
                .iter()
                .fold(r, |r, (name, value)| r.query(name, value.clone()))
        };
        let mut fields = params.to_vec();
        fields.push(("content", json!({ "x": "foo" }).to_string()));
        fields.push(("Content-Type", content_type.to_owned()));
        alternate(&cx, "activities/state", "PUT", &fields)
            .send()
            .await?
            .expect(
                204,
                &format!("POST /activities/state?method=PUT with the form field Content-Type: {content_type}"),
            )?;
        // A JSON POST merges only into a document stored as application/json
        // (Communication 2.2.s8.b1).
        let what = format!(
            "POST /activities/state of a JSON object onto the document PUT with the form field \
             Content-Type: {content_type}"
        );
        let response = address(cx.post("activities/state"))
            .json(&json!({ "y": "bar" }))
            .send()
            .await?;
        if merged {
            response.expect(204, &what)?;
            let read = address(cx.get("activities/state"))
                .send()
                .await?
                .expect(200, "GET /activities/state after the merge")?;
            let expected = json!({ "x": "foo", "y": "bar" });
            ensure!(
                read.json().ok().as_ref() == Some(&expected),
                "{what}: expected the merged document {expected}, got {}",
                excerpt(&read.text(), 200)
            );
        } else {
            response.expect(400, &what)?;
        }
        // Clean-up; its answer is not what this check judges.
        address(cx.delete("activities/state")).send().await?;
    }
    Ok(())
}

async fn refused_in_2_0(cx: Ctx) -> Verdict {
    let (id, statement) = statement_with_id(&cx);
    let mut fields = vec![("statementId", id.clone())];
    fields.extend(json_content(&statement));
    // The usual headers stay in place, so the method parameter is the only thing amiss.
    let what = "POST /statements?method=PUT with a form (xAPI 2.0)";
    let response = cx
        .post("statements")
        .query("method", "PUT")
        .body(FORM, form_encode(&fields))
        .send()
        .await?;
    expect_400(response, what)?;
    ensure_not_stored(&cx, &id, what).await?;
    let what = "POST /statements?method=GET with a form (xAPI 2.0)";
    let response = cx
        .post("statements")
        .query("method", "GET")
        .body(FORM, form_encode(&[("limit", "1".to_owned())]))
        .send()
        .await?;
    expect_400(response, what)
}

async fn only_as_post(cx: Ctx) -> Verdict {
    let (id, statement) = statement_with_id(&cx);
    let mut fields = vec![
        ("statementId", id.clone()),
        ("X-Experience-API-Version", cx.version.as_str().to_owned()),
    ];
    fields.extend(json_content(&statement));
    let what = "PUT /statements?method=PUT with a form";
    let response = cx
        .put("statements")
        .query("method", "PUT")
        .without_version()
        .body(FORM, form_encode(&fields))
        .send()
        .await?;
    response.expect_any(&[400, 405], what)?;
    ensure_not_stored(&cx, &id, what).await?;

    let what = "GET /statements?method=GET";
    let response = cx.get("statements").query("method", "GET").send().await?;
    response.expect_any(&[400, 405], what)?;
    Ok(())
}

async fn other_query_parameters(cx: Ctx) -> Verdict {
    let (id, statement) = statement_with_id(&cx);
    let mut fields = vec![("statementId", id.clone())];
    fields.extend(json_content(&statement));
    let what = "POST /statements?method=PUT&statementId=… with a form";
    let response = alternate(&cx, "statements", "PUT", &fields)
        .query("statementId", &id)
        .send()
        .await?;
    expect_400(response, what)?;
    ensure_not_stored(&cx, &id, what).await
}

async fn content_only_in_form_field(cx: Ctx) -> Verdict {
    let (id, statement) = statement_with_id(&cx);
    let cases: [(&str, Request); 3] = [
        (
            "POST /statements?method=PUT whose form has no content field",
            alternate(&cx, "statements", "PUT", &[("statementId", id.clone())]),
        ),
        (
            "POST /statements?method=PUT whose form carries the statement in a field named \
             `statement`",
            alternate(
                &cx,
                "statements",
                "PUT",
                &[
                    ("statementId", id.clone()),
                    ("statement", statement.to_string()),
                    ("Content-Type", "application/json".to_owned()),
                ],
            ),
        ),
        (
            "POST /statements?method=PUT with a raw JSON body declared as a form",
            cx.post("statements").query("method", "PUT").body(
                FORM,
                json!({ "statementId": id, "content": statement }).to_string(),
            ),
        ),
    ];
    for (what, request) in cases {
        expect_400(request.send().await?, what)?;
        ensure_not_stored(&cx, &id, what).await?;
    }
    Ok(())
}

async fn content_is_utf8(cx: Ctx) -> Verdict {
    let (id, mut statement) = statement_with_id(&cx);
    statement["actor"]["name"] = json!("Zoë Ångström 学習者 🎓");
    statement["object"]["definition"]["name"] = json!({
        "ja-JP": "適合性テスト",
        "el-GR": "Δοκιμή συμμόρφωσης"
    });
    let mut fields = vec![("statementId", id.clone())];
    fields.extend(json_content(&statement));
    alternate(&cx, "statements", "PUT", &fields)
        .send()
        .await?
        .expect(204, "POST /statements?method=PUT with non-ASCII content")?;
    let stored = common::get_statement(&cx, &id).await?;
    ensure_same_statement(
        &statement,
        &stored,
        "the non-ASCII statement PUT through the form",
    )
    .map_err(|f| Failure::new(format!("{f} (the content was not read as UTF-8)")))
}

#[cfg(test)]
mod tests {
    use super::form_encode;

    #[test]
    fn form_encoding_escapes_everything_reserved() {
        let encoded = form_encode(&[
            ("a b", "x&y=z".to_owned()),
            ("content", "{\"é\":1}".to_owned()),
        ]);
        assert_eq!(encoded, "a%20b=x%26y%3Dz&content=%7B%22%C3%A9%22%3A1%7D");
    }
}
