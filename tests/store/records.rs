//! Statements with the data ingest derives from them — tags, evidence, teams — for the
//! store tests. Every such statement is built by [`stored`] and written by [`insert`], so
//! a change in how statements carry derived data is one edit here.

use lrsgate::competency::{Method, Tag};
use lrsgate::evidence::{EvidenceItem, Outcome, Weight};
use lrsgate::store::evidence::SeenTeam;
use lrsgate::store::people::own_person;
use lrsgate::store::{NewStatement, Store, StoreResult, TenantId};
use lrsgate::xapi::agent::ifi_key;
use serde_json::Value;

use crate::contract::{agent_key, prepared};

/// The framework every test item belongs to.
pub const FRAMEWORK: &str = "https://skills.example.com";

/// A statement as ingest hands it to the store, with what was derived from it.
pub fn stored(
    statement: Value,
    tags: Vec<Tag>,
    evidence: Vec<EvidenceItem>,
    teams: Vec<SeenTeam>,
) -> NewStatement {
    NewStatement {
        tags,
        evidence,
        teams,
        ..prepared(statement)
    }
}

/// Stores one batch of [`stored`] statements in a tenant.
pub async fn insert(store: &Store, tenant: TenantId, batch: Vec<NewStatement>) -> StoreResult<()> {
    store
        .statements
        .insert_statements(tenant, batch, Vec::new())
        .await
}

/// The IRI of a framework item.
pub fn item(name: &str) -> String {
    format!("{FRAMEWORK}/{name}")
}

/// A rule's tag for an item.
pub fn tag(name: &str, confidence: f64) -> Tag {
    Tag {
        item: item(name),
        framework: FRAMEWORK.into(),
        confidence,
        method: Method::Rule,
        rule: Some(format!("rule-{name}")),
        detail: None,
    }
}

/// The person an agent of [`crate::contract::agent`] is while none of its identities is
/// linked.
pub fn person(name: &str) -> String {
    own_person(&agent_key(name))
}

/// What a statement's outcome says, for activity figures.
pub fn outcome(completed: bool, success: Option<bool>, scaled: Option<f64>) -> Outcome {
    Outcome {
        completed,
        success,
        scaled,
    }
}

/// A statement's evidence for an item: its actor, object and verb, with `normalized` as
/// the weight at the epoch and `at_millis` as the time it happened.
pub fn evidence(
    statement: &Value,
    name: &str,
    normalized: f64,
    at_millis: i64,
    outcome: Outcome,
) -> EvidenceItem {
    let (verb, result, confidence, trust) = (1.0, 0.5, 0.75, 1.0);
    EvidenceItem {
        statement: statement["id"].as_str().unwrap().to_owned(),
        identity: ifi_key(&statement["actor"]).unwrap(),
        item: item(name),
        activity: match statement["object"]["objectType"].as_str() {
            Some("Activity") | None => statement["object"]["id"].as_str().unwrap().to_owned(),
            Some(_) => String::new(),
        },
        verb: statement["verb"]["id"].as_str().unwrap().to_owned(),
        outcome,
        weight: Weight {
            verb,
            result,
            confidence,
            trust,
            value: verb * result * confidence * trust,
        },
        at_millis,
        normalized,
    }
}

/// A statement tagged with items, each with its evidence at `at_millis`: (item,
/// normalized weight).
pub fn tagged(
    statement: &Value,
    items: &[(&str, f64)],
    at_millis: i64,
    o: Outcome,
) -> NewStatement {
    let tags = items.iter().map(|(name, _)| tag(name, 0.75)).collect();
    let evidence = items
        .iter()
        .map(|(name, normalized)| evidence(statement, name, *normalized, at_millis, o))
        .collect();
    stored(statement.clone(), tags, evidence, Vec::new())
}
