//! The API integration tests of `tests/api`, each against its own server and MongoDB
//! database, plus what only several gateways on one database can show.
#![cfg(feature = "mongodb")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mongodb.rs"]
mod mongodb_server;

mod backend {
    pub fn store_url(_dir: &std::path::Path) -> String {
        crate::mongodb_server::fresh_database_url()
    }
}

#[path = "../api/access.rs"]
mod access;
#[path = "../api/activity_map.rs"]
mod activity_map;
#[path = "../api/competency.rs"]
mod competency;
#[path = "../api/conformance.rs"]
mod conformance;
#[path = "../api/connectors.rs"]
mod connectors;
#[path = "../api/crash_trials.rs"]
mod crash_trials;
#[path = "../api/csv_import.rs"]
mod csv_import;
#[path = "../api/documents.rs"]
mod documents;
mod erasure_resume;
#[path = "../api/evidence.rs"]
mod evidence;
#[path = "../api/forwarding.rs"]
mod forwarding;
#[path = "../api/helpers.rs"]
mod helpers;
mod instances;
#[path = "../api/limits.rs"]
mod limits;
#[path = "../api/linkedin_pull.rs"]
mod linkedin_pull;
#[path = "../api/linkedin_push.rs"]
mod linkedin_push;
#[path = "../api/operations.rs"]
mod operations;
#[path = "../api/opportunities.rs"]
mod opportunities;
#[path = "../api/people.rs"]
mod people;
#[path = "../api/privacy.rs"]
mod privacy;
#[path = "../api/recommendations.rs"]
mod recommendations;
#[path = "../api/requests.rs"]
mod requests;
#[path = "../api/resources.rs"]
mod resources;
#[path = "../api/retention.rs"]
mod retention;
#[path = "../api/signatures.rs"]
mod signatures;
#[path = "../api/statements.rs"]
mod statements;
#[path = "../api/talks.rs"]
mod talks;
#[path = "../api/teaching.rs"]
mod teaching;
#[path = "../api/tokens.rs"]
mod tokens;
#[path = "../api/upskilling.rs"]
mod upskilling;
