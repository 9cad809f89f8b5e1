//! Every check can fail: the conformance suite runs against a stand-in LRS that forwards to
//! the gateway but breaks one requirement (a mutant: a header dropped, a parameter
//! ignored, a status changed, an invalid statement let through). For each mutant at least
//! one check must fail, and every failing check must name a requirement the mutant breaks —
//! so each check tests what it claims, and nothing else.

use std::sync::RwLock;

use actix_web::web::{self, Bytes, Data};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use lrs_conformance::report::Outcome;
use lrs_conformance::{Auth, Config, XapiVersion};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{TestApp, KEY, SECRET};

/// A request on its way to the gateway; `path` is below `/xapi`.
struct Request {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
}

/// An answer on its way back to the suite.
struct Response {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Request {
    fn is(&self, method: Method, path: &str) -> bool {
        self.method == method && self.path == path
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn drop_param(&mut self, name: &str) {
        self.query.retain(|(k, _)| k != name);
    }

    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    fn set_json(&mut self, value: &Value) {
        self.body = Bytes::from(value.to_string());
    }
}

impl Response {
    fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    fn set_json(&mut self, value: &Value) {
        self.body = Bytes::from(value.to_string());
    }

    fn drop_header(&mut self, name: &str) {
        self.headers.remove(name);
    }
}

/// One requirement broken on purpose. `before` may rewrite the request or answer in the
/// gateway's place; `after` rewrites the gateway's answer.
struct Mutant {
    name: &'static str,
    version: XapiVersion,
    /// Requirement ids (of `version`'s catalogue) the mutant breaks.
    breaks: &'static [&'static str],
    /// Checks of other requirements that rely on the broken behaviour to test theirs
    /// (e.g. a check of StatementRef matching that queries with the activity filter): a
    /// check id, or an area's prefix such as `concurrency.`.
    also: &'static [&'static str],
    before: fn(&mut Request) -> Option<Response>,
    after: fn(&Request, &mut Response),
}

fn pass_request(_: &mut Request) -> Option<Response> {
    None
}

fn pass_response(_: &Request, _: &mut Response) {}

/// An answer made up by the stand-in, in the version the request asked for.
fn answer(q: &Request, status: u16, body: Value) -> Option<Response> {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    let version = q
        .headers
        .get("x-experience-api-version")
        .cloned()
        .unwrap_or(HeaderValue::from_static("1.0.3"));
    headers.insert("x-experience-api-version", version);
    Some(Response {
        status,
        headers,
        body: Bytes::from(body.to_string()),
    })
}

/// Every statement of a statements answer (a StatementResult or a single statement).
fn each_statement(r: &mut Response, change: impl Fn(&mut Value)) {
    let Some(mut body) = r.json() else { return };
    if let Some(list) = body.get_mut("statements").and_then(Value::as_array_mut) {
        list.iter_mut().for_each(&change);
    } else if body.get("id").is_some() {
        change(&mut body);
    } else {
        return;
    }
    r.set_json(&body);
}

fn statements_get(q: &Request) -> bool {
    q.is(Method::GET, "statements")
}

fn is_document(path: &str) -> bool {
    ["activities/state", "activities/profile", "agents/profile"].contains(&path)
}

/// Drops a statements-query parameter when it holds a well-formed value, so the gateway
/// answers as if it ignored the filter (a malformed value still reaches it and is refused).
fn ignore_param(q: &mut Request, name: &str) {
    let single = q.param("statementId").is_some() || q.param("voidedStatementId").is_some();
    if !statements_get(q) || single {
        return;
    }
    if q.param(name).is_some_and(|v| well_formed(name, v)) {
        q.drop_param(name);
    }
}

