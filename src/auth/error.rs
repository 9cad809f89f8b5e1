//! Why a caller was not let in.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No credential, or a key and secret that do not match.
    #[error("authentication required")]
    Unauthorized,
    /// A bearer token that does not verify; the message says why.
    #[error("invalid bearer token: {0}")]
    InvalidToken(String),
    #[error("too many requests for this credential; retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// Authenticated, but the scopes do not allow the action; the message names both.
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AuthResult<T> = Result<T, AuthError>;
