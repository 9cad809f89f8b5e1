//! lrsgate: an xAPI Learning Record Store and LMS/LXP interoperability gateway.

pub mod accounts;
pub mod admin_cli;
pub mod auth;
pub mod bench;
pub mod competency;
pub mod config;
pub mod connectors;
pub mod evidence;
pub mod http;
pub mod ingest;
pub mod lrs;
pub mod metrics;
pub mod migrate;
pub mod privacy;
pub mod redact;
pub mod startup;
pub mod store;
pub mod xapi;

#[cfg(test)]
mod layers;

pub use config::Settings;
pub use startup::Application;
