//! Signed statements (xAPI 1.0.3 Data §2.6 "Signed Statements"; IEEE 9274.1.1 signature
//! requirements): the JWS payload must be the statement, and when the JWS header carries an
//! `x5c` chain the signature must verify with the first certificate's key.

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, Response};
use serde_json::{json, Value};
use sha2::Digest as _;
use uuid::Uuid;

use crate::helpers::{multipart, statement, TestApp};

const SIGNATURE_USAGE: &str = "http://adlnet.gov/expapi/attachments/signature";
const SIGNING_KEY: &str = include_str!("../fixtures/signing-key.pem");
const SIGNING_CERT: &str = include_str!("../fixtures/signing-cert.pem");
const OTHER_CERT: &str = include_str!("../fixtures/other-cert.pem");

/// The base64 DER body of a PEM certificate, as `x5c` carries it.
fn x5c_entry(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

fn sign(payload: &Value, x5c: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.x5c = x5c.map(|pem| vec![x5c_entry(pem)]);
    let key = EncodingKey::from_rsa_pem(SIGNING_KEY.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, payload, &key).unwrap()
}

/// Posts `unsigned` with a signature attachment carrying `jws`.
async fn post_signed(app: &TestApp, unsigned: &Value, jws: &str) -> Response {
    let hash = hex::encode(sha2::Sha256::digest(jws.as_bytes()));
    let mut signed = unsigned.clone();
    signed["attachments"] = json!([{
        "usageType": SIGNATURE_USAGE,
        "display": {"en-US": "signature"},
        "contentType": "application/octet-stream",
        "length": jws.len(),
        "sha2": hash
    }]);
    let body = multipart(
        "sig",
        &signed,
        &[(&hash, "application/octet-stream", jws.as_bytes())],
    );
    app.xapi(Method::POST, "statements")
        .header("Content-Type", "multipart/mixed; boundary=sig")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn unsigned() -> Value {
    let mut s = statement("signer@example.com", "completed", "course-1");
    s["id"] = json!(Uuid::new_v4().to_string());
    s
}

#[tokio::test]
async fn a_signature_that_verifies_with_its_x5c_certificate_is_stored() {
    let app = TestApp::spawn().await;
    let s = unsigned();
    let response = post_signed(&app, &s, &sign(&s, Some(SIGNING_CERT))).await;
    assert_eq!(response.status(), 200);
    // Without x5c there is no key to check against: the payload match is the whole check.
    let s = unsigned();
    let response = post_signed(&app, &s, &sign(&s, None)).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_signature_that_does_not_verify_with_its_x5c_certificate_is_rejected() {
    let app = TestApp::spawn().await;
    let s = unsigned();
    let response = post_signed(&app, &s, &sign(&s, Some(OTHER_CERT))).await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["rule"], json!("signature"));
    assert_eq!(error["error"]["pointer"], json!("/attachments/0"));
    assert!(app.all_statements(&[]).await.is_empty());
}

#[tokio::test]
async fn a_signature_over_another_statement_or_a_tampered_one_is_rejected() {
    let app = TestApp::spawn().await;
    let s = unsigned();
    let mut other = s.clone();
    other["verb"]["id"] = json!("http://adlnet.gov/expapi/verbs/failed");
    let response = post_signed(&app, &s, &sign(&other, Some(SIGNING_CERT))).await;
    assert_eq!(response.status(), 400);

    // A payload swapped after signing no longer matches the signature bytes.
    let genuine = sign(&other, Some(SIGNING_CERT));
    let parts: Vec<&str> = genuine.split('.').collect();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s.to_string());
    let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);
    let response = post_signed(&app, &s, &tampered).await;
    assert_eq!(response.status(), 400);
    assert!(app.all_statements(&[]).await.is_empty());
}
