//! The evidence page at `/ui/` (README "Evidence page"): served without credentials, with
//! the content types browsers need to run module scripts (HTML Standard §8.1.3.1: a module
//! script needs a JavaScript MIME type), a Content-Security-Policy that allows this origin
//! only (CSP Level 3), and revalidation by `ETag` (RFC 9110 §13.1.2, RFC 9111 §5.2.2.4).

use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION};
use reqwest::redirect::Policy;

use crate::helpers::TestApp;

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[actix_web::test]
async fn the_page_is_served_without_credentials_under_a_strict_policy() {
    let app = TestApp::spawn().await;

    let page = app
        .client
        .get(format!("{}/ui/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert_eq!(header(&page, CACHE_CONTROL.as_str()), "no-cache");
    let csp = header(&page, "content-security-policy").to_owned();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} missing from {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script type="module" src="/ui/assets/app.js">"#));
    // No inline script the policy would block, nothing from another origin.
    assert!(!html.contains("<script>") && !html.contains("http://") && !html.contains("https://"));

    for (name, content_type) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("heatmap.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
    ] {
        let asset = app
            .client
            .get(format!("{}/ui/assets/{name}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(asset.status(), 200, "{name}");
        assert_eq!(
            header(&asset, CONTENT_TYPE.as_str()),
            content_type,
            "{name}"
        );
        assert!(header(&asset, "content-security-policy").contains("default-src 'none'"));
    }
}

#[actix_web::test]
async fn a_current_copy_is_revalidated_with_its_etag() {
    let app = TestApp::spawn().await;
    let url = format!("{}/ui/assets/app.js", app.address);
    let first = app.client.get(&url).send().await.unwrap();
    let etag = header(&first, ETAG.as_str()).to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

    let again = app
        .client
        .get(&url)
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, ETAG.as_str()), etag);
    assert!(again.bytes().await.unwrap().is_empty());

    let other = app
        .client
        .get(&url)
        .header(IF_NONE_MATCH, "\"0000000000000000\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);

    // Each file has its own tag.
    let css = app
        .client
        .get(format!("{}/ui/assets/app.css", app.address))
        .send()
        .await
        .unwrap();
    assert_ne!(header(&css, ETAG.as_str()), etag);
}

#[actix_web::test]
async fn unknown_assets_are_404_and_ui_redirects_to_the_page() {
    let app = TestApp::spawn().await;
    let missing = app
        .client
        .get(format!("{}/ui/assets/nothing.js", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");

    // Files outside the embedded set cannot be reached by a path.
    let escape = app
        .client
        .get(format!("{}/ui/assets/..%2F..%2FCargo.toml", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(escape.status(), 404);

    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let bare = client
        .get(format!("{}/ui", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 308);
    assert_eq!(header(&bare, LOCATION.as_str()), "/ui/");
}
