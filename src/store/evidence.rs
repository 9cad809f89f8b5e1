//! The storage contract of skill evidence: one row per tag of a non-voided statement, on
//! the person its actor is, and the aggregates kept beside it at every write (per person
//! and item, per item and activity), so answers read indexes instead of scanning.
//!
//! Backends keep them current themselves: a stored statement's `evidence` is recorded
//! with it, a voided statement's is withdrawn, retagging replaces it, and linking or
//! unlinking identities moves it between people. A read answers with every write
//! acknowledged before it, however the backend defers the work (SQLite applies it on a
//! thread of its own and makes reads wait for it).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{StoreResult, TenantId};

/// One statement's evidence for one item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceItem {
    pub statement: String,
    /// The actor's identity (IFI key); its person is resolved when the item is stored.
    pub identity: String,
    pub item: String,
    /// The object activity's id; empty when the object is not an Activity.
    pub activity: String,
    pub verb: String,
    pub outcome: Outcome,
    pub weight: Weight,
    /// When it happened (the statement's `timestamp`, else `stored`), Unix ms.
    pub at_millis: i64,
    /// The weight expressed at the epoch, for sums that rank without decaying.
    pub normalized: f64,
}

/// What the statement's result says of the activity, for its completion and success rates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Outcome {
    pub completed: bool,
    pub success: Option<bool>,
    pub scaled: Option<f64>,
}

/// One evidence item's weight, with every factor shown so an answer can explain it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Weight {
    pub verb: f64,
    pub result: f64,
    pub confidence: f64,
    pub trust: f64,
    /// The product: what the item adds (or, when negative, takes away) at its time.
    pub value: f64,
}

/// One evidence item as stored: the item itself and the person it counts for.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceRow {
    pub person: String,
    pub item: EvidenceItem,
}

/// A person's evidence for one item, summed.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonItem {
    pub person: String,
    pub item: String,
    /// Sum of the evidence's weights expressed at the epoch (see `evidence::weights`).
    pub normalized: f64,
    pub evidence: u64,
    pub first_millis: i64,
    pub last_millis: i64,
}

/// What people did with one activity, as evidence for one item.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ActivityStats {
    pub activity: String,
    /// Evidence statements.
    pub statements: u64,
    /// People with evidence from it (counted when their first statement about it arrives).
    pub learners: u64,
    /// Statements completing it (`completed`, `passed`, `mastered`, `result.completion`).
    pub completions: u64,
    /// Statements with success (`passed`, `mastered`, `result.success: true`).
    pub successes: u64,
    /// Statements with failure (`failed`, `result.success: false`).
    pub failures: u64,
    pub score_sum: f64,
    /// Statements with `result.score.scaled`.
    pub scored: u64,
}

/// How often an item's people also have evidence for other items.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CoOccurrence {
    /// People with any evidence.
    pub people: u64,
    /// People with evidence for each item (the asked item among them).
    pub per_item: Vec<(String, u64)>,
    /// People with evidence for both the asked item and another, by the other.
    pub with_item: Vec<(String, u64)>,
}

/// Where a team comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamOrigin {
    /// An identified xAPI Group seen in statements (as actor or `context.team`).
    Statements,
    /// Defined through the API.
    Api,
}

impl TeamOrigin {
    pub fn name(self) -> &'static str {
        match self {
            TeamOrigin::Statements => "statements",
            TeamOrigin::Api => "api",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "statements" => Some(TeamOrigin::Statements),
            "api" => Some(TeamOrigin::Api),
            _ => None,
        }
    }
}

/// A team and its members.
#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub origin: TeamOrigin,
    /// The Group's IFI key, for teams seen in statements.
    pub group: Option<String>,
    /// (IFI key, IFI-only Agent as JSON text), by IFI key.
    pub members: Vec<(String, String)>,
}

/// An identified Group seen in a statement, to keep as a team (members accumulate).
#[derive(Debug, Clone, PartialEq)]
pub struct SeenTeam {
    pub id: String,
    pub group: String,
    pub name: String,
    pub members: Vec<(String, String)>,
}

#[async_trait]
pub trait EvidenceStore: Send + Sync {
    /// A person's evidence, for one item or all, newest first.
    async fn person_evidence(
        &self,
        tenant: TenantId,
        person: &str,
        item: Option<&str>,
    ) -> StoreResult<Vec<EvidenceRow>>;
    /// The evidence sums of these people, every item.
    async fn person_items(
        &self,
        tenant: TenantId,
        people: &[String],
    ) -> StoreResult<Vec<PersonItem>>;
    /// People by their evidence sum for an item, highest first.
    async fn ranked(
        &self,
        tenant: TenantId,
        item: &str,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<PersonItem>>;
    /// Co-occurrence of an item with the others in people's evidence.
    async fn co_occurrence(&self, tenant: TenantId, item: &str) -> StoreResult<CoOccurrence>;
    /// The activities that are evidence for an item.
    async fn activity_stats(&self, tenant: TenantId, item: &str)
        -> StoreResult<Vec<ActivityStats>>;

    /// Teams by id, after `after`.
    async fn teams(
        &self,
        tenant: TenantId,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<Vec<Team>>;
    async fn team(&self, tenant: TenantId, id: &str) -> StoreResult<Option<Team>>;
    /// Creates or replaces a team; whether it was new.
    async fn put_team(&self, tenant: TenantId, team: Team) -> StoreResult<bool>;
    async fn delete_team(&self, tenant: TenantId, id: &str) -> StoreResult<bool>;
}

/// The `outcome` of evidence as one number: bit 0 completed, bit 1 success, bit 2 failure.
pub fn outcome_bits(o: &Outcome) -> i64 {
    i64::from(o.completed)
        | i64::from(o.success == Some(true)) << 1
        | i64::from(o.success == Some(false)) << 2
}

/// The outcome back from [`outcome_bits`] and the scaled score.
pub fn outcome_from(bits: i64, scaled: Option<f64>) -> Outcome {
    Outcome {
        completed: bits & 1 != 0,
        success: match (bits & 2 != 0, bits & 4 != 0) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        scaled,
    }
}

/// Weight factors as stored: `[verb, result, confidence, trust]`; the value is their product.
pub fn weight_from(factors: [f64; 4]) -> Weight {
    let [verb, result, confidence, trust] = factors;
    Weight {
        verb,
        result,
        confidence,
        trust,
        value: verb * result * confidence * trust,
    }
}
