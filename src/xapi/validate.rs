//! Statement validation: the JSON Schemas in `schemas/` (compiled once) followed by the
//! rules a schema cannot state (see [`rules`](super::rules)).

use std::fmt;

use anyhow::Context as _;
use serde_json::{json, Value};

use super::rules;
use super::version::XapiVersion;

/// One broken rule: where (a JSON pointer, or a parameter name), which rule, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub pointer: String,
    pub rule: &'static str,
    pub message: String,
}

impl Violation {
    pub fn new(pointer: impl Into<String>, rule: &'static str, message: impl Into<String>) -> Self {
        Violation {
            pointer: pointer.into(),
            rule,
            message: message.into(),
        }
    }

    /// The stable machine code of every validation failure.
    pub fn code(&self) -> &'static str {
        "invalid_request"
    }

    /// The same violation, located inside a larger document (e.g. item 3 of a batch).
    pub fn under(mut self, prefix: &str) -> Self {
        self.pointer = format!("{prefix}{}", self.pointer);
        self
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{at}: {} (rule: {})", self.message, self.rule)
    }
}

impl std::error::Error for Violation {}

const SCHEMA_1_0_3: &str = include_str!("../../schemas/xapi-1.0.3/statement.schema.json");
const SCHEMA_2_0_0: &str = include_str!("../../schemas/xapi-2.0.0/statement.schema.json");

/// The compiled schemas of one xAPI version.
struct VersionSchemas {
    statement: jsonschema::Validator,
    agent: jsonschema::Validator,
    actor: jsonschema::Validator,
}

impl VersionSchemas {
    fn compile(source: &str, name: &str) -> anyhow::Result<Self> {
        let doc: Value =
            serde_json::from_str(source).with_context(|| format!("parsing schema {name}"))?;
        let defs = doc.get("$defs").cloned().unwrap_or_else(|| json!({}));
        let part = |def: &str| -> anyhow::Result<jsonschema::Validator> {
            let schema = json!({ "$defs": defs, "$ref": format!("#/$defs/{def}") });
            jsonschema::draft202012::new(&schema)
                .map_err(|e| anyhow::anyhow!("compiling {name} #/$defs/{def}: {e}"))
        };
        Ok(VersionSchemas {
            statement: jsonschema::draft202012::new(&doc)
                .map_err(|e| anyhow::anyhow!("compiling {name}: {e}"))?,
            agent: part("agent")?,
            actor: part("actor")?,
        })
    }
}

/// Validates statements and agents for every supported xAPI version.
pub struct Validator {
    v1: VersionSchemas,
    v2: VersionSchemas,
}

impl Validator {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Validator {
            v1: VersionSchemas::compile(SCHEMA_1_0_3, "xapi-1.0.3")?,
            v2: VersionSchemas::compile(SCHEMA_2_0_0, "xapi-2.0.0")?,
        })
    }

    fn schemas(&self, version: XapiVersion) -> &VersionSchemas {
        match version {
            XapiVersion::V1 => &self.v1,
            XapiVersion::V2 => &self.v2,
        }
    }

    /// Checks one statement as a client sent it.
    pub fn statement(&self, version: XapiVersion, statement: &Value) -> Result<(), Violation> {
        check(&self.schemas(version).statement, statement)?;
        rules::statement(version, statement)
    }

    /// Checks an `agent` parameter (an Agent or an identified Group).
    pub fn actor(&self, version: XapiVersion, actor: &Value) -> Result<(), Violation> {
        check(&self.schemas(version).actor, actor)?;
        rules::actor(actor, "")
    }

    /// Checks an Agent (documents are keyed by an Agent, never a Group).
    pub fn agent(&self, version: XapiVersion, agent: &Value) -> Result<(), Violation> {
        check(&self.schemas(version).agent, agent)?;
        rules::actor(agent, "")
    }
}

/// Runs one compiled schema; the cheap boolean check first, the located error only on failure.
pub fn check(schema: &jsonschema::Validator, instance: &Value) -> Result<(), Violation> {
    if schema.is_valid(instance) {
        return Ok(());
    }
    match schema.validate(instance) {
        Ok(()) => Ok(()),
        Err(e) => Err(Violation::new(
            e.instance_path().as_str().to_owned(),
            "schema",
            format!("{e} (schema keyword `{}`)", e.kind().keyword()),
        )),
    }
}