/// Whether a query parameter's value is one the LRS must accept.
fn well_formed(name: &str, value: &str) -> bool {
    let hyphenated_uuid = |v: &str| v.len() == 36 && uuid::Uuid::parse_str(v).is_ok();
    match name {
        "limit" => value.parse::<u32>().is_ok(),
        "ascending" | "related_activities" | "related_agents" | "attachments" => {
            value == "true" || value == "false"
        }
        "format" => ["ids", "exact", "canonical"].contains(&value),
        "agent" => serde_json::from_str::<Value>(value).is_ok_and(|a| {
            let ifis = ["mbox", "mbox_sha1sum", "openid", "account"];
            let mailto = a
                .get("mbox")
                .is_none_or(|m| m.as_str().is_some_and(|m| m.starts_with("mailto:")));
            mailto && ifis.iter().filter(|ifi| a.get(**ifi).is_some()).count() == 1
        }),
        "registration" => hyphenated_uuid(value),
        "verb" | "activity" => value.contains(':'),
        "since" | "until" => {
            !value.ends_with("-00:00") && chrono::DateTime::parse_from_rfc3339(value).is_ok()
        }
        _ => true,
    }
}

/// Every string under a key named `key`, anywhere in a JSON value.
fn rewrite_strings(value: &mut Value, key: &str, change: &dyn Fn(&str) -> Option<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                match v {
                    Value::String(text) if k == key => {
                        if let Some(new) = change(text) {
                            *text = new;
                        }
                    }
                    other => rewrite_strings(other, key, change),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| rewrite_strings(v, key, change)),
        _ => {}
    }
}

/// Lets a statement write through after repairing what breaks a rule, so the LRS accepts
/// what it should have refused.
fn repair_statements(q: &mut Request, key: &str, change: &dyn Fn(&str) -> Option<String>) {
    let writes = q.path == "statements" && (q.method == Method::POST || q.method == Method::PUT);
    if let Some(mut body) = q.json().filter(|_| writes) {
        rewrite_strings(&mut body, key, change);
        q.set_json(&body);
    }
}

macro_rules! drop_param_mutant {
    ($name:expr, $version:expr, $param:expr, $breaks:expr) => {
        Mutant::new($name, $version, $breaks).before(|q| {
            ignore_param(q, $param);
            None
        })
    };
}

impl Mutant {
    fn new(name: &'static str, version: XapiVersion, breaks: &'static [&'static str]) -> Self {
        Mutant {
            name,
            version,
            breaks,
            also: &[],
            before: pass_request,
            after: pass_response,
        }
    }

    fn before(mut self, f: fn(&mut Request) -> Option<Response>) -> Self {
        self.before = f;
        self
    }

    fn after(mut self, f: fn(&Request, &mut Response)) -> Self {
        self.after = f;
        self
    }

    /// Whether the check is declared as relying on the broken behaviour.
    fn relies(&self, check: &str) -> bool {
        self.also
            .iter()
            .any(|a| check == *a || (a.ends_with('.') && check.starts_with(a)))
    }

    fn also(mut self, checks: &'static [&'static str]) -> Self {
        self.also = checks;
        self
    }
}

