//! lrs-conformance: a black-box conformance suite for xAPI 1.0.3 and 2.0 Learning Record
//! Stores. It speaks HTTP only, so it audits any LRS. The binary is a thin CLI over
//! [`run`]; tests call the same function against an LRS they start themselves.

pub mod catalogue;
pub mod check;
pub mod checks;
pub mod cli;
pub mod client;
pub mod config;
pub mod fixtures;
pub mod report;
pub mod runner;

pub use check::{Area, Check, Ctx, Failure, Level, Verdict};
pub use config::{Auth, Config, Filter, XapiVersion};
pub use report::{Outcome, RunReport};
pub use runner::{run, run_checks, RunError};
