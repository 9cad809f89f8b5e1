//! The options of one run, independent of how they were given (CLI flags or a test).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::check::Area;

/// The xAPI version a run audits; every request carries it in `X-Experience-API-Version`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
pub enum XapiVersion {
    #[value(name = "1.0.3")]
    #[serde(rename = "1.0.3")]
    V1_0_3,
    #[value(name = "2.0.0")]
    #[serde(rename = "2.0.0")]
    V2_0_0,
}

impl XapiVersion {
    pub const ALL: [XapiVersion; 2] = [XapiVersion::V1_0_3, XapiVersion::V2_0_0];

    /// The value of the version header (and of the About resource's list).
    pub fn as_str(self) -> &'static str {
        match self {
            XapiVersion::V1_0_3 => "1.0.3",
            XapiVersion::V2_0_0 => "2.0.0",
        }
    }

    /// The `major.minor.` prefix every accepted version of this line starts with.
    pub fn line(self) -> &'static str {
        match self {
            XapiVersion::V1_0_3 => "1.0.",
            XapiVersion::V2_0_0 => "2.0.",
        }
    }
}

impl fmt::Display for XapiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the suite authenticates to the LRS.
#[derive(Clone, Debug, Default)]
pub enum Auth {
    #[default]
    None,
    Basic {
        user: String,
        password: String,
    },
    Bearer(String),
    /// OAuth 2.0 client credentials (RFC 6749 §4.4): a token is fetched once per run.
    ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret: String,
    },
}

/// Which checks a run selects.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Case-insensitive substrings; a check is kept when any matches its id, title or one of
    /// its requirement ids.
    pub grep: Vec<String>,
    /// Keep only checks of these areas (all when empty).
    pub areas: Vec<Area>,
}

/// Everything a run needs.
#[derive(Clone, Debug)]
pub struct Config {
    /// The xAPI base IRI, e.g. `https://lrs.example.com/xapi` (a trailing `/` is ignored).
    pub endpoint: String,
    pub version: XapiVersion,
    pub auth: Auth,
    /// Per-request timeout: a hanging LRS fails one check, never the run.
    pub timeout: Duration,
    /// Checks in flight at once.
    pub concurrency: usize,
    pub filter: Filter,
    /// Stop starting checks after the first MUST failure.
    pub bail: bool,
    /// Draw a progress bar on standard error.
    pub progress: bool,
}

impl Config {
    pub fn new(endpoint: impl Into<String>, version: XapiVersion) -> Self {
        Config {
            endpoint: endpoint.into(),
            version,
            auth: Auth::None,
            timeout: Duration::from_secs(10),
            concurrency: 8,
            filter: Filter::default(),
            bail: false,
            progress: false,
        }
    }
}
