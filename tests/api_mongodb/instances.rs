//! Several stateless gateways on one MongoDB database serve the same data: what one
//! acknowledges the other reads at once, `more` links work on either, and ETag
//! concurrency holds across them.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{agent_param, ids_of, statement, TestApp};

async fn two_gateways() -> (TestApp, TestApp) {
    let a = TestApp::spawn().await;
    let store = a.store.clone();
    let b = TestApp::spawn_with(|s| s.store = store).await;
    (a, b)
}

#[tokio::test]
async fn a_statement_posted_to_one_gateway_is_read_from_the_other_at_once() {
    let (a, b) = two_gateways().await;
    let id = a
        .store(&statement("shared@example.com", "completed", "course-1"))
        .await
        .remove(0);
    let got = b.get_statements(&[("statementId", &id)]).await;
    assert_eq!(got.status(), 200);
    let by_agent = b
        .all_statements(&[("agent", &agent_param("shared@example.com"))])
        .await;
    assert_eq!(ids_of(&by_agent), vec![id]);
}

#[tokio::test]
async fn a_more_link_from_one_gateway_works_on_the_other() {
    let (a, b) = two_gateways().await;
    let batch: Vec<Value> = (0..5)
        .map(|i| statement("pager@example.com", "completed", &format!("course-{i}")))
        .collect();
    let mut ids = a.store(&json!(batch)).await;
    ids.reverse(); // newest first
    let first: Value = a
        .get_statements(&[("limit", "2")])
        .await
        .json()
        .await
        .unwrap();
    // A statement arriving between pages is not part of the listing.
    b.store(&statement("late@example.com", "completed", "course-9"))
        .await;
    let mut seen = ids_of(first["statements"].as_array().unwrap());
    let mut more = first["more"].as_str().unwrap().to_owned();
    for _ in 0..10 {
        if more.is_empty() {
            break;
        }
        let page: Value = b.get_more(&more).await.json().await.unwrap();
        seen.extend(ids_of(page["statements"].as_array().unwrap()));
        more = page["more"].as_str().unwrap_or_default().to_owned();
    }
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn document_etags_hold_across_gateways() {
    let (a, b) = two_gateways().await;
    let q = [
        ("activityId", "http://example.com/activities/shared"),
        ("profileId", "p"),
    ];
    let created = a
        .document(Method::PUT, "activities/profile", &q)
        .header("If-None-Match", "*")
        .json(&json!({"v": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 204);
    let etag = b
        .document(Method::GET, "activities/profile", &q)
        .send()
        .await
        .unwrap()
        .headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();

    // Both gateways race to replace the version they read: exactly one wins.
    let put = |app: &TestApp, v: i64| {
        app.document(Method::PUT, "activities/profile", &q)
            .header("If-Match", &etag)
            .json(&json!({"v": v}))
            .send()
    };
    let (ra, rb) = tokio::join!(put(&a, 1), put(&b, 2));
    let mut statuses = vec![ra.unwrap().status().as_u16(), rb.unwrap().status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, vec![204, 412]);

    // If-None-Match: * from the other gateway sees the document exists.
    let again = b
        .document(Method::PUT, "activities/profile", &q)
        .header("If-None-Match", "*")
        .json(&json!({"v": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 412);
}
