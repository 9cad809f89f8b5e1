//! What the evidence and people services answer when a request cannot be served.

use crate::competency::CompetencyError;
use crate::store::StoreError;
use crate::xapi::Violation;

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// A parameter or body that breaks a rule; names the field.
    #[error("{0}")]
    Invalid(#[from] Violation),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Competency(#[from] CompetencyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type EvidenceResult<T> = Result<T, EvidenceError>;
