//! About, Activities and Agents resources (Communication §2.5–2.8).

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{agent_param, statement, TestApp};

#[tokio::test]
async fn about_lists_versions_without_credentials() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(format!("{}/xapi/about", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let about: Value = response.json().await.unwrap();
    let versions = about["version"].as_array().unwrap();
    assert!(versions.contains(&json!("1.0.3")));
    assert!(versions.contains(&json!("2.0.0")));
}

#[tokio::test]
async fn activities_return_the_merged_definition() {
    let app = TestApp::spawn().await;
    app.store(&statement("a@example.com", "completed", "course-1"))
        .await;
    let mut s = statement("a@example.com", "completed", "course-1");
    s["object"]["definition"] =
        json!({"name": {"fr-FR": "cours"}, "description": {"en-US": "A course"}});
    app.store(&s).await;
    let activity: Value = app
        .xapi(Method::GET, "activities")
        .query(&[("activityId", "http://example.com/activities/course-1")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(activity["objectType"], json!("Activity"));
    assert_eq!(
        activity["definition"]["name"],
        json!({"en-US": "course-1", "fr-FR": "cours"})
    );
    assert_eq!(
        activity["definition"]["description"],
        json!({"en-US": "A course"})
    );
}

#[tokio::test]
async fn agents_return_a_person() {
    let app = TestApp::spawn().await;
    app.store(&statement("a@example.com", "completed", "course-1"))
        .await;
    let person: Value = app
        .xapi(Method::GET, "agents")
        .query(&[("agent", agent_param("a@example.com").as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        person,
        json!({"objectType": "Person", "name": ["Test Learner"], "mbox": ["mailto:a@example.com"]})
    );
}
