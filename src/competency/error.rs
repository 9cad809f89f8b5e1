//! What the competency service answers when a request cannot be served.

use crate::store::StoreError;
use crate::xapi::Violation;

#[derive(Debug, thiserror::Error)]
pub enum CompetencyError {
    /// A framework, rule or alignment that breaks a rule; names the field.
    #[error("{0}")]
    Invalid(#[from] Violation),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type CompetencyResult<T> = Result<T, CompetencyError>;
