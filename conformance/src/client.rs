//! The HTTP client of a run: one connection pool, the version header and the credentials on
//! every request, a per-request timeout, and a [`Session`] per check that records every
//! exchange so a report can show the auditor exactly what was sent and answered.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use reqwest::header::HeaderMap;
use reqwest::{Method, Url};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::check::Failure;
use crate::config::{Auth, Config, XapiVersion};

/// The most of each body a recorded exchange keeps; reports stay readable and small.
const BODY_RECORD_LIMIT: usize = 8 * 1024;

pub const VERSION_HEADER: &str = "X-Experience-API-Version";

/// Why the run could not reach or authenticate to the LRS at all.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("the endpoint `{0}` is not an http(s) URL")]
    Endpoint(String),
    #[error("cannot build the HTTP client: {0}")]
    Build(reqwest::Error),
    #[error("the OAuth2 token request to {url} failed: {reason}")]
    Token { url: String, reason: String },
}

/// A configured client, cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    /// The base IRI without a trailing `/`.
    endpoint: Arc<str>,
    base: Url,
    version: XapiVersion,
    /// The `Authorization` header value, when the run authenticates.
    authorization: Option<Arc<str>>,
}

impl Client {
    /// Builds the client and, for OAuth2 client credentials, fetches the access token.
    pub async fn connect(config: &Config) -> Result<Client, ConnectError> {
        let endpoint = config.endpoint.trim_end_matches('/').to_owned();
        let base = Url::parse(&format!("{endpoint}/"))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| ConnectError::Endpoint(config.endpoint.clone()))?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("lrs-conformance/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ConnectError::Build)?;
        let authorization = match &config.auth {
            Auth::None => None,
            Auth::Basic { user, password } => Some(basic(user, password)),
            Auth::Bearer(token) => Some(format!("Bearer {token}")),
            Auth::ClientCredentials {
                token_url,
                client_id,
                client_secret,
            } => Some(format!(
                "Bearer {}",
                fetch_token(&http, token_url, client_id, client_secret).await?
            )),
        };
        Ok(Client {
            http,
            endpoint: endpoint.into(),
            base,
            version: config.version,
            authorization: authorization.map(Into::into),
        })
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// A session whose exchanges are recorded apart from every other session's.
    pub fn session(&self) -> Session {
        Session {
            client: self.clone(),
            log: Arc::default(),
        }
    }
}

fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// RFC 6749 §4.4 with client_secret_basic, the method every server must support.
async fn fetch_token(
    http: &reqwest::Client,
    url: &str,
    client_id: &str,
    client_secret: &str,
) -> Result<String, ConnectError> {
    let failed = |reason: String| ConnectError::Token {
        url: url.to_owned(),
        reason,
    };
    let response = http
        .post(url)
        .header("Authorization", basic(client_id, client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    let status = response.status();
    let body = response.text().await.map_err(|e| failed(e.to_string()))?;
    if !status.is_success() {
        return Err(failed(format!("{status}: {}", excerpt(&body, 300))));
    }
    serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["access_token"].as_str().map(str::to_owned))
        .ok_or_else(|| failed(format!("no access_token in {}", excerpt(&body, 300))))
}

/// One request and its answer (or the transport error), as shown in reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default)]
    pub response_headers: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

/// A check's view of the client: requests go through it and are recorded in its log.
#[derive(Clone, Debug)]
pub struct Session {
    client: Client,
    log: Arc<Mutex<Vec<Exchange>>>,
}

impl Session {
    /// A request to `path`: relative to the endpoint (`statements`), or a link the LRS gave
    /// (`/xapi/statements?more=…` or an absolute URL), resolved as a browser would.
    pub fn request(&self, method: Method, path: &str) -> Request {
        let url = if path.starts_with('/') || path.contains("://") {
            self.client
                .base
                .join(path)
                .map(|u| u.to_string())
                .unwrap_or_else(|_| path.to_owned())
        } else {
            format!("{}/{path}", self.client.endpoint)
        };
        Request {
            session: self.clone(),
            method,
            url,
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            version: Some(self.client.version.as_str().to_owned()),
            auth: true,
        }
    }

    /// Every exchange so far, oldest first.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn record(&self, exchange: Exchange) {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(exchange);
    }
}

/// A request being built; [`Request::send`] records it with its answer.
#[must_use]
pub struct Request {
    session: Session,
    method: Method,
    url: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    version: Option<String>,
    auth: bool,
}

impl Request {
    pub fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_owned(), value.into()));
        self
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(self, value: &Value) -> Self {
        self.body("application/json", value.to_string())
    }

    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.headers
            .push(("Content-Type".to_owned(), content_type.to_owned()));
        self.body = Some(body.into());
        self
    }

    /// Sends this version header instead of the run's.
    pub fn version(mut self, version: &str) -> Self {
        self.version = Some(version.to_owned());
        self
    }

    /// Sends no version header at all.
    pub fn without_version(mut self) -> Self {
        self.version = None;
        self
    }

    /// Sends no credentials.
    pub fn without_auth(mut self) -> Self {
        self.auth = false;
        self
    }

    /// Sends the request; a transport error or timeout fails the check.
    pub async fn send(self) -> Result<Response, Failure> {
        let client = &self.session.client;
        let mut builder = client.http.request(self.method.clone(), &self.url);
        if !self.query.is_empty() {
            builder = builder.query(&self.query);
        }
        if let Some(version) = &self.version {
            builder = builder.header(VERSION_HEADER, version);
        }
        if let (true, Some(authorization)) = (self.auth, &client.authorization) {
            builder = builder.header("Authorization", authorization.as_ref());
        }
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = self.body {
            builder = builder.body(body);
        }
        let request = builder
            .build()
            .map_err(|e| Failure::new(format!("cannot build {} {}: {e}", self.method, self.url)))?;
        let mut exchange = Exchange {
            method: request.method().to_string(),
            url: request.url().to_string(),
            request_headers: record_headers(request.headers()),
            request_body: request
                .body()
                .and_then(|b| b.as_bytes())
                .map(|b| excerpt(&String::from_utf8_lossy(b), BODY_RECORD_LIMIT)),
            status: None,
            response_headers: Vec::new(),
            response_body: None,
            error: None,
            elapsed_ms: 0,
        };
        let started = Instant::now();
        let outcome = async {
            let response = client.http.execute(request).await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await?.to_vec();
            Ok::<_, reqwest::Error>(Response {
                status,
                headers,
                body,
            })
        }
        .await;
        exchange.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match outcome {
            Ok(response) => {
                exchange.status = Some(response.status);
                exchange.response_headers = record_headers(&response.headers);
                exchange.response_body = (!response.body.is_empty())
                    .then(|| excerpt(&response.text(), BODY_RECORD_LIMIT));
                self.session.record(exchange);
                Ok(response)
            }
            Err(error) => {
                let what = if error.is_timeout() {
                    format!("no answer within the timeout ({error})")
                } else {
                    error.to_string()
                };
                let message = format!("{} {}: {what}", exchange.method, exchange.url);
                exchange.error = Some(what);
                self.session.record(exchange);
                Err(Failure::new(message))
            }
        }
    }
}