fn mutants() -> Vec<Mutant> {
    use XapiVersion::{V1_0_3 as V1, V2_0_0 as V2};
    vec![
        // --- headers and About ---
        Mutant::new(
            "no version header on answers",
            V1,
            &["Communication 3.3.s3.b1"],
        )
        .after(|_, r| r.drop_header("x-experience-api-version"))
        .also(&["headers.version-is-latest-patch"]),
        Mutant::new(
            "an old version header on answers",
            V2,
            &["4.1.7#1", "4.1.7#2"],
        )
        .after(|_, r| {
            r.headers.insert(
                "x-experience-api-version",
                HeaderValue::from_static("1.0.0"),
            );
        }),
        Mutant::new(
            "requests without a version header accepted",
            V1,
            &["Communication 3.3.s3.b4.1", "Communication 3.3.s3.b7"],
        )
        .before(|q| {
            if !q.headers.contains_key("x-experience-api-version") && q.path != "about" {
                q.headers.insert(
                    "x-experience-api-version",
                    HeaderValue::from_static("1.0.3"),
                );
            }
            None
        }),
        Mutant::new(
            "About without its version list",
            V1,
            &[
                "Communication 2.8.s4",
                "Communication 2.8.s4.table1.row1",
                "Communication B.s1.table1.row7",
                "Communication 2.8.s5.b1",
                "Communication 2.8.s5.b1.b1",
            ],
        )
        .after(|q, r| {
            if q.path == "about" {
                r.set_json(&json!({ "extensions": {} }));
            }
        }),
        Mutant::new(
            "About behind authentication",
            V1,
            &["Communication 2.8.s5.b3"],
        )
        .before(|q| {
            (q.path == "about" && !q.headers.contains_key("authorization"))
                .then(|| answer(q, 401, json!({ "error": "authentication required" })))?
        }),
        Mutant::new(
            "unknown parameters ignored",
            V1,
            &["Communication 3.2.s3.b7", "Communication 3.2.s3.b8"],
        )
        .before(|q| {
            q.query
                .retain(|(k, _)| KNOWN_PARAMETERS.contains(&k.as_str()));
            None
        }),
        // --- statements ---
        Mutant::new(
            "stored left out of statements",
            V1,
            &[
                "Data 2.4.8.s3.b2",
                "Data 2.4.s1.table1.row8",
                "Data 2.4.8.s2",
            ],
        )
        .after(|q, r| {
            if statements_get(q) {
                each_statement(r, |s| {
                    s.as_object_mut().map(|o| o.remove("stored"));
                });
            }
        })
        .also(&[
            "queries.newest-stored-first",
            "queries.ascending",
            "queries.since",
            "queries.until",
            "queries.statement-ref-matches-target",
            "queries.last-modified-single",
            "statements.timestamp-defaults-to-stored",
            "statements.lrs-timestamps-rfc3339",
        ]),
        Mutant::new(
            "authority left out of statements",
            V1,
            &[
                "Data 2.4.9.s3.b1",
                "Data 2.4.9.s3.b2",
                "Data 2.4.9.s3.b3",
                "Data 2.4.9.s3.b4",
            ],
        )
        .after(|q, r| {
            if statements_get(q) {
                each_statement(r, |s| {
                    s.as_object_mut().map(|o| o.remove("authority"));
                });
            }
        })
        .also(&["authentication.basic-user-is-authority"]),
        Mutant::new(
            "a conflicting statement id accepted",
            V1,
            &[
                "Communication 2.1.1.s2.b3",
                "Communication 2.1.2.s2.b5",
                "Data 2.3.1.s9.b2",
            ],
        )
        .after(|q, r| {
            if q.path == "statements" && r.status == 409 {
                r.status = if q.method == Method::PUT { 204 } else { 200 };
            }
        }),
        Mutant::new("duplicate ids in a batch accepted", V2, &["4.1.6.1#10"]).before(|q| {
            let batch = q
                .is(Method::POST, "statements")
                .then(|| q.json())
                .flatten()?;
            let ids: Vec<&str> = batch
                .as_array()?
                .iter()
                .filter_map(|s| s.get("id").and_then(Value::as_str))
                .collect();
            let unique: std::collections::HashSet<&&str> = ids.iter().collect();
            (unique.len() < ids.len()).then(|| answer(q, 200, json!(ids)))?
        }),
        Mutant::new(
            "an mbox without mailto: accepted",
            V1,
            &["Data 2.4.2.3.s3.table1.row1", "Data 2.2.s4.b1.b4"],
        )
        .before(|q| {
            repair_statements(q, "mbox", &|m| {
                (!m.starts_with("mailto:")).then(|| format!("mailto:{m}"))
            });
            None
        }),
        Mutant::new(
            "a verb id that is not an IRI accepted",
            V1,
            &["Data 2.4.3.s3.table1.row1"],
        )
        .before(|q| {
            let writes = q.path == "statements" && q.method == Method::POST;
            if let Some(mut body) = q.json().filter(|_| writes) {
                let fix = |s: &mut Value| {
                    if let Some(id) = s.pointer_mut("/verb/id") {
                        if id.as_str().is_some_and(|v| !v.contains(':')) {
                            *id = json!("http://example.com/verbs/repaired");
                        }
                    }
                };
                match body.as_array_mut() {
                    Some(list) => list.iter_mut().for_each(fix),
                    None => fix(&mut body),
                }
                q.set_json(&body);
            }
            None
        })
        .also(&[
            "headers.error-explains",
            "statements.batch-all-or-nothing",
            "formatting.iri-scheme-required",
        ]),
        // --- queries ---
        drop_param_mutant!(
            "limit ignored",
            V1,
            "limit",
            &[
                "Communication 2.1.3.s1.table1.row11",
                "Data 2.5.s2.table1.row1",
                "Data 2.5.s2.table1.row2",
                "Data 2.5.s3.b3",
            ]
        ),
        drop_param_mutant!(
            "ascending ignored",
            V1,
            "ascending",
            &["Communication 2.1.3.s1.table1.row14"]
        ),
        drop_param_mutant!(
            "verb filter ignored",
            V1,
            "verb",
            &["Communication 2.1.3.s1.table1.row4"]
        )
        .also(&["voiding.voided-hidden-from-queries"]),
        drop_param_mutant!(
            "activity filter ignored",
            V1,
            "activity",
            &[
                "Communication 2.1.3.s1.table1.row5",
                "Communication 2.1.3.s1.table1.row7",
                "Communication 2.1.3.s3",
            ]
        )
        .also(&[
            "statements.object-without-type-is-activity",
            "formatting.iri-simple-comparison",
            "queries.",
            "voiding.",
        ]),
        drop_param_mutant!(
            "agent filter ignored",
            V1,
            "agent",
            &[
                "Communication 2.1.3.s1.table1.row3",
                "Communication 2.1.3.s1.table1.row8",
            ]
        )
        .also(&["queries.", "voiding."]),
        drop_param_mutant!(
            "registration filter ignored",
            V1,
            "registration",
            &["Communication 2.1.3.s1.table1.row6"]
        ),
        drop_param_mutant!(
            "related_activities ignored",
            V1,
            "related_activities",
            &["Communication 2.1.3.s1.table1.row7"]
        ),
        drop_param_mutant!(
            "related_agents ignored",
            V1,
            "related_agents",
            &["Communication 2.1.3.s1.table1.row8"]
        ),
        drop_param_mutant!(
            "since ignored",
            V1,
            "since",
            &["Communication 2.1.3.s1.table1.row9"]
        )
        .also(&["queries.statement-ref-matches-target"]),
        drop_param_mutant!("until ignored", V2, "until", &["4.1.6.1#22"]),
        drop_param_mutant!(
            "format ignored",
            V1,
            "format",
            &[
                "Communication 2.1.3.s1.table1.row12",
                "Data 2.4.3.s6.b2",
                "Data 2.4.3.s6.b3",
                "Communication 2.1.3.s4.b1",
                "Communication 2.1.3.s4.b3",
                "Communication 2.1.3.s4.b4",
                "Communication 2.1.3.s4.b5",
            ]
        ),
        Mutant::new(
            "more links left out",
            V1,
            &[
                "Data 2.5.s2.table1.row1",
                "Data 2.5.s2.table1.row2",
                "Data 2.5.s3.b3",
            ],
        )
        .after(|q, r| {
            if statements_get(q) {
                if let Some(mut body) = r.json().filter(|b| b.get("statements").is_some()) {
                    body["more"] = json!("");
                    r.set_json(&body);
                }
            }
        })
        .also(&["queries.limit"]),
        Mutant::new(
            "statements served oldest first",
            V2,
            &["4.1.6.1#13", "4.1.6.1#27", "4.1.6.1#14"],
        )
        .after(|q, r| {
            if statements_get(q) && q.param("ascending").is_none() {
                if let Some(mut body) = r.json() {
                    if let Some(list) = body.get_mut("statements").and_then(Value::as_array_mut) {
                        list.reverse();
                        r.set_json(&body);
                    }
                }
            }
        }),
        Mutant::new(
            "both statementId and voidedStatementId accepted",
            V1,
            &["Communication 2.1.3.s2.b1"],
        )
        .before(|q| {
            if statements_get(q) && q.param("statementId").is_some() {
                q.drop_param("voidedStatementId");
            }
            None
        }),
        Mutant::new("filters beside statementId accepted", V2, &["4.1.6.1#29"]).before(|q| {
            if statements_get(q)
                && q.param("statementId").is_some()
                && q.param("voidedStatementId").is_none()
            {
                q.query.retain(|(k, _)| {
                    ["statementId", "format", "attachments"].contains(&k.as_str())
                });
            }
            None
        }),
        Mutant::new(
            "no Consistent-Through header",
            V1,
            &["Communication 2.1.3.s2.b5"],
        )
        .after(|q, r| {
            if q.path == "statements" {
                r.drop_header("x-experience-api-consistent-through");
            }
        }),
        Mutant::new("no Last-Modified header", V2, &["4.1.6.1#36"]).after(|q, r| {
            if statements_get(q) {
                r.drop_header("last-modified");
            }
        }),
        Mutant::new(
            "attachments=true ignored",
            V2,
            &["4.1.6.1#34", "4.1.6.1#35"],
        )
        .before(|q| {
            ignore_param(q, "attachments");
            if statements_get(q) && q.param("attachments") == Some("true") {
                q.drop_param("attachments");
            }
            None
        })
        .also(&["attachments.", "signatures."]),
        // --- voiding ---
        Mutant::new(
            "voiding statements void nothing",
            V1,
            &[
                "Communication 2.1.4.s1.b1",
                "Data 2.3.2.s2.b3",
                "Communication 2.1.3.s1.table1.row2",
            ],
        )
        .before(|q| {
            let writes = q.path == "statements" && q.method != Method::GET;
            if let Some(mut body) = q.json().filter(|_| writes) {
                let unvoid = |s: &mut Value| {
                    let voiding = s.pointer("/verb/id").and_then(Value::as_str) == Some(VOIDED)
                        && s.pointer("/object/objectType").and_then(Value::as_str)
                            == Some("StatementRef");
                    if voiding {
                        s["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/experienced");
                    }
                };
                match body.as_array_mut() {
                    Some(list) => list.iter_mut().for_each(unvoid),
                    None => unvoid(&mut body),
                }
                q.set_json(&body);
            }
            None
        })
        .also(&["voiding."]),
        // --- documents and concurrency ---
        Mutant::new(
            "no ETag on documents",
            V1,
            &[
                "Communication 3.1.s4.b1",
                "Communication 3.1.s4.b2",
                "Communication 3.1.s4.b4",
            ],
        )
        .after(|q, r| {
            if is_document(&q.path) {
                r.drop_header("etag");
            }
        }),
        Mutant::new("ETags not quoted", V1, &["Communication 3.1.s4.b4"]).after(|q, r| {
            if is_document(&q.path) {
                let bare = r
                    .headers
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.trim_matches('"').to_owned());
                if let Some(value) = bare.and_then(|b| HeaderValue::from_str(&b).ok()) {
                    r.headers.insert("etag", value);
                }
            }
        }),
        Mutant::new(
            "If-Match ignored",
            V1,
            &[
                "Communication 3.1.s4.b5",
                "Communication 3.1.s4.b9",
                "Communication 3.1.s4.b10",
                "Communication 3.2.s2.b6",
            ],
        )
        .before(|q| {
            if is_document(&q.path) && q.headers.remove("if-match").is_some() {
                q.headers.insert("if-match", HeaderValue::from_static("*"));
            }
            None
        })
        .also(&["concurrency."]),
        Mutant::new(
            "If-None-Match ignored",
            V1,
            &[
                "Communication 3.1.s4.b6",
                "Communication 3.1.s4.b9",
                "Communication 3.1.s4.b10",
                "Communication 3.2.s2.b6",
            ],
        )
        .before(|q| {
            if is_document(&q.path) {
                q.headers.remove("if-none-match");
            }
            None
        })
        .also(&["concurrency."]),
        Mutant::new(
            "a profile overwritten without a precondition",
            V1,
            &[
                "Communication 3.1.s4.b13",
                "Communication 3.1.s4.b14",
                "Communication 3.1.s4.b15",
                "Communication 3.2.s2.b5",
            ],
        )
        .before(|q| {
            let plain =
                !q.headers.contains_key("if-match") && !q.headers.contains_key("if-none-match");
            if q.method == Method::PUT && q.path.ends_with("profile") && plain {
                q.headers.insert("if-match", HeaderValue::from_static("*"));
            }
            None
        }),
        Mutant::new(
            "POST replaces a document instead of merging",
            V1,
            &[
                "Communication 2.2.s7",
                "Communication 2.2.s7.b2",
                "Communication 2.2.s7.b3",
            ],
        )
        .before(|q| {
            let json = q
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| t.starts_with("application/json"));
            let plain =
                !q.headers.contains_key("if-match") && !q.headers.contains_key("if-none-match");
            let merge =
                q.method == Method::POST && is_document(&q.path) && q.param("method").is_none();
            if merge && json && plain && q.json().is_some_and(|b| b.is_object()) {
                q.method = Method::PUT;
                q.headers.insert("if-match", HeaderValue::from_static("*"));
            }
            None
        })
        .also(&["documents."]),
        Mutant::new(
            "document id lists always empty",
            V1,
            &[
                "Communication 2.3.s4",
                "Communication 2.6.s4",
                "Communication 2.7.s4",
            ],
        )
        .after(|q, r| {
            let list = ["stateId", "profileId"]
                .iter()
                .all(|p| q.param(p).is_none());
            if q.method == Method::GET && is_document(&q.path) && list && r.status == 200 {
                r.set_json(&json!([]));
            }
        })
        .also(&["documents."]),
        Mutant::new(
            "since ignored on document id lists",
            V1,
            &[
                "Communication 2.3.s4.table1.row4",
                "Communication 2.6.s4.table1.row2",
                "Communication 2.7.s4.table1.row2",
            ],
        )
        .before(|q| {
            let since = q.param("since").map(|v| well_formed("since", v));
            if q.method == Method::GET && is_document(&q.path) && since == Some(true) {
                q.drop_param("since");
            }
            None
        }),
        Mutant::new(
            "DELETE of all state answers 200",
            V1,
            &["Communication 2.3.s5", "Communication 2.3.s3"],
        )
        .after(|q, r| {
            if q.method == Method::DELETE && q.path == "activities/state" && r.status == 204 {
                r.status = 200;
            }
        }),
        // --- activities and agents ---
        Mutant::new(
            "Activities resource unknown",
            V1,
            &["Communication 2.5.s1", "Communication B.s1.table1.row4"],
        )
        .after(|q, r| {
            if q.path == "activities" && r.status == 200 {
                r.status = 404;
                r.set_json(&json!({ "error": "not found" }));
            }
        })
        .also(&["activities.", "alternate-syntax.activities-and-agents"]),
        Mutant::new(
            "a Person answered as an Agent",
            V1,
            &["Communication 2.4.s2", "Communication 2.4.s5.table1.row1"],
        )
        .after(|q, r| {
            if q.path == "agents" {
                if let Some(mut person) = r.json().filter(|p| p.get("objectType").is_some()) {
                    person["objectType"] = json!("Agent");
                    r.set_json(&person);
                }
            }
        }),
        Mutant::new(
            "a Person's names not in an array",
            V1,
            &[
                "Communication 2.4.s5.table1.row2",
                "Communication 2.4.s6.b1",
            ],
        )
        .after(|q, r| {
            if q.path == "agents" {
                if let Some(mut person) = r.json() {
                    if let Some(first) = person.pointer("/name/0").cloned() {
                        person["name"] = first;
                        r.set_json(&person);
                    }
                }
            }
        }),
        // --- authentication ---
        Mutant::new(
            "requests without credentials let in",
            V1,
            &["Communication 3.2.s2.b2"],
        )
        .before(|q| {
            if !q.headers.contains_key("authorization") {
                let basic = format!(
                    "Basic {}",
                    base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        format!("{KEY}:{SECRET}")
                    )
                );
                if let Ok(value) = HeaderValue::from_str(&basic) {
                    q.headers.insert("authorization", value);
                }
            }
            None
        }),
        // --- alternate syntax ---
        Mutant::new(
            "the alternate request syntax refused",
            V1,
            &[
                "Communication 1.3.s3.b15",
                "Communication 1.3.s3.b2",
                "Communication 1.3.s3.b1",
            ],
        )
        .before(|q| {
            (q.method == Method::POST && q.param("method").is_some())
                .then(|| answer(q, 400, json!({ "error": "no alternate syntax" })))?
        }),
    ]
}

