//! OAuth 2.0 client credentials (RFC 6749 §4.4) at `/oauth2/token`, bearer tokens
//! (RFC 6750) on the xAPI, tokens of a trusted identity provider, and the per-credential
//! rate limit.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lrsgate::auth::Claims;
use lrsgate::config::IssuerConfig;
use lrsgate::store::Store;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};

use crate::helpers::{json_of, statement, status_of, TestApp};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

async fn token_request(app: &TestApp, form: &[(&str, &str)]) -> Response {
    app.client
        .post(format!("{}/oauth2/token", app.address))
        .form(form)
        .send()
        .await
        .expect("request")
}

/// A client-credentials token for the credential, or the failing answer's body.
async fn access_token(app: &TestApp, (key, secret): (&str, &str), scope: &str) -> String {
    let response = token_request(
        app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", key),
            ("client_secret", secret),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(response.status(), 200, "token request");
    let body: Value = response.json().await.expect("json");
    body["access_token"].as_str().unwrap_or_default().to_owned()
}

fn xapi_bearer(app: &TestApp, token: &str, method: Method, path: &str) -> RequestBuilder {
    app.client
        .request(method, format!("{}/xapi/{path}", app.address))
        .bearer_auth(token)
        .header("X-Experience-API-Version", "1.0.0")
}

/// The answer to a bearer request that must fail, checked for RFC 6750's challenge.
async fn rejected_reason(request: RequestBuilder) -> String {
    let response = request.send().await.expect("request");
    assert_eq!(response.status(), 401);
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "invalid_token");
    body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// The token reads statements (200) and cannot write one (403).
async fn assert_reads_but_cannot_write(app: &TestApp, token: &str) {
    let read = xapi_bearer(app, token, Method::GET, "statements");
    assert_eq!(status_of(read).await, 200);
    let write = xapi_bearer(app, token, Method::POST, "statements").json(&statement(
        "a@example.com",
        "attended",
        "read-only",
    ));
    assert_eq!(status_of(write).await, 403, "a reading token cannot write");
}

/// The token with its payload rewritten to claim more (`scope` and `sub` changed), its
/// signature kept.
fn tampered(token: &str) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value = b64
        .decode(parts[1])
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .expect("a JWT payload");
    claims["scope"] = json!("all admin");
    claims["sub"] = json!("someone-else");
    format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(claims.to_string()),
        parts[2]
    )
}

