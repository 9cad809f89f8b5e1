//! Spawns the same application `main` builds, on 127.0.0.1:0 with a fresh store, and calls
//! it through one method per endpoint.

use std::time::Duration;

use lrsgate::config::CredentialConfig;
use lrsgate::{Application, Settings};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};
use tempfile::TempDir;

pub const KEY: &str = "test-key";
pub const SECRET: &str = "test-secret";
/// The operator's admin credential (key `admin`).
pub const ADMIN_SECRET: &str = "admin-secret";

pub struct TestApp {
    pub address: String,
    /// The store URL, so a second gateway can share it (tests/api_mongodb/instances.rs).
    #[allow(dead_code)]
    pub store: String,
    pub client: reqwest::Client,
    pub version: &'static str,
    /// Key and secret of the credential created at start when none was configured.
    #[allow(dead_code)]
    pub initial_credential: Option<(String, String)>,
    _dir: TempDir,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = Settings {
            listen: "127.0.0.1:0".into(),
            store: crate::backend::store_url(dir.path()),
            log: "warn".into(),
            credentials: vec![CredentialConfig {
                key: KEY.into(),
                secret: SECRET.into(),
                name: None,
            }],
            admin_secret: Some(ADMIN_SECRET.into()),
            ..Settings::default()
        };
        configure(&mut settings);
        let store = settings.store.clone();
        let app = Application::build(settings)
            .await
            .expect("application builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let initial_credential = app.initial_credential.clone();
        tokio::spawn(app.run());
        TestApp {
            address,
            store,
            client: reqwest::Client::new(),
            version: "1.0.3",
            initial_credential,
            _dir: dir,
        }
    }

    /// The same server, speaking another xAPI version.
    pub fn with_version(mut self, version: &'static str) -> Self {
        self.version = version;
        self
    }