const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";

/// The parameters some xAPI resource takes; anything else is what the suite sends to see
/// it refused.
const KNOWN_PARAMETERS: &[&str] = &[
    "statementId",
    "voidedStatementId",
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "format",
    "attachments",
    "ascending",
    "activityId",
    "stateId",
    "profileId",
    "method",
    "more",
];

/// The stand-in: forwards every request to the gateway through the active mutant.
struct StandIn {
    gateway: String,
    client: reqwest::Client,
    mutant: RwLock<Option<usize>>,
    mutants: Vec<Mutant>,
}

async fn forward(req: HttpRequest, body: Bytes, stand_in: Data<StandIn>) -> HttpResponse {
    let path = req.path().trim_start_matches("/xapi/").to_owned();
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let mut headers = HeaderMap::new();
    for (name, value) in req.headers() {
        if !["host", "content-length", "connection"].contains(&name.as_str()) {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_str().as_bytes()),
                HeaderValue::from_bytes(value.as_bytes()),
            ) {
                headers.append(n, v);
            }
        }
    }
    let method = Method::from_bytes(req.method().as_str().as_bytes()).unwrap_or(Method::GET);
    let mut request = Request {
        method,
        path,
        query,
        headers,
        body,
    };
    let mutant = stand_in
        .mutant
        .read()
        .ok()
        .and_then(|m| *m)
        .map(|i| &stand_in.mutants[i]);
    let early = mutant.and_then(|m| (m.before)(&mut request));
    let mut response = match early {
        Some(response) => response,
        None => {
            let query = serde_urlencoded::to_string(&request.query).unwrap_or_default();
            let url = format!("{}/xapi/{}?{query}", stand_in.gateway, request.path);
            let sent = stand_in
                .client
                .request(request.method.clone(), url)
                .headers(request.headers.clone())
                .body(request.body.clone())
                .send()
                .await;
            match sent {
                Ok(r) => Response {
                    status: r.status().as_u16(),
                    headers: r.headers().clone(),
                    body: r.bytes().await.unwrap_or_default(),
                },
                Err(e) => return HttpResponse::BadGateway().body(e.to_string()),
            }
        }
    };
    if let Some(m) = mutant {
        (m.after)(&request, &mut response);
    }
    let status = actix_web::http::StatusCode::from_u16(response.status)
        .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY);
    let mut out = HttpResponse::build(status);
    for (name, value) in &response.headers {
        if !["content-length", "transfer-encoding", "connection"].contains(&name.as_str()) {
            out.append_header((name.as_str(), value.as_bytes()));
        }
    }
    out.body(response.body)
}

