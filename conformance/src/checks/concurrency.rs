//! Concurrency of documents: ETags, If-Match and If-None-Match preconditions.

use crate::check::Check;

pub fn checks() -> Vec<Check> {
    Vec::new()
}
