//! Frameworks, tagging at ingest, rules, the activity catalog, retagging and IMS CASE
//! import/export through `/api/v1/`.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

use crate::helpers::{statement, TestApp};

const AGILE: &str = "https://skills.example.com/agile";
const LEAN: &str = "https://skills.example.com/lean";
const DEFAULT_COACHING: &str = "https://w3id.org/lrsgate/frameworks/wlp/aoe/coaching";

/// A company taxonomy with "Agile", as an analyst would import it.
fn company_skills(version: &str) -> Value {
    json!({
        "iri": "https://skills.example.com", "version": version, "title": "Example Corp skills",
        "items": [
            { "iri": "https://skills.example.com/ways", "name": "Ways of working", "kind": "cluster" },
            { "iri": AGILE, "code": "AG", "name": "Agile", "kind": "skill",
              "parent": "https://skills.example.com/ways",
              "aliases": ["agile methodology"], "keywords": ["scrum", "kanban"] },
            { "iri": LEAN, "code": "LN", "name": "Lean", "kind": "skill",
              "parent": "https://skills.example.com/ways",
              "relations": [{ "type": "related", "target": AGILE }] }
        ]
    })
}

struct Analyst<'a> {
    app: &'a TestApp,
    key: String,
    secret: String,
}

impl<'a> Analyst<'a> {
    async fn of(app: &'a TestApp, tenant: &str) -> Analyst<'a> {
        let (key, secret) = app
            .credential(tenant, &["all", "frameworks:write", "evidence:read"])
            .await;
        Analyst { app, key, secret }
    }

    fn api(&self, method: Method, path: &str) -> RequestBuilder {
        self.app
            .client
            .request(method, format!("{}/api/v1/{path}", self.app.address))
            .basic_auth(&self.key, Some(&self.secret))
    }

    async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
        let mut request = self.api(method, path);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post_statement(&self, statement: &Value) -> String {
        let response = self
            .app
            .xapi_as((&self.key, &self.secret), Method::POST, "statements")
            .json(statement)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200);
        let ids: Vec<String> = response.json().await.expect("ids");
        ids[0].clone()
    }

