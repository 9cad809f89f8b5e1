//! The LRS operations on top of the store: what the xAPI resources do, independent of HTTP.

pub mod documents;
mod error;
pub mod statements;

pub use error::{LrsError, LrsResult};

use std::sync::Arc;

use crate::competency::Competencies;
use crate::evidence::{Evidence, Feed, People};
use crate::store::Store;
use crate::xapi::Validator;

#[derive(Clone)]
pub struct Lrs {
    pub store: Store,
    pub validator: Arc<Validator>,
    /// Tags statements at ingest.
    pub competencies: Arc<Competencies>,
    pub people: People,
    /// Skill-evidence answers.
    pub evidence: Evidence,
    /// New evidence, for stream subscribers.
    pub feed: Feed,
}

impl Lrs {
    pub fn new(store: Store, validator: Arc<Validator>, competencies: Arc<Competencies>) -> Self {
        let people = People::new(store.clone());
        Lrs {
            evidence: Evidence::new(store.clone(), competencies.clone(), people.clone()),
            feed: Feed::default(),
            people,
            store,
            validator,
            competencies,
        }
    }
}
