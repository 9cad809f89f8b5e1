//! The LRS operations on top of the store: what the xAPI resources do, independent of HTTP.

pub mod documents;
pub mod statements;

use std::sync::Arc;

use crate::store::Store;
use crate::xapi::Validator;

#[derive(Clone)]
pub struct Lrs {
    pub store: Store,
    pub validator: Arc<Validator>,
}

impl Lrs {
    pub fn new(store: Store, validator: Arc<Validator>) -> Self {
        Lrs { store, validator }
    }
}