/// How one mutant fared.
struct Verdict {
    caught: bool,
    /// Checks newly failing (or warning) that name none of the broken requirements and are
    /// not declared as relying on the broken behaviour.
    stray: Vec<String>,
}

/// The checks that did not pass in a run of the suite at `stand_in`, with their messages.
async fn not_passing(
    stand_in: &str,
    version: XapiVersion,
) -> Vec<lrs_conformance::report::CheckResult> {
    let mut config = Config::new(format!("{stand_in}/xapi"), version);
    config.auth = Auth::Basic {
        user: KEY.into(),
        password: SECRET.into(),
    };
    let report = lrs_conformance::run(&config)
        .await
        .unwrap_or_else(|e| panic!("the xAPI {version} suite could not run: {e}"));
    report
        .checks
        .into_iter()
        .filter(|c| matches!(c.outcome, Outcome::Fail | Outcome::Warn))
        .collect()
}

/// A mutant is caught when a check of one of its requirements stops passing; a check
/// that was not passing without the mutant says nothing about it.
fn judge(
    mutant: &Mutant,
    baseline: &[lrs_conformance::report::CheckResult],
    run: Vec<lrs_conformance::report::CheckResult>,
) -> Verdict {
    let newly: Vec<_> = run
        .into_iter()
        .filter(|c| !baseline.iter().any(|b| b.id == c.id))
        .collect();
    let names_broken = |c: &lrs_conformance::report::CheckResult| {
        c.requirements
            .iter()
            .any(|r| mutant.breaks.contains(&r.as_str()))
    };
    Verdict {
        caught: newly.iter().any(names_broken),
        stray: newly
            .iter()
            .filter(|c| !names_broken(c) && !mutant.relies(&c.id))
            .map(|c| {
                let message = c.message.clone().unwrap_or_default();
                let short: String = message.chars().take(160).collect();
                format!("{} ({short})", c.id)
            })
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutant_is_caught_by_exactly_the_checks_of_its_requirements() {
    let app = TestApp::spawn().await;
    let stand_in = Data::new(StandIn {
        gateway: app.address.clone(),
        client: reqwest::Client::new(),
        mutant: RwLock::new(None),
        mutants: mutants(),
    });
    let shared = stand_in.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(shared.clone())
            .app_data(web::PayloadConfig::new(64 * 1024 * 1024))
            .default_service(web::to(forward))
    })
    .workers(2)
    .bind("127.0.0.1:0")
    .expect("bind the stand-in");
    let address = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());

    let total = stand_in.mutants.len();
    let mut baselines = Vec::new();
    for version in [XapiVersion::V1_0_3, XapiVersion::V2_0_0] {
        baselines.push((version, not_passing(&address, version).await));
    }
    let mut missed = Vec::new();
    for (i, mutant) in stand_in.mutants.iter().enumerate() {
        *stand_in.mutant.write().expect("lock") = Some(i);
        let run = not_passing(&address, mutant.version).await;
        let baseline = baselines
            .iter()
            .find(|(v, _)| *v == mutant.version)
            .map_or(&[][..], |(_, b)| b.as_slice());
        let verdict = judge(mutant, baseline, run);
        if !verdict.caught || !verdict.stray.is_empty() {
            missed.push(format!(
                "{} (xAPI {}): caught {}, newly failing checks outside its requirements: {:?}",
                mutant.name, mutant.version, verdict.caught, verdict.stray
            ));
        }
    }
    let caught = total - missed.len();
    println!("mutants caught: {caught} of {total}");
    assert!(
        missed.is_empty(),
        "mutants not caught exactly:\n{}",
        missed.join("\n")
    );
}