/// Headers as shown in reports, with credentials masked.
fn record_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let shown = if name == reqwest::header::AUTHORIZATION {
                let scheme = value
                    .to_str()
                    .ok()
                    .and_then(|v| v.split(' ').next())
                    .unwrap_or("");
                format!("{scheme} ***")
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            (name.as_str().to_owned(), shown)
        })
        .collect()
}

/// `text` cut to about `limit` bytes on a character boundary, saying how much was left out.
pub fn excerpt(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes more)", &text[..end], text.len() - end)
}

/// An answer of the LRS.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Result<Value, Failure> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Failure::new(format!(
                "the answer ({}) is not JSON ({e}): {}",
                self.status,
                excerpt(&self.text(), 200)
            ))
        })
    }

    /// This answer if its status is `status`, else a failure naming `what` was attempted.
    pub fn expect(self, status: u16, what: &str) -> Result<Response, Failure> {
        self.expect_any(&[status], what)
    }

    /// This answer if its status is one of `statuses`.
    pub fn expect_any(self, statuses: &[u16], what: &str) -> Result<Response, Failure> {
        if statuses.contains(&self.status) {
            return Ok(self);
        }
        let expected = statuses
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" or ");
        Err(Failure::new(format!(
            "{what}: expected {expected}, got {}{}",
            self.status,
            if self.body.is_empty() {
                String::new()
            } else {
                format!(" {}", excerpt(&self.text(), 200))
            }
        )))
    }

    /// The media type of the answer without parameters, lower-cased.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }
}
