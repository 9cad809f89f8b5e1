//! The xAPI data model and its rules: versions, validation, statement preparation and output
//! formats. No HTTP and no storage code; `PreparedStatement` still carries the tags,
//! evidence and teams derived from a statement at ingest, which ties it to those layers.

pub mod agent;
pub mod document;
pub mod format;
pub mod json;
pub mod rules;
pub mod signature;
pub mod statement;
pub mod time;
pub mod validate;
pub mod version;

pub use format::StatementFormat;
pub use statement::{Fingerprint, IndexKey, IndexKind, PreparedStatement};
pub use validate::{Validator, Violation};
pub use version::XapiVersion;
