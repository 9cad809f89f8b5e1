//! Skill evidence: what each tag of each statement says about its actor, per person, and
//! the answers built from it.

pub mod items;
pub mod people;
pub mod weights;

pub use items::{evidence_of, EvidenceItem};
pub use people::{People, Person};
pub use weights::{EvidenceWeights, Weight};
