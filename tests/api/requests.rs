//! Cross-cutting request rules: versions, credentials, alternate syntax, limits, CORS.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{statement, TestApp, KEY, SECRET};

#[tokio::test]
async fn the_version_header_is_required_and_checked() {
    let app = TestApp::spawn().await;
    let url = format!("{}/xapi/statements", app.address);
    let missing = app
        .client
        .get(&url)
        .basic_auth(KEY, Some(SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    for bad in ["0.95", "1.1.0", "3.0.0"] {
        let r = app
            .client
            .get(&url)
            .basic_auth(KEY, Some(SECRET))
            .header("X-Experience-API-Version", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
    for good in ["1.0.0", "1.0.2", "1.0.3", "2.0.0"] {
        let r = app
            .client
            .get(&url)
            .basic_auth(KEY, Some(SECRET))
            .header("X-Experience-API-Version", good)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{good}");
        assert!(r.headers().contains_key("x-experience-api-version"));
    }
}

#[tokio::test]
async fn credentials_are_required() {
    let app = TestApp::spawn().await;
    let url = format!("{}/xapi/statements", app.address);
    let none = app
        .client
        .get(&url)
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers().contains_key("www-authenticate"));
    let wrong = app
        .client
        .get(&url)
        .basic_auth(KEY, Some("nope"))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
}

#[tokio::test]
async fn alternate_request_syntax_carries_method_headers_and_content_in_a_form() {
    let app = TestApp::spawn().await;
    let id = uuid::Uuid::new_v4().to_string();
    let auth = format!("Basic {}", base64_of(&format!("{KEY}:{SECRET}")));
    let content = statement("a@example.com", "completed", "course-1").to_string();
    let form = [
        ("statementId", id.as_str()),
        ("Authorization", auth.as_str()),
        ("X-Experience-API-Version", "1.0.3"),
        ("Content-Type", "application/json"),
        ("content", content.as_str()),
    ];
    let r = app
        .client
        .post(format!("{}/xapi/statements?method=PUT", app.address))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let got: Value = app
        .get_statements(&[("statementId", &id)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["id"], Value::String(id));
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = TestApp::spawn_with(|s| s.max_body_bytes = 1024).await;
    let big = vec![statement("a@example.com", "completed", "c"); 20];
    let r = app.post_statements(&Value::Array(big)).await;
    assert_eq!(r.status(), 413);
}

#[tokio::test]
async fn malformed_json_is_400_with_a_message() {
    let app = TestApp::spawn().await;
    let r = app
        .xapi(Method::POST, "statements")
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["rule"], "json");
}

#[tokio::test]
async fn cors_preflight_is_answered() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .request(Method::OPTIONS, format!("{}/xapi/statements", app.address))
        .header("Origin", "http://content.example")
        .header("Access-Control-Request-Method", "PUT")
        .header(
            "Access-Control-Request-Headers",
            "authorization,x-experience-api-version,content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert!(r.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn answers_without_a_version_header_speak_the_clients_last_version() {
    let app = TestApp::spawn().await;
    let url = format!("{}/xapi/statements", app.address);
    let bare = || app.client.get(&url).basic_auth(KEY, Some(SECRET));
    // A client never seen gets the configured default (2.0.0)...
    assert_eq!(
        bare().send().await.unwrap().headers()["x-experience-api-version"],
        "2.0.0"
    );
    // ...one that spoke 1.0.3 keeps hearing 1.0.3 (Communication 3.3 in each version).
    app.get_statements(&[]).await;
    let r = bare().send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-experience-api-version"], "1.0.3");
}

#[tokio::test]
async fn xapi_2_has_no_alternate_request_syntax() {
    let app = TestApp::spawn().await;
    let auth = format!("Basic {}", base64_of(&format!("{KEY}:{SECRET}")));
    let content = statement("a@example.com", "completed", "course-1").to_string();
    let id = uuid::Uuid::new_v4().to_string();
    let form = [
        ("statementId", id.as_str()),
        ("Authorization", auth.as_str()),
        ("X-Experience-API-Version", "2.0.0"),
        ("content", content.as_str()),
    ];
    let r = app
        .client
        .post(format!("{}/xapi/statements?method=PUT", app.address))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}