    /// (item, method) of each tag of a statement.
    async fn tags(&self, id: &str) -> BTreeSet<(String, String)> {
        let (status, tags) = self
            .send(Method::GET, &format!("statements/{id}/tags"), None)
            .await;
        assert_eq!(status, 200, "{tags}");
        tags.as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                (
                    t["item"].as_str().unwrap_or_default().to_owned(),
                    t["method"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// Starts a retag and waits for it; the statements whose tags changed.
    async fn retag(&self) -> u64 {
        let (status, job) = self.send(Method::POST, "tagging/retag", None).await;
        assert!(status == 202 || status == 200, "{job}");
        let id = job["id"].as_str().unwrap_or_default().to_owned();
        for _ in 0..200 {
            let (_, job) = self
                .send(Method::GET, &format!("tagging/jobs/{id}"), None)
                .await;
            match job["state"].as_str() {
                Some("succeeded") => return job["changed"].as_u64().unwrap_or(u64::MAX),
                Some("running") => tokio::time::sleep(Duration::from_millis(50)).await,
                _ => panic!("retag job: {job}"),
            }
        }
        panic!("the retag did not finish");
    }
}

fn pair(item: &str, method: &str) -> (String, String) {
    (item.to_owned(), method.to_owned())
}

fn course(id: &str, name: &str) -> Value {
    json!({
        "actor": { "mbox": "mailto:learner@example.com" },
        "verb": { "id": "http://adlnet.gov/expapi/verbs/completed" },
        "object": { "id": id, "definition": { "name": { "en-US": name } } }
    })
}

#[tokio::test]
async fn tags_are_readable_as_soon_as_the_post_returns() {
    let app = TestApp::spawn().await;
    let analyst = Analyst::of(&app, "default").await;
    let (status, created) = analyst
        .send(Method::POST, "frameworks", Some(&company_skills("1")))
        .await;
    assert_eq!(status, 201, "{created}");

    let text = analyst
        .post_statement(&course(
            "https://lms.example.com/c/1",
            "Scrum for Product Owners",
        ))
        .await;
    assert!(analyst.tags(&text).await.contains(&pair(AGILE, "text")));

    // Issue requirement: an item IRI as a context activity (`other`) or the object is explicit.
    let mut explicit = statement("learner@example.com", "attended", "team-offsite");
    explicit["context"] = json!({ "contextActivities": { "other": [{ "id": LEAN }] } });
    let explicit = analyst.post_statement(&explicit).await;
    let (_, tags) = analyst
        .send(Method::GET, &format!("statements/{explicit}/tags"), None)
        .await;
    assert_eq!(tags[0]["item"], LEAN);
    assert_eq!(tags[0]["name"], "Lean");
    assert_eq!(tags[0]["kind"], "skill");
    assert_eq!(tags[0]["framework"], "https://skills.example.com");
    assert_eq!(tags[0]["confidence"], 1.0);
    assert_eq!(tags[0]["method"], "explicit");

    // The shipped framework is there too: a coaching course gets its AOE.
    let coaching = analyst
        .post_statement(&course(
            "https://lms.example.com/c/2",
            "Coaching Conversations for New Managers",
        ))
        .await;
    assert!(analyst
        .tags(&coaching)
        .await
        .contains(&pair(DEFAULT_COACHING, "text")));

    let off_topic = analyst
        .post_statement(&course(
            "https://lms.example.com/c/3",
            "Excel: Pivot Tables in Depth",
        ))
        .await;
    assert!(analyst.tags(&off_topic).await.is_empty());
}

#[tokio::test]
async fn voiding_a_statement_removes_its_tags() {
    let app = TestApp::spawn().await;
    let analyst = Analyst::of(&app, "default").await;
    analyst
        .send(Method::POST, "frameworks", Some(&company_skills("1")))
        .await;
    let id = analyst
        .post_statement(&course("https://lms.example.com/c/9", "Kanban in Practice"))
        .await;
    assert!(analyst.tags(&id).await.contains(&pair(AGILE, "text")));
    analyst
        .post_statement(&json!({
            "actor": { "mbox": "mailto:admin@example.com" },
            "verb": { "id": "http://adlnet.gov/expapi/verbs/voided" },
            "object": { "objectType": "StatementRef", "id": id }
        }))
        .await;
    assert!(analyst.tags(&id).await.is_empty());
}

#[tokio::test]
async fn catalog_alignments_and_rules_tag_with_their_provenance() {
    let app = TestApp::spawn().await;
    let analyst = Analyst::of(&app, "default").await;
    analyst
        .send(Method::POST, "frameworks", Some(&company_skills("1")))
        .await;
    let lil = "https://www.linkedin.com/learning/lean-foundations";
    let (status, body) = analyst
        .send(
            Method::PUT,
            "catalog/activities",
            Some(&json!({ "activityId": lil,
                          "alignments": [{ "item": LEAN, "confidence": 0.8, "source": "linkedin-learning" }] })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = analyst
        .send(
            Method::PUT,
            "catalog/activities",
            Some(&json!({ "activityId": lil, "alignments": [{ "item": "https://nowhere.example/x" }] })),
        )
        .await;
    assert_eq!(
        (status, body["error"]["rule"].as_str()),
        (400, Some("known-item"))
    );

    // No definition in the statement: the catalog still knows the activity.
    let aligned = analyst
        .post_statement(&json!({
            "actor": { "mbox": "mailto:learner@example.com" },
            "verb": { "id": "http://adlnet.gov/expapi/verbs/completed" },
            "object": { "id": lil }
        }))
        .await;
    let (_, tags) = analyst
        .send(Method::GET, &format!("statements/{aligned}/tags"), None)
        .await;
    assert_eq!(
        (
            tags[0]["item"].as_str(),
            tags[0]["method"].as_str(),
            tags[0]["confidence"].as_f64()
        ),
        (Some(LEAN), Some("catalog"), Some(0.8))
    );
    assert_eq!(tags[0]["detail"], "linkedin-learning");

    let rule = json!({ "id": "ted-agile", "name": "TED talks on teams are Agile evidence",
                       "when": { "activity_id_prefix": "https://www.ted.com/talks/",
                                 "verb": "http://adlnet.gov/expapi/verbs/completed" },
                       "items": [AGILE], "confidence": 0.6 });
    let (status, body) = analyst
        .send(Method::POST, "tagging/rules", Some(&rule))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = analyst
        .send(Method::POST, "tagging/rules", Some(&rule))
        .await;
    assert_eq!(status, 409);
    let talk = analyst
        .post_statement(&course(
            "https://www.ted.com/talks/why-teams-work",
            "Why some teams work",
        ))
        .await;
    let (_, tags) = analyst
        .send(Method::GET, &format!("statements/{talk}/tags"), None)
        .await;
    assert_eq!(
        (tags[0]["method"].as_str(), tags[0]["rule"].as_str()),
        (Some("rule"), Some("ted-agile"))
    );
    let (status, body) = analyst
        .send(
            Method::POST,
            "tagging/rules",
            Some(&json!({ "id": "bad", "name": "x", "when": { "activity_id_pattern": "(" }, "items": [AGILE] })),
        )
        .await;
    assert_eq!(
        (status, body["error"]["pointer"].as_str()),
        (400, Some("/when/activity_id_pattern"))
    );
}

#[tokio::test]
async fn a_retag_after_a_rule_change_moves_exactly_the_affected_statements() {
    let app = TestApp::spawn().await;
    let analyst = Analyst::of(&app, "default").await;
    analyst
        .send(Method::POST, "frameworks", Some(&company_skills("1")))
        .await;
    let mut ids = Vec::new();
    for (i, prefix) in ["a", "a", "a", "b", "b"].iter().enumerate() {
        let id = format!("https://vendor-{prefix}.example.com/modules/{i}");
        ids.push(
            analyst
                .post_statement(&course(&id, &format!("Module {i}")))
                .await,
        );
    }
    // Untagged so far; the rule then covers vendor A's three statements.
    let rule = |prefix: &str| {
        json!({ "name": "Vendor modules", "when": { "activity_id_prefix": format!("https://vendor-{prefix}.example.com/") },
                "items": [LEAN] })
    };
    let (status, _) = analyst
        .send(Method::PUT, "tagging/rules/vendor", Some(&rule("a")))
        .await;
    assert_eq!(status, 201);
    assert_eq!(analyst.retag().await, 3);
    assert_eq!(
        analyst.tags(&ids[0]).await,
        BTreeSet::from([pair(LEAN, "rule")])
    );
    assert!(analyst.tags(&ids[3]).await.is_empty());
    assert_eq!(analyst.retag().await, 0, "a second retag changes nothing");

    let (status, _) = analyst
        .send(Method::PUT, "tagging/rules/vendor", Some(&rule("b")))
        .await;
    assert_eq!(status, 200);
    // Never a panic on input: a body that is not an object is a 400.
    let (status, error) = analyst
        .send(
            Method::PUT,
            "tagging/rules/vendor",
            Some(&json!([null, null])),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(error["error"]["rule"], "rule");
    assert_eq!(analyst.retag().await, 5, "three lose the tag, two gain it");
    assert!(analyst.tags(&ids[0]).await.is_empty());
    assert_eq!(
        analyst.tags(&ids[4]).await,
        BTreeSet::from([pair(LEAN, "rule")])
    );
}

#[tokio::test]
async fn frameworks_are_validated_versioned_and_switched_on_and_off() {
    let app = TestApp::spawn().await;
    let analyst = Analyst::of(&app, "default").await;
    let mut broken = company_skills("1");
    broken["items"][1]["parent"] = json!("https://skills.example.com/missing");
    let (status, body) = analyst
        .send(Method::POST, "frameworks", Some(&broken))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["pointer"], "/items/1/parent");
    assert_eq!(body["error"]["rule"], "parent-exists");

    let (_, v1) = analyst
        .send(Method::POST, "frameworks", Some(&company_skills("1")))
        .await;
    let (status, _) = analyst
        .send(Method::POST, "frameworks", Some(&company_skills("1")))
        .await;
    assert_eq!(status, 409, "the same IRI and version");
    let (status, _) = analyst
        .send(
            Method::POST,
            "frameworks?active=false",
            Some(&company_skills("2")),
        )
        .await;
    assert_eq!(status, 201);

    let (_, list) = analyst.send(Method::GET, "frameworks", None).await;
    let listed: BTreeSet<(String, String, bool)> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["iri"].as_str().unwrap_or_default().to_owned(),
                f["version"].as_str().unwrap_or_default().to_owned(),
                f["active"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        BTreeSet::from([
            (
                "https://w3id.org/lrsgate/frameworks/wlp".to_owned(),
                "1.0.0".to_owned(),
                true
            ),
            (
                "https://skills.example.com".to_owned(),
                "1".to_owned(),
                true
            ),
            (
                "https://skills.example.com".to_owned(),
                "2".to_owned(),
                false
            ),
        ])
    );

    let id = v1["id"].as_str().unwrap_or_default();
    let (status, _) = analyst
        .send(
            Method::PATCH,
            &format!("frameworks/{id}"),
            Some(&json!({ "active": false })),
        )
        .await;
    assert_eq!(status, 200);
    let untagged = analyst
        .post_statement(&course("https://lms.example.com/c/4", "Scrum Basics"))
        .await;
    assert!(
        analyst.tags(&untagged).await.is_empty(),
        "an inactive framework tags nothing"
    );

    let (status, _) = analyst
        .send(Method::DELETE, &format!("frameworks/{id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = analyst
        .send(Method::GET, &format!("frameworks/{id}"), None)
        .await;
    assert_eq!(status, 404);
}

/// (associationType, origin uri, destination uri) of every association of a package.
fn associations(package: &Value) -> BTreeSet<(String, String, String)> {
    package["CFAssociations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (
                s(&a["associationType"]),
                s(&a["originNodeURI"]["uri"]),
                s(&a["destinationNodeURI"]["uri"]),
            )
        })
        .collect()
}

/// What identifies each item of a package, in a comparable form.
fn items(package: &Value) -> BTreeSet<String> {
    package["CFItems"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            json!([
                i["uri"],
                i["fullStatement"],
                i["abbreviatedStatement"],
                i["humanCodingScheme"],
                i["CFItemType"],
                i["conceptKeywords"]
            ])
            .to_string()
        })
        .collect()
}

#[tokio::test]
async fn an_ims_case_package_round_trips() {
    let app = TestApp::spawn().await;
    let analyst = Analyst::of(&app, "default").await;
    let package: Value = serde_json::from_str(include_str!("../fixtures/case-package.json"))
        .expect("the fixture parses");
    let (status, created) = analyst
        .send(Method::POST, "frameworks", Some(&package))
        .await;
    assert_eq!(status, 201, "{created}");
    let framework = &created["framework"];
    assert_eq!(framework["version"], "2026.1");
    let agile = framework["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["name"] == "Agile")
        .cloned()
        .unwrap_or(Value::Null);
    // isChildOf builds the hierarchy; other associations become relations.
    assert_eq!(
        agile["parent"],
        "https://case.example.com/uri/0b7a9d52-1f3e-4a8c-b6d1-2e9f4c7a8b10"
    );
    assert_eq!(agile["kind"], "skill");
    assert!(agile["relations"].as_array().is_some_and(|r| r.contains(
        &json!({ "type": "exact_match", "target": "https://skills.example.org/agile-methods" })
    )));

    let id = created["id"].as_str().unwrap_or_default();
    let (status, exported) = analyst
        .send(Method::GET, &format!("frameworks/{id}?format=case"), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(exported["CFDocument"]["uri"], package["CFDocument"]["uri"]);
    assert_eq!(
        exported["CFDocument"]["title"],
        package["CFDocument"]["title"]
    );
    assert_eq!(items(&exported), items(&package));
    assert_eq!(associations(&exported), associations(&package));

    // The imported taxonomy tags: "Agile" is what the LXP asks about.
    let id = analyst
        .post_statement(&course(
            "https://lms.example.com/c/5",
            "Sprint Planning That Works",
        ))
        .await;
    assert!(analyst.tags(&id).await.contains(&pair(
        "https://case.example.com/uri/1c8b0e63-2a4f-4b9d-87e2-3fa05d8b9c21",
        "text"
    )));
}

#[tokio::test]
async fn competency_apis_need_their_scopes_and_stay_in_their_tenant() {
    let app = TestApp::spawn().await;
    let acme = Analyst::of(&app, "acme").await;
    let globex = Analyst::of(&app, "globex").await;
    let (_, created) = acme
        .send(Method::POST, "frameworks", Some(&company_skills("1")))
        .await;
    let framework = created["id"].as_str().unwrap_or_default();
    let statement = acme
        .post_statement(&course("https://lms.example.com/c/6", "Kanban Boards"))
        .await;

    for path in [
        format!("frameworks/{framework}"),
        format!("statements/{statement}/tags"),
    ] {
        let (status, _) = globex.send(Method::GET, &path, None).await;
        assert_eq!(status, 404, "{path} of another tenant");
    }
    let (status, _) = globex
        .send(Method::DELETE, &format!("frameworks/{framework}"), None)
        .await;
    assert_eq!(status, 404);

    let (key, secret) = app.credential("acme", &["xapi:write"]).await;
    let pusher = Analyst {
        app: &app,
        key,
        secret,
    };
    for (method, path) in [
        (Method::GET, "frameworks".to_owned()),
        (Method::POST, "tagging/retag".to_owned()),
        (Method::GET, format!("statements/{statement}/tags")),
    ] {
        let (status, _) = pusher.send(method, &path, None).await;
        assert_eq!(status, 403, "{path} with xapi:write");
    }
    let (key, secret) = app.credential("acme", &["frameworks:read"]).await;
    let reader = Analyst {
        app: &app,
        key,
        secret,
    };
    assert_eq!(reader.send(Method::GET, "frameworks", None).await.0, 200);
    assert_eq!(
        reader
            .send(Method::POST, "frameworks", Some(&company_skills("9")))
            .await
            .0,
        403
    );
}
