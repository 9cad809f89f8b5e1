//! The registry of checks: one module per requirement area, each exporting
//! `pub fn checks() -> Vec<Check>`, concatenated here in the fixed area order.

pub mod common;

pub mod about;
pub mod activities;
pub mod agents;
pub mod alternate_syntax;
pub mod attachments;
pub mod authentication;
pub mod concurrency;
pub mod documents;
pub mod formatting;
pub mod formatting_values;
pub mod headers;
pub mod queries;
pub mod signatures;
pub mod statements;
pub mod voiding;

use crate::check::Check;

/// Every check of the suite.
pub fn all() -> Vec<Check> {
    [
        about::checks(),
        headers::checks(),
        statements::checks(),
        queries::checks(),
        voiding::checks(),
        attachments::checks(),
        signatures::checks(),
        documents::checks(),
        concurrency::checks(),
        activities::checks(),
        agents::checks(),
        alternate_syntax::checks(),
        formatting::checks(),
        formatting_values::checks(),
        authentication::checks(),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_unique_and_name_their_area() {
        let checks = all();
        let mut seen = HashSet::new();
        for check in &checks {
            assert!(seen.insert(check.id), "duplicate check id {}", check.id);
            let prefix = check.id.split('.').next().unwrap_or("");
            assert_eq!(
                prefix.replace('_', "-"),
                check.area.as_str(),
                "{} is not in its area's namespace",
                check.id
            );
            assert!(
                !check.requirements.is_empty(),
                "{} names no requirement, so it would never run",
                check.id
            );
        }
    }
}