#[tokio::test]
async fn linkedin_learning_pushes_statements_with_a_client_credentials_token() {
    let app = TestApp::spawn().await;
    let pusher = app.credential("acme", &["xapi:write"]).await;
    let response = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &pusher.0),
            ("client_secret", &pusher.1),
            ("scope", "xapi:write"),
        ],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["scope"]
        .as_str()
        .is_some_and(|s| s.split(' ').any(|n| n == "statements/write")));
    let token = body["access_token"].as_str().unwrap_or_default();

    let post = xapi_bearer(&app, token, Method::POST, "statements")
        .json(&statement(
            "learner@example.com",
            "completed",
            "linkedin-course",
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(post.status(), 200);
    let ids: Vec<String> = post.json().await.expect("ids");

    // Stored in the credential's tenant, with the credential as authority.
    let reader = app.credential("acme", &["all/read"]).await;
    let stored: Value = json_of(
        app.xapi_as((&reader.0, &reader.1), Method::GET, "statements")
            .query(&[("statementId", ids[0].as_str())]),
    )
    .await;
    assert_eq!(stored["authority"]["account"]["name"], pusher.0.as_str());
    let default_tenant = app
        .get_statements(&[("statementId", ids[0].as_str())])
        .await;
    assert_eq!(default_tenant.status(), 404);

    // xapi:write does not read (xAPI scopes: statements/write only writes).
    assert_eq!(
        status_of(xapi_bearer(&app, token, Method::GET, "statements")).await,
        403
    );

    let reason = rejected_reason(xapi_bearer(
        &app,
        &tampered(token),
        Method::GET,
        "statements",
    ))
    .await;
    assert!(reason.contains("signature"), "{reason}");

    // A token that expired, signed with the gateway's real key.
    let store = Store::open(&app.store).await.expect("store");
    let keys = store.credentials.signing_keys().await.expect("keys");
    let key = keys.last().expect("a signing key");
    let issued: Claims = jsonwebtoken::dangerous::insecure_decode(token)
        .expect("claims")
        .claims;
    let expired = Claims {
        iat: now() - 7200,
        nbf: now() - 7200,
        exp: now() - 120,
        ..issued
    };
    let header = Header {
        kid: Some(key.kid.clone()),
        ..Header::new(Algorithm::HS256)
    };
    let expired = jsonwebtoken::encode(&header, &expired, &EncodingKey::from_secret(&key.secret))
        .expect("jwt");
    let reason = rejected_reason(xapi_bearer(&app, &expired, Method::POST, "statements")).await;
    assert!(reason.contains("expired"), "{reason}");

    // Revoking the credential ends its tokens at once.
    let revoke = app
        .admin(
            Method::DELETE,
            &format!("tenants/acme/credentials/{}", pusher.0),
        )
        .send()
        .await
        .expect("request");
    assert_eq!(revoke.status(), 204);
    let reason = rejected_reason(xapi_bearer(&app, token, Method::POST, "statements").json(
        &statement("learner@example.com", "completed", "after-revocation"),
    ))
    .await;
    assert!(reason.contains("revoked"), "{reason}");
}

#[tokio::test]
async fn the_token_endpoint_answers_rfc_6749_errors() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.credential("acme", &["xapi:write"]).await;
    let url = format!("{}/oauth2/token", app.address);
    let grant = [("grant_type", "client_credentials")];

    // §2.3.1: client authentication by a Basic header; no scope asked → the credential's.
    let basic = app
        .client
        .post(&url)
        .basic_auth(&key, Some(&secret))
        .form(&grant)
        .send()
        .await
        .expect("request");
    assert_eq!(basic.status(), 200);
    let body: Value = basic.json().await.expect("json");
    assert_eq!(body["scope"], "statements/write state define profile");

    let error_of = |response: Response| async move {
        let status = response.status().as_u16();
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body: Value = response.json().await.expect("json");
        (
            status,
            body["error"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let form = |grant_type: &'static str, id: &str, secret: &str, scope: &str| {
        [
            ("grant_type", grant_type.to_owned()),
            ("client_id", id.to_owned()),
            ("client_secret", secret.to_owned()),
            ("scope", scope.to_owned()),
        ]
    };
    let cases = [
        (
            form("client_credentials", &key, "wrong", ""),
            (401, "invalid_client"),
        ),
        (
            form("client_credentials", "nobody", "x", ""),
            (401, "invalid_client"),
        ),
        (
            form("password", &key, &secret, ""),
            (400, "unsupported_grant_type"),
        ),
        (
            form("client_credentials", &key, &secret, "xapi:all"),
            (400, "invalid_scope"),
        ),
        (
            form("client_credentials", &key, &secret, "xapi:write bogus"),
            (400, "invalid_scope"),
        ),
    ];
    for (form, expected) in cases {
        let response = app
            .client
            .post(&url)
            .form(&form)
            .send()
            .await
            .expect("request");
        assert_eq!(
            error_of(response).await,
            (expected.0, expected.1.to_owned()),
            "{form:?}"
        );
    }
    let both = app
        .client
        .post(&url)
        .basic_auth(&key, Some(&secret))
        .form(&form("client_credentials", &key, &secret, ""))
        .send()
        .await
        .expect("request");
    assert_eq!(error_of(both).await, (400, "invalid_request".into()));
    let no_grant = token_request(&app, &[("client_id", &key), ("client_secret", &secret)]).await;
    assert_eq!(error_of(no_grant).await, (400, "invalid_request".into()));
    let json_body = app
        .client
        .post(&url)
        .json(&json!({ "grant_type": "client_credentials" }))
        .send()
        .await
        .expect("request");
    assert_eq!(error_of(json_body).await, (400, "invalid_request".into()));
    let wrong_basic = app
        .client
        .post(&url)
        .basic_auth(&key, Some("wrong"))
        .form(&grant)
        .send()
        .await
        .expect("request");
    assert!(wrong_basic.headers()["www-authenticate"]
        .to_str()
        .is_ok_and(|v| v.starts_with("Basic")));
    assert_eq!(error_of(wrong_basic).await, (401, "invalid_client".into()));
}

#[tokio::test]
async fn a_token_grants_only_its_scopes_within_its_tenant() {
    let app = TestApp::spawn().await;
    let acme = app.credential("acme", &["all"]).await;
    let globex = app.credential("globex", &["all"]).await;
    let ids = {
        let response = app
            .xapi_as((&globex.0, &globex.1), Method::POST, "statements")
            .json(&statement("g@example.com", "attended", "globex-talk"))
            .send()
            .await
            .expect("request");
        response.json::<Vec<String>>().await.expect("ids")
    };
    let reader = access_token(&app, (&acme.0, &acme.1), "statements/read").await;
    assert_reads_but_cannot_write(&app, &reader).await;
    assert_eq!(
        status_of(
            xapi_bearer(&app, &reader, Method::GET, "statements")
                .query(&[("statementId", ids[0].as_str())])
        )
        .await,
        404,
        "another tenant's statement is not there"
    );
    let admin_token = access_token(&app, (&acme.0, &acme.1), "").await;
    let admin = app
        .client
        .get(format!(
            "{}/api/v1/admin/tenants/acme/credentials",
            app.address
        ))
        .bearer_auth(&admin_token)
        .send()
        .await
        .expect("request");
    assert_eq!(admin.status(), 403, "`all` is the xAPI, not administration");
}

const IDP_RSA: &str = "https://idp.example.com";
const IDP_ED: &str = "https://login.example.org/tenant-acme";
const AUDIENCE: &str = "https://lrs.example.com";

async fn with_identity_providers() -> TestApp {
    let app = TestApp::spawn_with(|s| {
        s.issuers = vec![
            IssuerConfig {
                issuer: IDP_RSA.into(),
                audience: AUDIENCE.into(),
                key_file: Some(fixture("idp-rsa-public.pem")),
                jwks_file: None,
                algorithm: Some("RS256".into()),
                tenant: None,
                tenant_claim: "org".into(),
                scope_claim: "scope".into(),
            },
            IssuerConfig {
                issuer: IDP_ED.into(),
                audience: AUDIENCE.into(),
                key_file: None,
                jwks_file: Some(fixture("idp-jwks.json")),
                algorithm: None,
                tenant: Some("acme".into()),
                tenant_claim: "tenant".into(),
                scope_claim: "scp".into(),
            },
        ];
    })
    .await;
    app.credential("acme", &["all"]).await;
    app
}

fn signed(algorithm: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let header = Header {
        kid: kid.map(str::to_owned),
        ..Header::new(algorithm)
    };
    jsonwebtoken::encode(&header, claims, key).expect("jwt")
}

fn rsa_key(file: &str) -> EncodingKey {
    EncodingKey::from_rsa_pem(&std::fs::read(fixture(file)).expect("key file")).expect("rsa key")
}

fn lxp_claims() -> Value {
    json!({
        "iss": IDP_RSA, "aud": AUDIENCE, "sub": "lxp-user-7", "org": "acme",
        "scope": "openid profile xapi:read", "iat": now(), "exp": now() + 300,
    })
}

#[tokio::test]
async fn tokens_of_a_trusted_identity_provider_act_in_their_tenant() {
    let app = with_identity_providers().await;
    let rsa = rsa_key("idp-rsa-key.pem");
    let reader = signed(Algorithm::RS256, &rsa, None, &lxp_claims());
    assert_reads_but_cannot_write(&app, &reader).await;

    // The JWKS issuer is pinned to tenant acme and names scopes in `scp`, as an array.
    let ed = EncodingKey::from_ed_pem(&std::fs::read(fixture("idp-ed25519-key.pem")).expect("key"))
        .expect("ed25519 key");
    let writer = signed(
        Algorithm::EdDSA,
        &ed,
        Some("idp-ed-1"),
        &json!({ "iss": IDP_ED, "aud": AUDIENCE, "sub": "sync-job", "name": "Catalog sync",
                 "scp": ["xapi:all"], "exp": now() + 300 }),
    );
    let post = xapi_bearer(&app, &writer, Method::POST, "statements")
        .json(&statement("a@example.com", "completed", "from-the-lxp"))
        .send()
        .await
        .expect("request");
    assert_eq!(post.status(), 200);
    let ids: Vec<String> = post.json().await.expect("ids");
    let stored: Value = xapi_bearer(&app, &reader, Method::GET, "statements")
        .query(&[("statementId", ids[0].as_str())])
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(
        stored["authority"],
        json!({ "objectType": "Agent", "name": "Catalog sync",
                "account": { "homePage": IDP_ED, "name": "sync-job" } })
    );
}

#[tokio::test]
async fn provider_tokens_that_must_not_verify_are_401() {
    let app = with_identity_providers().await;
    let rsa = rsa_key("idp-rsa-key.pem");
    let with = |change: Value| {
        let mut claims = lxp_claims();
        for (k, v) in change.as_object().into_iter().flatten() {
            claims[k] = v.clone();
        }
        claims
    };
    let public_pem = std::fs::read(fixture("idp-rsa-public.pem")).expect("public key");
    let unsigned = {
        use base64::Engine as _;
        let b64 =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            b64(&lxp_claims())
        )
    };
    let hs256_public = EncodingKey::from_secret(&public_pem);
    let rs256 = |claims: &Value| signed(Algorithm::RS256, &rsa, None, claims);
    let cases = [
        (
            "expired",
            rs256(&with(json!({"exp": now() - 600}))),
            "expired",
        ),
        (
            "not yet valid",
            rs256(&with(json!({"nbf": now() + 600}))),
            "nbf",
        ),
        (
            "another audience",
            rs256(&with(json!({"aud": "https://other.example"}))),
            "aud",
        ),
        (
            "an unknown issuer",
            rs256(&with(json!({"iss": "https://evil.example"}))),
            "not trusted",
        ),
        (
            "an unknown tenant",
            rs256(&with(json!({"org": "initech"}))),
            "no tenant `initech`",
        ),
        (
            "no tenant claim",
            rs256(&with(json!({"org": null}))),
            "`org` claim",
        ),
        ("no expiry", rs256(&with(json!({"exp": null}))), "`exp`"),
        (
            "no signature (alg none)",
            unsigned,
            "algorithm is not supported",
        ),
        // Algorithm confusion: HS256 keyed with the provider's public key.
        (
            "HS256 with the public key",
            signed(Algorithm::HS256, &hs256_public, None, &lxp_claims()),
            "accepts only RS256",
        ),
        (
            "another key",
            signed(
                Algorithm::RS256,
                &rsa_key("signing-key.pem"),
                None,
                &lxp_claims(),
            ),
            "signature",
        ),
        (
            "RS512 for an RS256 key",
            signed(Algorithm::RS512, &rsa, None, &lxp_claims()),
            "accepts only RS256",
        ),
        (
            "a tampered payload",
            tampered(&rs256(&lxp_claims())),
            "signature",
        ),
    ];
    for (case, token, expected) in cases {
        let reason = rejected_reason(xapi_bearer(&app, &token, Method::GET, "statements")).await;
        assert!(reason.contains(expected), "{case}: {reason}");
    }
    // The JWKS issuer acts only in its tenant, whatever the token claims.
    let ed = EncodingKey::from_ed_pem(&std::fs::read(fixture("idp-ed25519-key.pem")).expect("key"))
        .expect("ed25519 key");
    let elsewhere = signed(
        Algorithm::EdDSA,
        &ed,
        Some("idp-ed-1"),
        &json!({ "iss": IDP_ED, "aud": AUDIENCE, "sub": "x", "tenant": "globex", "exp": now() + 300 }),
    );
    let reason = rejected_reason(xapi_bearer(&app, &elsewhere, Method::GET, "statements")).await;
    assert!(reason.contains("acme"), "{reason}");
}

#[tokio::test]
async fn a_credential_over_its_rate_gets_429_with_retry_after() {
    let app = TestApp::spawn_with(|s| {
        s.rate_limit_per_minute = 60;
        s.rate_limit_burst = Some(3);
    })
    .await;
    for _ in 0..3 {
        assert_eq!(app.get_statements(&[("limit", "1")]).await.status(), 200);
    }
    let limited = app.get_statements(&[("limit", "1")]).await;
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_default();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Another credential has its own allowance.
    let other = app.credential("default", &["all"]).await;
    assert_eq!(
        status_of(app.xapi_as((&other.0, &other.1), Method::GET, "statements")).await,
        200
    );
}
