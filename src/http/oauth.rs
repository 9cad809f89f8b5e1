//! `POST /oauth2/token`: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4), as
//! LinkedIn Learning and EdCast use it to push xAPI. The client authenticates with its
//! credential's key and secret, in the form body or a Basic header (never both, §2.3.1),
//! and asks for scopes within its credential's; errors are RFC 6749 §5.2 bodies.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AppState;
use crate::auth::{parse_basic, AuthError, Scopes};

/// The form of a token request (RFC 6749 §4.4.2).
#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
}

/// The client's key and secret, from a Basic header or the form (never both, §2.3.1), and
/// whether it was Basic.
fn client_authentication(
    req: &HttpRequest,
    client_id: Option<String>,
    client_secret: Option<String>,
) -> Result<(String, String, bool), OAuthError> {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_basic);
    match (basic, client_id, client_secret) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(OAuthError::new(
            "invalid_request",
            "authenticate the client one way: a Basic header or client_id/client_secret",
        )),
        (Some((key, secret)), None, None) => Ok((key, secret, true)),
        (None, Some(id), Some(secret)) => Ok((id, secret, false)),
        (None, _, _) => Err(OAuthError::new(
            "invalid_client",
            "client authentication is required: client_id and client_secret, or Basic",
        )),
    }
}

/// A client-credentials token request, parsed: the client's key and secret (from the form
/// or a Basic header, never both, §2.3.1) and the scopes it asks for.
struct TokenRequest {
    key: String,
    secret: String,
    /// Whether the client authenticated with Basic (its failure then gets a challenge).
    used_basic: bool,
    scope: Option<String>,
}

impl TokenRequest {
    fn parse(req: &HttpRequest, body: &[u8]) -> Result<Self, OAuthError> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| m.essence_str() == "application/x-www-form-urlencoded");
        if !is_form {
            return Err(OAuthError::new(
                "invalid_request",
                "the body must be application/x-www-form-urlencoded",
            ));
        }
        let form: TokenForm = serde_urlencoded::from_bytes(body).map_err(|e| {
            OAuthError::new("invalid_request", format!("the form is malformed: {e}"))
        })?;
        match form.grant_type.as_deref() {
            Some("client_credentials") => {}
            Some(other) => {
                return Err(OAuthError::new(
                    "unsupported_grant_type",
                    format!("grant_type `{other}` is not supported; use client_credentials"),
                ))
            }
            None => return Err(OAuthError::new("invalid_request", "grant_type is required")),
        }
        let (key, secret, used_basic) =
            client_authentication(req, form.client_id, form.client_secret)?;
        Ok(TokenRequest {
            key,
            secret,
            used_basic,
            scope: form.scope,
        })
    }
}

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    scope: String,
}

/// An RFC 6749 §5.2 error.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {description}")]
pub(super) struct OAuthError {
    code: &'static str,
    description: String,
    /// Set when the client tried Basic authentication: §5.2 answers its failure with a
    /// challenge.
    basic_challenge: bool,
}

impl OAuthError {
    fn new(code: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            code,
            description: description.into(),
            basic_challenge: false,
        }
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        match self.code {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "too_many_requests" => StatusCode::TOO_MANY_REQUESTS,
            "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code())
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(json!({ "error": self.code, "error_description": self.description }));
        if self.basic_challenge && self.code == "invalid_client" {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"lrsgate\""),
            );
        }
        response
    }
}

/// Failures of the shared authentication code, in OAuth terms.
impl From<AuthError> for OAuthError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unauthorized => {
                OAuthError::new("invalid_client", "unknown client or wrong secret")
            }
            AuthError::TooManyRequests { .. } => {
                OAuthError::new("too_many_requests", e.to_string())
            }
            other => {
                tracing::error!(error = %other, "token request failed");
                OAuthError::new("server_error", "the token could not be issued")
            }
        }
    }
}

pub(super) async fn token(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, OAuthError> {
    let request = TokenRequest::parse(&req, &body)?;
    let (access_token, expires_in, scopes) = grant(&state, request).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in,
            scope: scopes.to_string(),
        }))
}

/// Authenticates the client and issues a token for the scopes it asked for (all of its
/// credential's when it asked for none): the token, its lifetime and its scopes.
async fn grant(
    state: &AppState,
    request: TokenRequest,
) -> Result<(String, u64, Scopes), OAuthError> {
    let credential = state
        .auth
        .client(&request.key, request.secret)
        .await
        .map_err(|e| OAuthError {
            basic_challenge: request.used_basic,
            ..OAuthError::from(e)
        })?;
    state.auth.count(&credential.key)?;
    let granted = Scopes::parse(&credential.scopes).unwrap_or_default();
    let asked = request
        .scope
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let scopes = match asked {
        None => granted,
        Some(asked) => {
            let asked = Scopes::parse(asked).map_err(|name| {
                OAuthError::new("invalid_scope", format!("scope `{name}` is unknown"))
            })?;
            if !granted.covers(&asked) {
                return Err(OAuthError::new(
                    "invalid_scope",
                    format!("the client may ask only for scopes within `{granted}`"),
                ));
            }
            asked
        }
    };
    let (access_token, expires_in) = state.auth.issue_token(&credential, &scopes)?;
    Ok((access_token, expires_in, scopes))
}
