//! The activity-equivalence table through `/api/v1/activity-equivalences` (issue 16 item 1:
//! "map its activities to canonical activity IRIs through an activity-equivalence table
//! (also settable by API), so the same course from an LMS and from LinkedIn is one activity
//! for tagging, evidence and activity statistics"): rows set, listed in pages, removed;
//! invalid rows refused naming the field; scopes; and the equivalence stage seen from
//! outside — statements kept as sent, tagged and counted as their canonical activity, at
//! ingest and by a retag.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Caller, TestApp};

const PATH: &str = "activity-equivalences";
const LMS_COURSE: &str = "https://lms.example.com/courses/strategy-101";
const LIL_COURSE: &str = "urn:li:lyndaCourse:5001234";
/// "Thinking strategically" of the default framework (code F-BUS-5).
const STRATEGY: &str = "https://w3id.org/lrsgate/frameworks/wlp/competency/thinking-strategically";

fn row(alias: &str, canonical: &str) -> Value {
    json!({ "alias": alias, "canonical": canonical })
}

fn completed(mbox: &str, activity: &str) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "actor": { "objectType": "Agent", "mbox": format!("mailto:{mbox}") },
        "verb": { "id": "http://adlnet.gov/expapi/verbs/completed" },
        "object": { "objectType": "Activity", "id": activity },
        "timestamp": "2026-05-01T10:00:00Z"
    })
}

/// Sends a request, asserting the status; the body.
async fn expect(
    who: &Caller<'_>,
    method: Method,
    query: &[(&str, String)],
    body: Option<&Value>,
    status: u16,
) -> Value {
    let (got, answer) = who.send(method.clone(), PATH, query, body).await;
    assert_eq!(got, status, "{method} {PATH} {query:?}: {answer}");
    answer
}

/// A 400's (pointer, rule).
async fn refused(who: &Caller<'_>, body: &Value) -> (String, String) {
    let answer = expect(who, Method::PUT, &[], Some(body), 400).await;
    let field = |k: &str| answer["error"][k].as_str().unwrap_or_default().to_owned();
    (field("pointer"), field("rule"))
}

