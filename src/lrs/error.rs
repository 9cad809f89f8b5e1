//! What the xAPI resources answer when a request cannot be served.

use crate::competency::CompetencyError;
use crate::evidence::EvidenceError;
use crate::ingest::IngestError;
use crate::store::StoreError;
use crate::xapi::Violation;

#[derive(Debug, thiserror::Error)]
pub enum LrsError {
    /// A statement, document or parameter that breaks a rule; names the field.
    #[error("{0}")]
    Invalid(#[from] Violation),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Competency(#[from] CompetencyError),
    #[error(transparent)]
    Evidence(#[from] EvidenceError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type LrsResult<T> = Result<T, LrsError>;
