//! What a check is: a stable id, a title, its area, the requirement ids it covers per xAPI
//! version, and an async function over a [`Ctx`] that passes or fails with a precise message.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{Request, Session};
use crate::config::XapiVersion;
use crate::fixtures::Fixtures;

/// The fixed list of requirement areas; the catalogue and the checks use the same names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    About,
    Headers,
    Statements,
    Queries,
    Voiding,
    Attachments,
    Signatures,
    Documents,
    Concurrency,
    Activities,
    Agents,
    AlternateSyntax,
    Formatting,
    Authentication,
}

impl Area {
    pub const ALL: [Area; 14] = [
        Area::About,
        Area::Headers,
        Area::Statements,
        Area::Queries,
        Area::Voiding,
        Area::Attachments,
        Area::Signatures,
        Area::Documents,
        Area::Concurrency,
        Area::Activities,
        Area::Agents,
        Area::AlternateSyntax,
        Area::Formatting,
        Area::Authentication,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Area::About => "about",
            Area::Headers => "headers",
            Area::Statements => "statements",
            Area::Queries => "queries",
            Area::Voiding => "voiding",
            Area::Attachments => "attachments",
            Area::Signatures => "signatures",
            Area::Documents => "documents",
            Area::Concurrency => "concurrency",
            Area::Activities => "activities",
            Area::Agents => "agents",
            Area::AlternateSyntax => "alternate-syntax",
            Area::Formatting => "formatting",
            Area::Authentication => "authentication",
        }
    }

    pub fn parse(name: &str) -> Option<Area> {
        Area::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A requirement's strength. SHALL counts as MUST, SHOULD* as SHOULD. Ordered weakest first,
/// so the strongest of several is their maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    #[serde(rename = "MAY")]
    May,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "MUST")]
    Must,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::May => "MAY",
            Level::Should => "SHOULD",
            Level::Must => "MUST",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a check did not pass: what was expected against what the LRS did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A check's result: `Ok(())` passes.
pub type Verdict = Result<(), Failure>;

/// Fails the check with a formatted message unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            return Err($crate::check::Failure::new(format!($($arg)+)));
        }
    };
}

/// Fails the check with a formatted message.
#[macro_export]
macro_rules! fail {
    ($($arg:tt)+) => {
        return Err($crate::check::Failure::new(format!($($arg)+)))
    };
}

type BoxFuture = Pin<Box<dyn Future<Output = Verdict> + Send>>;
type CheckFn = Arc<dyn Fn(Ctx) -> BoxFuture + Send + Sync>;

/// One conformance check.
#[derive(Clone)]
pub struct Check {
    /// `area.short-name`, stable across releases so reports can be compared.
    pub id: &'static str,
    pub title: &'static str,
    pub area: Area,
    /// The requirement ids it covers, per version; it runs for a version only when it names
    /// at least one requirement of that version.
    pub requirements: Vec<(XapiVersion, &'static str)>,
    run: CheckFn,
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Check")
            .field("id", &self.id)
            .field("area", &self.area)
            .field("requirements", &self.requirements)
            .finish()
    }
}

impl Check {
    pub fn new<F, Fut>(area: Area, id: &'static str, title: &'static str, run: F) -> Self
    where
        F: Fn(Ctx) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Verdict> + Send + 'static,
    {
        Check {
            id,
            title,
            area,
            requirements: Vec::new(),
            run: Arc::new(move |cx| Box::pin(run(cx))),
        }
    }

    /// The xAPI 1.0.3 requirement ids (`Communication 2.1.1.s2.b2`, …) it covers.
    pub fn v1(mut self, ids: &[&'static str]) -> Self {
        self.requirements
            .extend(ids.iter().map(|id| (XapiVersion::V1_0_3, *id)));
        self
    }

    /// The xAPI 2.0 (IEEE 9274.1.1) requirement ids (`4.1.6.1#3`, …) it covers.
    pub fn v2(mut self, ids: &[&'static str]) -> Self {
        self.requirements
            .extend(ids.iter().map(|id| (XapiVersion::V2_0_0, *id)));
        self
    }

    pub fn applies_to(&self, version: XapiVersion) -> bool {
        self.requirements.iter().any(|(v, _)| *v == version)
    }

    pub fn requirement_ids(&self, version: XapiVersion) -> impl Iterator<Item = &'static str> + '_ {
        self.requirements
            .iter()
            .filter(move |(v, _)| *v == version)
            .map(|(_, id)| *id)
    }

    pub(crate) fn start(&self, cx: Ctx) -> BoxFuture {
        (self.run)(cx)
    }
}

/// What a check runs with: a recording HTTP session for the configured endpoint and
/// version, and fixture builders whose ids are unique to this run and check.
#[derive(Clone)]
pub struct Ctx {
    pub http: Session,
    pub version: XapiVersion,
    pub fx: Fixtures,
}

impl Ctx {
    pub fn request(&self, method: Method, path: &str) -> Request {
        self.http.request(method, path)
    }

    pub fn get(&self, path: &str) -> Request {
        self.request(Method::GET, path)
    }

    pub fn put(&self, path: &str) -> Request {
        self.request(Method::PUT, path)
    }

    pub fn post(&self, path: &str) -> Request {
        self.request(Method::POST, path)
    }

    pub fn delete(&self, path: &str) -> Request {
        self.request(Method::DELETE, path)
    }

    pub fn head(&self, path: &str) -> Request {
        self.request(Method::HEAD, path)
    }

    pub fn is_v1(&self) -> bool {
        self.version == XapiVersion::V1_0_3
    }
}
