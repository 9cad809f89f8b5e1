//! LinkedIn Learning's xAPI push, end to end (issue 16 item 1): LinkedIn gets a token from
//! the LRS's `/oauth2/token` with the client-credentials grant and scope `xapi:write`
//! ("xAPI Learning Activity Webhooks",
//! https://learn.microsoft.com/en-us/linkedin/learning/integrations/xapi), then POSTs its
//! statements as xAPI 1.0.0 ("LinkedIn Learning xAPI Administration Guide",
//! https://learn.microsoft.com/en-us/linkedin/learning/reporting/reporting-docs/xapi-admin).
//! The statements, written from those pages in `tests/fixtures/linkedin-learning/xapi/`
//! (see its README), must be accepted and kept exactly as sent — the course URN
//! `urn:li:lyndaCourse:…` included.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Caller, TestApp};

const FIXTURES: [&str; 5] = [
    "course-progressed",
    "course-completed",
    "account-course-completed",
    "learning-path-completed",
    "video-progressed",
];

pub fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/linkedin-learning/xapi/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// What LinkedIn Learning does first: a client-credentials token for `xapi:write`, asked
/// with the form fields of its documented request; the bearer token.
pub async fn linkedin_token(app: &TestApp, (key, secret): (&str, &str)) -> String {
    let response = app
        .client
        .post(format!("{}/oauth2/token", app.address))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", key),
            ("client_secret", secret),
            ("scope", "xapi:write"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    // The documented response items.
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().is_some_and(|s| s > 0), "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// Pushes one statement the way LinkedIn does (bearer token, xAPI 1.0.0); its id.
pub async fn push(app: &TestApp, token: &str, statement: &Value) -> String {
    let response = app
        .client
        .post(format!("{}/xapi/statements", app.address))
        .bearer_auth(token)
        .header("X-Experience-API-Version", "1.0.0")
        .json(statement)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "{statement}: {body}");
    body[0].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn pushed_statements_are_accepted_with_a_client_credentials_token_and_kept_as_sent() {
    let app = TestApp::spawn().await;
    let linkedin = app.credential("default", &["xapi:write"]).await;
    let token = linkedin_token(&app, (&linkedin.0, &linkedin.1)).await;

    for name in FIXTURES {
        let sent = fixture(name);
        let id = push(&app, &token, &sent).await;
        if let Some(given) = sent["id"].as_str() {
            assert_eq!(id, given, "{name}: the statement's own id is kept");
        }
        // Read back by the operator, in the exact form: every property as LinkedIn sent
        // it; the LRS adds only what it assigns.
        let response = app
            .xapi(Method::GET, "statements")
            .query(&[("statementId", id.as_str()), ("format", "exact")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name}");
        let stored: Value = response.json().await.unwrap();
        for (key, value) in sent.as_object().unwrap() {
            assert_eq!(&stored[key], value, "{name}: `{key}` is kept as sent");
        }
        let added: Vec<&String> = stored
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| !sent.as_object().unwrap().contains_key(*k))
            .collect();
        for key in added {
            assert!(
                ["id", "stored", "authority", "version"].contains(&key.as_str()),
                "{name}: the LRS added `{key}`"
            );
        }
        // The authority is LinkedIn's credential, not anything the client claimed.
        assert_eq!(
            stored["authority"]["account"]["name"], linkedin.0,
            "{name}: {stored}"
        );
    }

    // The token writes statements only: reading them back needs more than xapi:write.
    let response = app
        .client
        .get(format!("{}/xapi/statements", app.address))
        .bearer_auth(&token)
        .header("X-Experience-API-Version", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn a_mapped_urn_changes_nothing_in_the_stored_statement_or_the_activities_resource() {
    let app = TestApp::spawn().await;
    let analyst = Caller::of(&app, "default", &["frameworks:write"]).await;
    let lms_course = "https://lms.example.com/courses/strategic-planning";
    let (status, body) = analyst
        .send(
            Method::PUT,
            "activity-equivalences",
            &[],
            Some(&json!({
                "alias": "urn:li:lyndaCourse:5001234",
                "canonical": lms_course,
                "source": "linkedin-learning"
            })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let linkedin = app.credential("default", &["xapi:write"]).await;
    let token = linkedin_token(&app, (&linkedin.0, &linkedin.1)).await;
    let sent = fixture("course-completed");
    let id = push(&app, &token, &sent).await;

    let stored: Value = app
        .xapi(Method::GET, "statements")
        .query(&[("statementId", id.as_str()), ("format", "exact")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["object"], sent["object"]);
    // The URN's own definition is what LinkedIn sent; the LMS course gains nothing.
    let activity = |id: &str| {
        app.xapi(Method::GET, "activities")
            .query(&[("activityId", id.to_owned())])
    };
    let urn: Value = activity("urn:li:lyndaCourse:5001234")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(urn["definition"], sent["object"]["definition"]);
    let lms: Value = activity(lms_course)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(lms.get("definition").is_none(), "{lms}");
}

/// "Thinking strategically" of the default framework (code F-BUS-5).
const STRATEGY: &str = "https://w3id.org/lrsgate/frameworks/wlp/competency/thinking-strategically";

/// Issue 16's check: "A LinkedIn-pushed completion and an LMS completion of the same course
/// give one activity and, for linked identities, one person's evidence with two proofs."
/// The LMS knows the course by its own IRI and the learner by an LMS account; LinkedIn
/// pushes the course's URN for the learner's e-mail. An equivalence row maps the URN to
/// the LMS course, and the two identities are linked as one person.
#[tokio::test]
async fn an_lms_and_a_linkedin_completion_of_one_course_are_one_activity_and_one_persons_two_proofs(
) {
    let app = TestApp::spawn().await;
    let hr = Caller::of(
        &app,
        "default",
        &["frameworks:write", "evidence:read", "people:write"],
    )
    .await;
    let lms_course = "https://lms.example.com/courses/strategic-planning";
    let urn = "urn:li:lyndaCourse:5001234";
    // The LMS course builds strategic thinking (a catalog entry of the canonical id only).
    let (status, body) = hr
        .send(
            Method::PUT,
            "catalog/activities",
            &[],
            Some(&json!({ "activityId": lms_course,
                          "alignments": [{ "item": STRATEGY, "confidence": 0.9 }] })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = hr
        .send(
            Method::PUT,
            "activity-equivalences",
            &[],
            Some(&json!({ "alias": urn, "canonical": lms_course, "source": "linkedin-learning" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Identity A (the LMS account) and identity B (LinkedIn's e-mail) are one person.
    let lms_account = json!({ "objectType": "Agent",
                              "account": { "homePage": "https://lms.example.com", "name": "dreyes" } });
    let pushed = fixture("course-completed");
    let linkedin_actor = pushed["actor"].clone();
    let (status, person) = hr
        .send(
            Method::POST,
            "people/link",
            &[],
            Some(&json!({ "agents": [lms_account, linkedin_actor] })),
        )
        .await;
    assert_eq!(status, 200, "{person}");
    let person_id = person["id"].as_str().unwrap().to_owned();

    // The LMS's completion, with its own credential.
    let lms_completion = json!({
        "id": "5f0e9d8c-7b6a-4c3d-9e2f-1a0b9c8d7e6f",
        "actor": lms_account,
        "verb": { "id": "http://adlnet.gov/expapi/verbs/completed", "display": { "en-US": "completed" } },
        "object": { "objectType": "Activity", "id": lms_course,
                    "definition": { "name": { "en-US": "Strategic Planning (LMS)" },
                                    "type": "http://adlnet.gov/expapi/activities/course" } },
        "result": { "completion": true },
        "timestamp": "2026-04-20T10:00:00.000Z"
    });
    let lms_ids = app.store(&lms_completion).await;
    // LinkedIn's completion, pushed with its client-credentials token.
    let linkedin = app.credential("default", &["xapi:write"]).await;
    let token = linkedin_token(&app, (&linkedin.0, &linkedin.1)).await;
    let linkedin_id = push(&app, &token, &pushed).await;

    // One activity in the competency's activity statistics: both completions, one learner.
    let built = hr.get("competencies/F-BUS-5/activities", &[]).await;
    let activities = built["activities"].as_array().unwrap();
    assert_eq!(activities.len(), 1, "{built}");
    let one = &activities[0];
    assert_eq!(one["activity"], lms_course);
    assert_eq!(
        (
            one["statements"].as_u64(),
            one["completions"].as_u64(),
            one["learners"].as_u64()
        ),
        (Some(2), Some(2), Some(1)),
        "{one}"
    );
    assert_eq!(one["name"], "Strategic Planning (LMS)");

    // One person's profile, asked by either identity: the item with two proofs, one from
    // each source, both about the LMS course.
    for agent in [&lms_account, &pushed["actor"]] {
        let profile = hr.get("profiles", &[("agent", agent.to_string())]).await;
        assert_eq!(profile["person"]["id"], person_id.as_str());
        let competencies = profile["competencies"].as_array().unwrap();
        let strategy = competencies
            .iter()
            .find(|c| c["item"]["iri"] == STRATEGY)
            .unwrap_or_else(|| panic!("no strategy evidence: {profile}"));
        assert_eq!(strategy["evidence"], 2, "{strategy}");
        let proofs = strategy["proofs"].as_array().unwrap();
        let mut statements: Vec<&str> = proofs
            .iter()
            .map(|p| p["statement"].as_str().unwrap())
            .collect();
        statements.sort_unstable();
        let mut expected = vec![lms_ids[0].as_str(), linkedin_id.as_str()];
        expected.sort_unstable();
        assert_eq!(statements, expected);
        assert!(
            proofs.iter().all(|p| p["activity"] == lms_course),
            "{proofs:?}"
        );
    }

    // The pushed statement itself still names LinkedIn's URN.
    let stored: Value = app
        .xapi(Method::GET, "statements")
        .query(&[("statementId", linkedin_id.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["object"]["id"], urn);
}
