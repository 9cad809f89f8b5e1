//! The one error type of the HTTP surface and the one place that maps it to a status and a JSON body.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::store::StoreError;
use crate::xapi::validate::Violation;

/// Every failure a request can end in. Expected failures carry a stable machine code;
/// unexpected ones are logged loudly and answered without internals.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Invalid(Violation),
    #[error("authentication required")]
    Unauthorized,
    /// A bearer token that does not verify; the message says why.
    #[error("invalid bearer token: {0}")]
    InvalidToken(String),
    #[error("too many requests for this credential; retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("request body is larger than the {0} byte limit")]
    TooLarge(usize),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pointer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<&'a str>,
}

impl ApiError {
    /// A 400 for a field that breaks a rule; `pointer` is a JSON pointer (or the parameter name).
    pub fn invalid(
        pointer: impl Into<String>,
        rule: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ApiError::Invalid(Violation::new(pointer, rule, message))
    }

    fn code(&self) -> &str {
        match self {
            ApiError::Invalid(v) => v.code(),
            ApiError::Unauthorized => "unauthorized",
            ApiError::InvalidToken(_) => "invalid_token",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PreconditionFailed(_) => "precondition_failed",
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(msg) => ApiError::Conflict(msg),
            StoreError::PreconditionFailed(msg) => ApiError::PreconditionFailed(msg),
            StoreError::Invalid(v) => ApiError::Invalid(v),
            StoreError::Backend(e) => ApiError::Internal(e),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized | ApiError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = match self {
            ApiError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                "internal error".to_owned()
            }
            other => {
                tracing::debug!(error = %other, status = status.as_u16(), "request rejected");
                other.to_string()
            }
        };
        let (pointer, rule) = match self {
            ApiError::Invalid(v) => (Some(v.pointer.as_str()), Some(v.rule)),
            _ => (None, None),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message,
                pointer,
                rule,
            },
        };
        let mut response = HttpResponse::build(status).json(body);
        let challenge = match self {
            ApiError::Unauthorized => Some(HeaderValue::from_static("Basic realm=\"lrsgate\"")),
            // RFC 6750 §3: the error code only; the body carries the reason.
            ApiError::InvalidToken(_) => Some(HeaderValue::from_static(
                "Bearer realm=\"lrsgate\", error=\"invalid_token\"",
            )),
            _ => None,
        };
        if let Some(challenge) = challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        if let ApiError::TooManyRequests { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
