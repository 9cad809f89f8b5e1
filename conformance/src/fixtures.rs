//! Builders of statements, agents and activities whose identifiers are unique to one run
//! and one check, so checks never see each other's data and repeated runs against the same
//! LRS never collide. The check id is part of every IRI so an operator can tell where a
//! record in their LRS came from.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

/// The host of every IRI and e-mail address the suite makes up (reserved by RFC 2606).
pub const HOST: &str = "lrs-conformance.example.org";

/// A verb every LRS knows, for statements whose verb does not matter.
pub const EXPERIENCED: &str = "http://adlnet.gov/expapi/verbs/experienced";

/// Fixture builder of one check in one run.
#[derive(Clone, Debug)]
pub struct Fixtures {
    /// `<run>/<check id>`, the namespace of this check's IRIs.
    scope: Arc<str>,
    counter: Arc<AtomicU32>,
}

impl Fixtures {
    pub fn new(run: &str, check: &str) -> Self {
        Fixtures {
            scope: format!("{run}/{check}").into(),
            counter: Arc::default(),
        }
    }

    fn next(&self) -> u32 {
        self.counter.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// A fresh `http://…` IRI of the given kind (`activity`, `verb`, …).
    pub fn iri(&self, kind: &str) -> String {
        format!("http://{HOST}/{}/{kind}/{}", self.scope, self.next())
    }

    /// A fresh statement id (a random UUID: ids must be unique across runs).
    pub fn uuid(&self) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    /// A fresh `mailto:` IRI.
    pub fn mbox(&self) -> String {
        let local = self.scope.replace(['/', '.'], "-");
        format!("mailto:{local}-{}@{HOST}", self.next())
    }

    /// A fresh Agent identified by mbox.
    pub fn agent(&self) -> Value {
        json!({ "objectType": "Agent", "name": "Conformance Learner", "mbox": self.mbox() })
    }

    /// A fresh Activity with a definition.
    pub fn activity(&self) -> Value {
        json!({
            "objectType": "Activity",
            "id": self.iri("activity"),
            "definition": {
                "name": { "en-US": "Conformance activity" },
                "type": "http://adlnet.gov/expapi/activities/assessment"
            }
        })
    }

    /// A fresh Verb.
    pub fn verb(&self) -> Value {
        json!({ "id": self.iri("verb"), "display": { "en-US": "exercised" } })
    }

    /// A valid statement: a fresh Agent experienced a fresh Activity. No id, so callers
    /// choose whether to set one.
    pub fn statement(&self) -> Value {
        json!({
            "actor": self.agent(),
            "verb": { "id": EXPERIENCED, "display": { "en-US": "experienced" } },
            "object": self.activity()
        })
    }

    /// [`Fixtures::statement`] with the given actor and a fresh activity.
    pub fn statement_by(&self, actor: &Value) -> Value {
        let mut statement = self.statement();
        statement["actor"] = actor.clone();
        statement
    }
}
