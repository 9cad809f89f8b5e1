//! The one error type of the HTTP surface and the one place that maps errors to a status
//! and a JSON body: every service's own error converts into it here.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::accounts::AccountError;
use crate::auth::AuthError;
use crate::competency::CompetencyError;
use crate::evidence::EvidenceError;
use crate::ingest::IngestError;
use crate::lrs::LrsError;
use crate::store::StoreError;
use crate::xapi::validate::Violation;

/// Seconds a client is told to wait before retrying when the store is busy: the writer
/// drains a full queue in well under that.
pub const RETRY_BUSY_SECS: u64 = 1;

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
    /// A request over a configured size cap (statements per batch, attachments): 413
    /// naming the field and the rule.
    #[error("{0}")]
    OverLimit(Violation),
    /// The server cannot take the request now (write queue full, store locked, request
    /// deadline passed while working on it): 503 with `Retry-After`.
    #[error("{message}")]
    Unavailable {
        message: String,
        retry_after_secs: u64,
    },
    /// The client did not send its request body within the request deadline: 408.
    #[error("{0}")]
    RequestTimeout(String),
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
            ApiError::OverLimit(_) => "payload_too_large",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::RequestTimeout(_) => "request_timeout",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<Violation> for ApiError {
    fn from(v: Violation) -> Self {
        ApiError::Invalid(v)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(msg) => ApiError::Conflict(msg),
            StoreError::PreconditionFailed(msg) => ApiError::PreconditionFailed(msg),
            StoreError::Invalid(v) => ApiError::Invalid(v),
            StoreError::Busy(message) => ApiError::Unavailable {
                message,
                retry_after_secs: RETRY_BUSY_SECS,
            },
            StoreError::Backend(e) => ApiError::Internal(e),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Unauthorized => ApiError::Unauthorized,
            AuthError::InvalidToken(why) => ApiError::InvalidToken(why),
            AuthError::TooManyRequests { retry_after_secs } => {
                ApiError::TooManyRequests { retry_after_secs }
            }
            AuthError::Forbidden(why) => ApiError::Forbidden(why),
            AuthError::Store(e) => e.into(),
            AuthError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::Invalid(v) => ApiError::Invalid(v),
            AccountError::NotFound(what) => ApiError::NotFound(what),
            AccountError::Store(e) => e.into(),
            AccountError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl From<CompetencyError> for ApiError {
    fn from(err: CompetencyError) -> Self {
        match err {
            CompetencyError::Invalid(v) => ApiError::Invalid(v),
            CompetencyError::NotFound(what) => ApiError::NotFound(what),
            CompetencyError::Store(e) => e.into(),
            CompetencyError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl From<EvidenceError> for ApiError {
    fn from(err: EvidenceError) -> Self {
        match err {
            EvidenceError::Invalid(v) => ApiError::Invalid(v),
            EvidenceError::NotFound(what) => ApiError::NotFound(what),
            EvidenceError::Competency(e) => e.into(),
            EvidenceError::Store(e) => e.into(),
        }
    }
}

impl From<IngestError> for ApiError {
    fn from(err: IngestError) -> Self {
        match err {
            IngestError::Invalid(v) => ApiError::Invalid(v),
            IngestError::Competency(e) => e.into(),
            IngestError::Store(e) => e.into(),
        }
    }
}

impl From<LrsError> for ApiError {
    fn from(err: LrsError) -> Self {
        match err {
            LrsError::Invalid(v) => ApiError::Invalid(v),
            LrsError::NotFound(what) => ApiError::NotFound(what),
            LrsError::Competency(e) => e.into(),
            LrsError::Evidence(e) => e.into(),
            LrsError::Ingest(e) => e.into(),
            LrsError::Store(e) => e.into(),
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
            ApiError::TooLarge(_) | ApiError::OverLimit(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
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
            ApiError::Invalid(v) | ApiError::OverLimit(v) => {
                (Some(v.pointer.as_str()), Some(v.rule))
            }
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
        if let ApiError::TooManyRequests { retry_after_secs }
        | ApiError::Unavailable {
            retry_after_secs, ..
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
