//! The API integration tests on the embedded store: each test against its own server and
//! SQLite file. `tests/api_mongodb` runs the same tests on MongoDB.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backend {
    pub fn store_url(dir: &std::path::Path) -> String {
        format!("sqlite://{}", dir.join("lrs.db").display())
    }
}

mod access;
mod activity_map;
mod backup;
mod competency;
mod conformance;
mod connectors;
mod crash_trials;
mod csv_import;
mod documents;
mod durability;
mod evidence;
mod forwarding;
mod helpers;
mod limits;
mod linkedin_pull;
mod linkedin_push;
mod mutants;
mod openapi;
mod operations;
mod opportunities;
mod people;
mod privacy;
mod recommendations;
mod requests;
mod resources;
mod retention;
mod signatures;
mod statements;
mod talks;
mod teaching;
mod tokens;
mod ui;
mod upskilling;
