//! Skill evidence: what each tag of each statement says about its actor, per person, and
//! the answers built from it.

pub mod weights;

pub use weights::{EvidenceWeights, Weight};
