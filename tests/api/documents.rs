//! The document resources: State, Activity Profile, Agent Profile (Communication §2.3–2.6).

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{agent_param, TestApp};

const ACTIVITY: &str = "http://example.com/activities/course-1";

fn state_query(agent: &str, id: Option<&'static str>) -> Vec<(&'static str, String)> {
    let mut q = vec![
        ("activityId", ACTIVITY.to_owned()),
        ("agent", agent_param(agent)),
    ];
    if let Some(id) = id {
        q.push(("stateId", id.to_owned()));
    }
    q
}

fn pairs<'a>(q: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    q.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn state_documents_are_stored_byte_exact_and_merged_on_post() {
    let app = TestApp::spawn().await;
    let q = state_query("a@example.com", Some("bookmark"));

    let put = app
        .document(Method::PUT, "activities/state", &pairs(&q))
        .header("Content-Type", "application/octet-stream")
        .body(vec![0u8, 159, 146, 150])
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    let got = app
        .document(Method::GET, "activities/state", &pairs(&q))
        .send()
        .await
        .unwrap();
    assert_eq!(got.headers()["content-type"], "application/octet-stream");
    assert!(got.headers().contains_key("etag"));
    assert!(got.headers().contains_key("last-modified"));
    assert_eq!(got.bytes().await.unwrap().as_ref(), &[0u8, 159, 146, 150]);

    // POST merges JSON objects (Communication 2.3.2 / JSON Procedure with Requirements).
    let q = state_query("a@example.com", Some("progress"));
    for body in [
        json!({"page": 1, "score": 10}),
        json!({"page": 2, "done": false}),
    ] {
        let r = app
            .document(Method::POST, "activities/state", &pairs(&q))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    let merged: Value = app
        .document(Method::GET, "activities/state", &pairs(&q))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(merged, json!({"page": 2, "score": 10, "done": false}));

    // POST of a non-JSON body, or onto a non-JSON document, is 400.
    let bookmark = state_query("a@example.com", Some("bookmark"));
    let r = app
        .document(Method::POST, "activities/state", &pairs(&bookmark))
        .json(&json!({"a": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn state_ids_list_and_delete_all() {
    let app = TestApp::spawn().await;
    for id in ["one", "two"] {
        let mut q = state_query("a@example.com", None);
        q.push(("stateId", id.to_owned()));
        app.document(Method::PUT, "activities/state", &pairs(&q))
            .json(&json!({"id": id}))
            .send()
            .await
            .unwrap();
    }
    let all = state_query("a@example.com", None);
    let ids: Vec<String> = app
        .document(Method::GET, "activities/state", &pairs(&all))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ids, vec!["one", "two"]);
    let other_agent = state_query("b@example.com", None);
    let none: Vec<String> = app
        .document(Method::GET, "activities/state", &pairs(&other_agent))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(none.is_empty());

    let r = app
        .document(Method::DELETE, "activities/state", &pairs(&all))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let ids: Vec<String> = app
        .document(Method::GET, "activities/state", &pairs(&all))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(ids.is_empty());
    let q = state_query("a@example.com", Some("one"));
    assert_eq!(
        app.document(Method::GET, "activities/state", &pairs(&q))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn profile_writes_respect_etags() {
    let app = TestApp::spawn().await;
    let q = [("activityId", ACTIVITY), ("profileId", "settings")];
    let put = |body: Value| {
        app.document(Method::PUT, "activities/profile", &q)
            .json(&body)
    };

    // If-None-Match: * creates only when absent.
    assert_eq!(
        put(json!({"v": 1}))
            .header("If-None-Match", "*")
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        put(json!({"v": 2}))
            .header("If-None-Match", "*")
            .send()
            .await
            .unwrap()
            .status(),
        412
    );
    let etag = app
        .document(Method::GET, "activities/profile", &q)
        .send()
        .await
        .unwrap()
        .headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    // 1.0.3 Communication 3.1: a PUT to an existing document without a precondition is 409.
    assert_eq!(put(json!({"v": 3})).send().await.unwrap().status(), 409);
    // A stale If-Match is 412; the current one succeeds.
    assert_eq!(
        put(json!({"v": 4}))
            .header("If-Match", "\"stale\"")
            .send()
            .await
            .unwrap()
            .status(),
        412
    );
    assert_eq!(
        put(json!({"v": 5}))
            .header("If-Match", &etag)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let got: Value = app
        .document(Method::GET, "activities/profile", &q)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got, json!({"v": 5}));

    // xAPI 2.0 (4.1.4): a blind PUT over an existing document is 409, for State too.
    let v2 = app.with_version("2.0.0");
    let agent = agent_param("a@example.com");
    let state = [
        ("activityId", ACTIVITY),
        ("agent", agent.as_str()),
        ("stateId", "s"),
    ];
    let first = v2
        .document(Method::PUT, "activities/state", &state)
        .json(&json!({"v": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 204);
    let blind = v2
        .document(Method::PUT, "activities/state", &state)
        .json(&json!({"v": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(blind.status(), 409);
}

#[tokio::test]
async fn agent_profiles_are_kept_per_agent() {
    let app = TestApp::spawn().await;
    let a = agent_param("a@example.com");
    let b = agent_param("b@example.com");
    let put = app
        .document(
            Method::PUT,
            "agents/profile",
            &[("agent", a.as_str()), ("profileId", "prefs")],
        )
        .header("If-None-Match", "*")
        .json(&json!({"theme": "dark"}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    let other = app
        .document(
            Method::GET,
            "agents/profile",
            &[("agent", b.as_str()), ("profileId", "prefs")],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    let ids: Vec<String> = app
        .document(Method::GET, "agents/profile", &[("agent", a.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ids, vec!["prefs"]);
}

#[tokio::test]
async fn document_parameters_are_validated() {
    let app = TestApp::spawn().await;
    let bad_agent = [
        ("activityId", ACTIVITY),
        ("agent", "{\"name\": \"nobody\"}"),
        ("stateId", "x"),
    ];
    assert_eq!(
        app.document(Method::GET, "activities/state", &bad_agent)
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    let bad_activity = [("activityId", "not an iri"), ("profileId", "x")];
    assert_eq!(
        app.document(Method::GET, "activities/profile", &bad_activity)
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    let agent = agent_param("a@example.com");
    let no_activity = [("agent", agent.as_str()), ("stateId", "x")];
    assert_eq!(
        app.document(Method::GET, "activities/state", &no_activity)
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
}

/// 1.0.3 Communication 3.1.s4.b13 and IEEE 9274.1.1 4.1.4: a PUT without `If-Match` or
/// `If-None-Match` is refused (409) only when the document already exists; otherwise it
/// creates the document, as client libraries that create profiles with a plain PUT expect.
/// 1.0.3 (Communication 3.1.s3) lets State documents be replaced without either header.
#[tokio::test]
async fn a_plain_put_creates_a_document_and_conflicts_only_with_an_existing_one() {
    let agent = agent_param("plain@example.com");
    for version in ["1.0.3", "2.0.0"] {
        let app = TestApp::spawn().await.with_version(version);
        let resources: [(&str, Vec<(&str, &str)>); 3] = [
            (
                "activities/profile",
                vec![("activityId", ACTIVITY), ("profileId", "plain")],
            ),
            (
                "agents/profile",
                vec![("agent", agent.as_str()), ("profileId", "plain")],
            ),
            (
                "activities/state",
                vec![
                    ("activityId", ACTIVITY),
                    ("agent", agent.as_str()),
                    ("stateId", "plain"),
                ],
            ),
        ];
        for (resource, query) in &resources {
            let put = |body: Value| app.document(Method::PUT, resource, query).json(&body);
            let created = put(json!({"v": 1})).send().await.unwrap();
            assert_eq!(
                created.status(),
                204,
                "{version} {resource}: plain PUT creates"
            );

            let again = put(json!({"v": 2})).send().await.unwrap();
            let blind_replace_allowed = version == "1.0.3" && *resource == "activities/state";
            let (status, stored) = if blind_replace_allowed {
                (204, json!({"v": 2}))
            } else {
                (409, json!({"v": 1}))
            };
            assert_eq!(
                again.status(),
                status,
                "{version} {resource}: plain PUT again"
            );
            if status == 409 {
                assert!(
                    !again.text().await.unwrap().is_empty(),
                    "409 explains itself"
                );
            }
            let got: Value = app
                .document(Method::GET, resource, query)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(got, stored, "{version} {resource}: stored document");
        }
    }
}

/// With `strict_profile_preconditions`, the client rule of 1.0.3 Communication 3.1.s3.b1
/// (a profile PUT carries If-Match or If-None-Match) is enforced: a plain PUT of a new
/// profile is 400 naming the header. 2.0 states no such rule, so it still creates.
#[tokio::test]
async fn strict_mode_requires_a_precondition_on_1_0_3_profile_puts() {
    let fresh = [("activityId", ACTIVITY), ("profileId", "strict")];
    let app = TestApp::spawn_with(|s| s.strict_profile_preconditions = true).await;
    let refused = app
        .document(Method::PUT, "activities/profile", &fresh)
        .json(&json!({"v": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["pointer"], "If-None-Match");
    assert_eq!(body["error"]["rule"], "precondition-header");

    let v2 = app.with_version("2.0.0");
    let created = v2
        .document(Method::PUT, "activities/profile", &fresh)
        .json(&json!({"v": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 204);
}
