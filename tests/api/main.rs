//! The API integration tests: one binary, each test against its own server and SQLite file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod documents;
mod durability;
mod helpers;
mod requests;
mod resources;
mod signatures;
mod statements;