#[tokio::test]
async fn rows_are_set_listed_in_pages_replaced_and_removed() {
    let app = TestApp::spawn().await;
    let analyst = Caller::of(&app, "default", &["frameworks:write"]).await;

    // One row: answered with the row, `manual` unless the caller names a source.
    let one = expect(
        &analyst,
        Method::PUT,
        &[],
        Some(&row(LIL_COURSE, LMS_COURSE)),
        200,
    )
    .await;
    assert_eq!(
        one,
        json!({ "alias": LIL_COURSE, "canonical": LMS_COURSE, "source": "manual" })
    );
    // A list, stored together.
    let list = json!([
        { "alias": "urn:li:lyndaCourse:2", "canonical": "https://lms.example.com/courses/2",
          "source": "linkedin-learning" },
        row("urn:li:lyndaCourse:3", "https://lms.example.com/courses/3"),
    ]);
    let stored = expect(&analyst, Method::PUT, &[], Some(&list), 200).await;
    assert_eq!(stored["equivalences"].as_array().map(Vec::len), Some(2));

    // Pages by alias.
    let first = expect(&analyst, Method::GET, &[("limit", "2".into())], None, 200).await;
    let aliases = |page: &Value| -> Vec<String> {
        page["equivalences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["alias"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        aliases(&first),
        ["urn:li:lyndaCourse:2", "urn:li:lyndaCourse:3"]
    );
    assert_eq!(first["equivalences"][0]["source"], "linkedin-learning");
    let next = first["next"].as_str().unwrap().to_owned();
    let second = expect(
        &analyst,
        Method::GET,
        &[("limit", "2".into()), ("after", next)],
        None,
        200,
    )
    .await;
    assert_eq!(aliases(&second), [LIL_COURSE]);
    assert_eq!(second["next"], Value::Null);

    // Replaced by alias.
    expect(
        &analyst,
        Method::PUT,
        &[],
        Some(&row(
            "urn:li:lyndaCourse:3",
            "https://lms.example.com/courses/33",
        )),
        200,
    )
    .await;
    let all = expect(&analyst, Method::GET, &[], None, 200).await;
    assert_eq!(
        all["equivalences"][1]["canonical"],
        "https://lms.example.com/courses/33"
    );

    // Removed; a second removal finds nothing; the alias is required.
    let alias = [("alias", "urn:li:lyndaCourse:3".to_owned())];
    expect(&analyst, Method::DELETE, &alias, None, 204).await;
    expect(&analyst, Method::DELETE, &alias, None, 404).await;
    let missing = expect(&analyst, Method::DELETE, &[], None, 400).await;
    assert_eq!(missing["error"]["pointer"], "alias");
    let all = expect(&analyst, Method::GET, &[], None, 200).await;
    assert_eq!(aliases(&all), ["urn:li:lyndaCourse:2", LIL_COURSE]);

    // Another tenant has a table of its own.
    let other = Caller::of(&app, "acme", &["frameworks:write"]).await;
    let theirs = expect(&other, Method::GET, &[], None, 200).await;
    assert_eq!(theirs["equivalences"], json!([]));
}

#[tokio::test]
async fn invalid_rows_and_chains_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let analyst = Caller::of(&app, "default", &["frameworks:write"]).await;
    expect(
        &analyst,
        Method::PUT,
        &[],
        Some(&row(LIL_COURSE, LMS_COURSE)),
        200,
    )
    .await;
    let pair = |p: &str, r: &str| (p.to_owned(), r.to_owned());

    // Both ids are absolute IRIs (xAPI Data 2.4.4.1: an activity id is an IRI).
    assert_eq!(
        refused(&analyst, &row("course 7", LMS_COURSE)).await,
        pair("/alias", "iri")
    );
    assert_eq!(
        refused(
            &analyst,
            &json!([row("urn:x:1", LMS_COURSE), row("urn:x:2", "/relative")])
        )
        .await,
        pair("/1/canonical", "iri")
    );
    // An alias is not its own canonical id.
    assert_eq!(
        refused(&analyst, &row(LMS_COURSE, LMS_COURSE)).await,
        pair("/canonical", "distinct-canonical")
    );
    // Chains are refused, not resolved: the canonical id may not be an alias ...
    assert_eq!(
        refused(&analyst, &row("urn:li:lyndaCourse:9", LIL_COURSE)).await,
        pair("/canonical", "no-chain")
    );
    // ... nor the alias another row's canonical id ...
    assert_eq!(
        refused(&analyst, &row(LMS_COURSE, "https://lms.example.com/other")).await,
        pair("/alias", "no-chain")
    );
    // ... also within one request.
    let (_, rule) = refused(
        &analyst,
        &json!([row("urn:x:a", "urn:x:b"), row("urn:x:b", "urn:x:c")]),
    )
    .await;
    assert_eq!(rule, "no-chain");
    // One canonical id per alias in a request; only the row's own fields; required ones.
    assert_eq!(
        refused(
            &analyst,
            &json!([row("urn:x:a", "urn:x:b"), row("urn:x:a", "urn:x:c")])
        )
        .await,
        pair("/1/alias", "unique-alias")
    );
    assert_eq!(
        refused(
            &analyst,
            &json!({ "alias": "urn:x:a", "canonical": "urn:x:b", "weight": 1 })
        )
        .await,
        pair("/weight", "unknown-field")
    );
    assert_eq!(
        refused(&analyst, &json!({ "alias": "urn:x:a" })).await,
        pair("/canonical", "required")
    );
    assert_eq!(
        refused(&analyst, &json!([])).await.1,
        "non-empty".to_owned()
    );
    // Nothing refused was stored.
    let all = expect(&analyst, Method::GET, &[], None, 200).await;
    assert_eq!(all["equivalences"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn reading_needs_frameworks_read_and_changing_frameworks_write() {
    let app = TestApp::spawn().await;
    let reader = Caller::of(&app, "default", &["frameworks:read"]).await;
    let evidence = Caller::of(&app, "default", &["evidence:read"]).await;
    expect(&reader, Method::GET, &[], None, 200).await;
    expect(&evidence, Method::GET, &[], None, 403).await;
    let body = row(LIL_COURSE, LMS_COURSE);
    expect(&reader, Method::PUT, &[], Some(&body), 403).await;
    let alias = [("alias", LIL_COURSE.to_owned())];
    expect(&reader, Method::DELETE, &alias, None, 403).await;
    let anonymous = app
        .client
        .get(format!("{}/api/v1/{PATH}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

/// Starts a retag and waits for it to succeed.
async fn retag(analyst: &Caller<'_>) {
    let (status, job) = analyst.send(Method::POST, "tagging/retag", &[], None).await;
    assert!(status == 202 || status == 200, "{job}");
    let id = job["id"].as_str().unwrap().to_owned();
    for _ in 0..400 {
        let job = analyst.get(&format!("tagging/jobs/{id}"), &[]).await;
        match job["state"].as_str() {
            Some("succeeded") => return,
            Some("running") => tokio::time::sleep(Duration::from_millis(25)).await,
            _ => panic!("retag job: {job}"),
        }
    }
    panic!("the retag did not finish");
}

fn items_of(tags: &Value) -> Vec<(String, String)> {
    tags.as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["item"].as_str().unwrap().to_owned(),
                t["method"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The activities `competencies/F-BUS-5/activities` lists, with their learner counts.
async fn strategy_activities(hr: &Caller<'_>) -> Vec<(String, u64)> {
    let built = hr.get("competencies/F-BUS-5/activities", &[]).await;
    built["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["activity"].as_str().unwrap().to_owned(),
                a["learners"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_alias_is_tagged_and_counted_as_its_canonical_activity_but_stored_as_sent() {
    let app = TestApp::spawn().await;
    let analyst = Caller::of(
        &app,
        "default",
        &["frameworks:write", "evidence:read", "all"],
    )
    .await;
    // The catalog aligns the LMS course with strategy; nothing names the LinkedIn URN.
    let (status, body) = analyst
        .send(
            Method::PUT,
            "catalog/activities",
            &[],
            Some(&json!({ "activityId": LMS_COURSE,
                          "alignments": [{ "item": STRATEGY, "confidence": 0.9 }] })),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Before any mapping: the LinkedIn statement is evidence of nothing.
    let early = completed("bo@example.com", LIL_COURSE);
    app.store(&early).await;
    let early_id = early["id"].as_str().unwrap();
    let tags = analyst
        .get(&format!("statements/{early_id}/tags"), &[])
        .await;
    assert_eq!(tags, json!([]));

    expect(
        &analyst,
        Method::PUT,
        &[],
        Some(&row(LIL_COURSE, LMS_COURSE)),
        200,
    )
    .await;
    // At ingest: the catalog's alignment of the canonical id tags the alias's statement.
    let lms = completed("al@example.com", LMS_COURSE);
    let mut lil = completed("cy@example.com", LIL_COURSE);
    lil["object"]["definition"] = json!({ "name": { "en-US": "Course 5001234" } });
    app.store(&json!([lms, lil])).await;
    let lil_id = lil["id"].as_str().unwrap();
    let tags = analyst.get(&format!("statements/{lil_id}/tags"), &[]).await;
    assert_eq!(
        items_of(&tags),
        [(STRATEGY.to_owned(), "catalog".to_owned())]
    );

    // The statement is kept exactly as sent (the URN, not the canonical IRI) ...
    let response = app
        .xapi(Method::GET, "statements")
        .query(&[("statementId", lil_id), ("format", "exact")])
        .send()
        .await
        .unwrap();
    let kept: Value = response.json().await.unwrap();
    assert_eq!(kept["object"]["id"], LIL_COURSE);
    // ... and the canonical activity's definition gains nothing from it.
    let response = app
        .xapi(Method::GET, "activities")
        .query(&[("activityId", LMS_COURSE)])
        .send()
        .await
        .unwrap();
    let activity: Value = response.json().await.unwrap();
    assert!(activity.get("definition").is_none(), "{activity}");

    // Activity statistics: one activity, not two; the early statement is not in it yet.
    assert_eq!(
        strategy_activities(&analyst).await,
        [(LMS_COURSE.to_owned(), 2)]
    );

    // A retag applies the table to what was stored before it.
    retag(&analyst).await;
    let tags = analyst
        .get(&format!("statements/{early_id}/tags"), &[])
        .await;
    assert_eq!(
        items_of(&tags),
        [(STRATEGY.to_owned(), "catalog".to_owned())]
    );
    assert_eq!(
        strategy_activities(&analyst).await,
        [(LMS_COURSE.to_owned(), 3)]
    );

    // Removing the row and retagging undoes it.
    let alias = [("alias", LIL_COURSE.to_owned())];
    expect(&analyst, Method::DELETE, &alias, None, 204).await;
    retag(&analyst).await;
    let tags = analyst.get(&format!("statements/{lil_id}/tags"), &[]).await;
    assert_eq!(tags, json!([]));
    assert_eq!(
        strategy_activities(&analyst).await,
        [(LMS_COURSE.to_owned(), 1)]
    );
}
