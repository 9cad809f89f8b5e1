//! The LRS operations on top of the store: what the xAPI resources do, independent of HTTP.

pub mod documents;
pub mod statements;

use std::sync::Arc;

use crate::competency::Competencies;
use crate::evidence::People;
use crate::store::Store;
use crate::xapi::Validator;

#[derive(Clone)]
pub struct Lrs {
    pub store: Store,
    pub validator: Arc<Validator>,
    /// Tags statements at ingest.
    pub competencies: Arc<Competencies>,
    pub people: People,
}

impl Lrs {
    pub fn new(store: Store, validator: Arc<Validator>, competencies: Arc<Competencies>) -> Self {
        Lrs {
            people: People::new(store.clone()),
            store,
            validator,
            competencies,
        }
    }
}
