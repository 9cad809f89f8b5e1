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

/// The moment normalized sums are expressed at (2020-01-01T00:00:00Z, Unix ms).
pub const EPOCH_MILLIS: i64 = 1_577_836_800_000;

const DAY_MILLIS: f64 = 86_400_000.0;

/// How sums become levels: the half-life evidence decays with and the decayed score each
/// level from 2 to 5 starts at (any positive score is level 1). The evidence weights own
/// these numbers; the store keeps aggregates by level (`upskilling_figures`), so it knows
/// them too, and this is the one place their arithmetic is written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelScale {
    pub half_life_days: f64,
    pub level_from: [f64; 4],
}

impl Default for LevelScale {
    fn default() -> Self {
        LevelScale {
            half_life_days: 365.0,
            level_from: [1.0, 2.5, 5.0, 8.0],
        }
    }
}

impl LevelScale {
    fn half_lives_since_epoch(&self, millis: i64) -> f64 {
        (millis - EPOCH_MILLIS) as f64 / DAY_MILLIS / self.half_life_days
    }

    /// A weight at `at_millis` expressed at the epoch.
    pub fn normalized(&self, value: f64, at_millis: i64) -> f64 {
        value * self.half_lives_since_epoch(at_millis).exp2()
    }

    /// What a normalized sum is worth at `now_millis`.
    pub fn score_at(&self, normalized: f64, now_millis: i64) -> f64 {
        normalized * (-self.half_lives_since_epoch(now_millis)).exp2()
    }

    /// The score a level (1–5) starts at; level 1 is any positive score.
    pub fn level_start(&self, level: u8) -> f64 {
        match level {
            0 | 1 => 0.0,
            l => self.level_from[usize::from(l.min(5)) - 2],
        }
    }

    /// The level (0–5) a decayed score reaches.
    pub fn level(&self, score: f64) -> u8 {
        if score <= 0.0 {
            return 0;
        }
        1 + self
            .level_from
            .iter()
            .filter(|from| score >= **from)
            .count() as u8
    }

    /// The level a normalized sum stands at, at `at_millis`.
    pub fn level_at(&self, normalized: f64, at_millis: i64) -> u8 {
        self.level(self.score_at(normalized, at_millis))
    }
}

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

/// A person's place in an item's ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedSum {
    pub person: String,
    /// As in [`PersonItem::normalized`].
    pub normalized: f64,
    pub last_millis: i64,
}

impl From<PersonItem> for RankedSum {
    fn from(s: PersonItem) -> Self {
        RankedSum {
            person: s.person,
            normalized: s.normalized,
            last_millis: s.last_millis,
        }
    }
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
    /// The evidence of these people for these items, by person, then item (each in the
    /// order given), then newest first: one read for many people and items.
    async fn people_evidence(
        &self,
        tenant: TenantId,
        people: &[String],
        items: &[String],
    ) -> StoreResult<Vec<EvidenceRow>>;
    /// The evidence sums of these people, every item.
    async fn person_items(
        &self,
        tenant: TenantId,
        people: &[String],
    ) -> StoreResult<Vec<PersonItem>>;
    /// The sums of these people for these items only.
    async fn person_sums(
        &self,
        tenant: TenantId,
        people: &[String],
        items: &[String],
    ) -> StoreResult<Vec<PersonItem>> {
        let mut sums = self.person_items(tenant, people).await?;
        sums.retain(|s| items.contains(&s.item));
        Ok(sums)
    }
    /// People by their evidence sum for an item, highest first.
    async fn ranked(
        &self,
        tenant: TenantId,
        item: &str,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<PersonItem>>;
    /// The same ranking with only what ranking against needs uses: the person, their sum
    /// and their newest evidence (a store may read that more cheaply).
    async fn ranked_sums(
        &self,
        tenant: TenantId,
        item: &str,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<RankedSum>> {
        let rows = self.ranked(tenant, item, offset, limit).await?;
        Ok(rows.into_iter().map(RankedSum::from).collect())
    }
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