    /// An authenticated xAPI request.
    pub fn xapi(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}/xapi/{path}", self.address))
            .basic_auth(KEY, Some(SECRET))
            .header("X-Experience-API-Version", self.version)
    }

    /// An xAPI request with another credential.
    #[allow(dead_code)]
    pub fn xapi_as(
        &self,
        (key, secret): (&str, &str),
        method: Method,
        path: &str,
    ) -> RequestBuilder {
        self.client
            .request(method, format!("{}/xapi/{path}", self.address))
            .basic_auth(key, Some(secret))
            .header("X-Experience-API-Version", self.version)
    }

    /// An admin API request with the operator's admin credential.
    #[allow(dead_code)]
    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}/api/v1/admin/{path}", self.address))
            .basic_auth("admin", Some(ADMIN_SECRET))
    }

    /// Creates a credential in `tenant` (created too when missing) through the admin API;
    /// returns its key and secret.
    #[allow(dead_code)]
    pub async fn credential(&self, tenant: &str, scopes: &[&str]) -> (String, String) {
        if tenant != "default" {
            let _ = self
                .admin(Method::POST, "tenants")
                .json(&json!({ "name": tenant }))
                .send()
                .await
                .expect("request");
        }
        let response = self
            .admin(Method::POST, &format!("tenants/{tenant}/credentials"))
            .json(&json!({ "name": format!("{} client", scopes.join("+")), "scopes": scopes }))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 201, "creating a credential");
        let body: Value = response.json().await.expect("json");
        (
            body["key"].as_str().unwrap_or_default().to_owned(),
            body["secret"].as_str().unwrap_or_default().to_owned(),
        )
    }

    pub async fn post_statements(&self, body: &Value) -> Response {
        self.xapi(Method::POST, "statements")
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn put_statement(&self, id: &str, body: &Value) -> Response {
        self.xapi(Method::PUT, "statements")
            .query(&[("statementId", id)])
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Waits until the store's consistent bound has passed every statement stored so far: at
    /// once on SQLite; on MongoDB the last batch's millisecond stays open about a second (another
    /// gateway may still stamp statements with it), and a forwarder reads only behind the bound.
    pub async fn settle(&self) {
        let newest: Value = self
            .get_statements(&[("limit", "1")])
            .await
            .json()
            .await
            .expect("json");
        let Some(newest) = newest["statements"][0]["stored"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        else {
            return;
        };
        for _ in 0..400 {
            let answer = self.get_statements(&[("limit", "1")]).await;
            let through = answer
                .headers()
                .get("X-Experience-API-Consistent-Through")
                .and_then(|v| v.to_str().ok())
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
            if through.is_some_and(|t| t > newest) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the consistent bound never passed {newest}");
    }

    pub async fn get_statements(&self, query: &[(&str, &str)]) -> Response {
        self.xapi(Method::GET, "statements")
            .query(query)
            .send()
            .await
            .expect("request")
    }

    /// Follows a `more` link.
    pub async fn get_more(&self, more: &str) -> Response {
        self.client
            .get(format!("{}{more}", self.address))
            .basic_auth(KEY, Some(SECRET))
            .header("X-Experience-API-Version", self.version)
            .send()
            .await
            .expect("request")
    }

    /// POSTs statements and returns their ids, asserting success.
    pub async fn store(&self, body: &Value) -> Vec<String> {
        let response = self.post_statements(body).await;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status, 200, "storing failed: {text}");
        serde_json::from_str(&text).expect("id list")
    }

    /// Every statement a query returns, following `more` links.
    pub async fn all_statements(&self, query: &[(&str, &str)]) -> Vec<Value> {
        let mut page: Value = self.get_statements(query).await.json().await.expect("json");
        let mut out = Vec::new();
        for _ in 0..1000 {
            out.extend(page["statements"].as_array().cloned().unwrap_or_default());
            let more = page["more"].as_str().unwrap_or_default().to_owned();
            if more.is_empty() {
                return out;
            }
            page = self.get_more(&more).await.json().await.expect("json");
        }
        panic!("more than 1000 pages");
    }

    pub fn document(
        &self,
        method: Method,
        resource: &str,
        query: &[(&str, &str)],
    ) -> RequestBuilder {
        self.xapi(method, resource).query(query)
    }
}

/// A valid statement by `mbox` about `activity`.
pub fn statement(mbox: &str, verb: &str, activity: &str) -> Value {
    json!({
        "actor": { "objectType": "Agent", "name": "Test Learner", "mbox": format!("mailto:{mbox}") },
        "verb": { "id": format!("http://adlnet.gov/expapi/verbs/{verb}"), "display": { "en-US": verb } },
        "object": { "objectType": "Activity", "id": format!("http://example.com/activities/{activity}"),
                    "definition": { "name": { "en-US": activity }, "type": "http://adlnet.gov/expapi/activities/course" } }
    })
}

pub fn agent_param(mbox: &str) -> String {
    json!({ "mbox": format!("mailto:{mbox}") }).to_string()
}

pub fn ids_of(statements: &[Value]) -> Vec<String> {
    statements
        .iter()
        .map(|s| s["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A `multipart/mixed` statement request: the statements part, then one part per
/// `(sha2, content type, content)`.
pub fn multipart(boundary: &str, statements: &Value, parts: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body =
        format!("--{boundary}\r\nContent-Type: application/json\r\n\r\n{statements}\r\n")
            .into_bytes();
    for (hash, content_type, content) in parts {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {hash}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

/// Sends a request and returns its status.
#[allow(dead_code)]
/// A client of the `/api/v1` APIs with its own credential.
pub struct Caller<'a> {
    pub app: &'a TestApp,
    pub key: String,
    pub secret: String,
}

#[allow(dead_code)]
impl<'a> Caller<'a> {
    /// A new credential of `tenant` with `scopes`.
    pub async fn of(app: &'a TestApp, tenant: &str, scopes: &[&str]) -> Caller<'a> {
        let (key, secret) = app.credential(tenant, scopes).await;
        Caller { app, key, secret }
    }

    /// Calls `/api/v1/{path}`; the status and the JSON body (null when none).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> (u16, Value) {
        let mut request = self
            .app
            .client
            .request(method, format!("{}/api/v1/{path}", self.app.address))
            .basic_auth(&self.key, Some(&self.secret))
            .query(query);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Takes an identity out of a person; the answer's status.
    pub async fn unlink(&self, person: &str, agent: &Value) -> u16 {
        let path = format!("people/{person}/identities");
        let query = [("agent", agent.to_string())];
        self.send(Method::DELETE, &path, &query, None).await.0
    }

    /// The person an agent is.
    pub async fn person(&self, agent: &Value) -> Value {
        self.get("people", &[("agent", agent.to_string())]).await
    }

    /// A GET that must answer 200; its body.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Value {
        let (status, body) = self.send(Method::GET, path, query, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }
}

pub async fn status_of(request: RequestBuilder) -> u16 {
    request.send().await.expect("request").status().as_u16()
}

/// Sends a request and returns its JSON body.
#[allow(dead_code)]
pub async fn json_of<T: serde::de::DeserializeOwned>(request: RequestBuilder) -> T {
    request
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}
