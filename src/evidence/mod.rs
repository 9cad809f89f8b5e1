//! Skill evidence: what each tag of each statement says about its actor, per person, and
//! the answers built from it.

mod candidate_pool;
mod error;
pub mod feed;
pub mod items;
pub mod opportunities;
pub mod people;
pub mod recommendations;
pub mod scoring;
pub mod service;
pub mod teams;
pub mod upskilling;
pub mod weights;

pub use error::{EvidenceError, EvidenceResult};
pub use feed::{Feed, FeedEvent, FeedFilter};
pub use items::{evidence_of, EvidenceItem, Outcome};
pub use people::{People, Person};
pub use service::Evidence;
pub use weights::{EvidenceWeights, Weight};
pub mod following;
