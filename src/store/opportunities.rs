//! The storage contract of the learning-experience answers: opportunities (projects,
//! assignments, jobs and the skills they need), and the few evidence reads the candidate,
//! upskilling and recommendation answers need beyond `EvidenceStore` — counts on the
//! per-person sums' index, the evidence of a set of items in time order, the catalog's
//! entries for a set of items, and a number that moves whenever evidence changes (for
//! caching what is costly to recompute).

use async_trait::async_trait;

use super::competency::Alignment;
use super::evidence::LevelScale;
use super::{StoreResult, TenantId};

/// An opportunity as stored: its id, whether it is open, and the whole of it as JSON text
/// (the shape `evidence::opportunities` defines).
#[derive(Debug, Clone, PartialEq)]
pub struct OpportunityRecord {
    pub id: String,
    /// `open` or `closed`.
    pub status: String,
    pub body: String,
    pub updated_millis: i64,
}

/// One evidence row as the upskilling answers read it.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineRow {
    pub person: String,
    pub item: String,
    /// Empty when the statement's object is not an Activity.
    pub activity: String,
    pub at_millis: i64,
    /// The weight expressed at the epoch (see `evidence::weights`).
    pub normalized: f64,
}

/// An item's upskilling figures against a target level, read from aggregates the store
/// keeps as evidence is applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LevelFigures {
    /// People with evidence for the item.
    pub people: u64,
    /// People at level `l` or above now, at `l - 1`, for `l` from 1 to the target.
    pub at_least: Vec<u64>,
    /// People at the target or above at each asked moment (their evidence up to then,
    /// decayed to then).
    pub reached_then: Vec<u64>,
    /// Per activity done while below the target: (activity, learners, of whom reached).
    pub closers: Vec<(String, u64, u64)>,
}

#[async_trait]
pub trait OpportunityStore: Send + Sync {
    /// Creates or replaces an opportunity; whether it was new.
    async fn put_opportunity(
        &self,
        tenant: TenantId,
        record: OpportunityRecord,
    ) -> StoreResult<bool>;
    async fn opportunity(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> StoreResult<Option<OpportunityRecord>>;
    /// Opportunities by id after `after`, only those of `status` when given.
    async fn opportunities(
        &self,
        tenant: TenantId,
        status: Option<&str>,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<Vec<OpportunityRecord>>;
    /// Whether it existed.
    async fn delete_opportunity(&self, tenant: TenantId, id: &str) -> StoreResult<bool>;

    /// People with evidence for any item (the tenant's population of learners).
    async fn evidence_people(&self, tenant: TenantId) -> StoreResult<u64>;
    /// For each threshold, the people whose normalized sum for `item` is at least it (a
    /// range count on the sums' ranking index).
    async fn people_at_least(
        &self,
        tenant: TenantId,
        item: &str,
        thresholds: &[f64],
    ) -> StoreResult<Vec<u64>>;
    /// Every evidence row of `items` (of `people` only, when given), by person then time.
    async fn timelines(
        &self,
        tenant: TenantId,
        items: &[String],
        people: Option<&[String]>,
    ) -> StoreResult<Vec<TimelineRow>>;
    /// The catalog entries aligned with any of `items`: (activity id, alignment), one per
    /// activity and item.
    async fn catalog_for_items(
        &self,
        tenant: TenantId,
        items: &[String],
    ) -> StoreResult<Vec<(String, Alignment)>>;
    /// A number that changes whenever the tenant's evidence may have changed.
    async fn evidence_version(&self, tenant: TenantId) -> StoreResult<i64>;
    /// The figures of each (item, target level) over everyone with evidence, at `now` and
    /// at each of `then`, from aggregates kept up to date — or None when the backend keeps
    /// none for `scale` (the caller then walks `timelines`).
    async fn level_figures(
        &self,
        _tenant: TenantId,
        _scale: &LevelScale,
        _items: &[(String, u8)],
        _now_millis: i64,
        _then: &[i64],
    ) -> StoreResult<Option<Vec<LevelFigures>>> {
        Ok(None)
    }
    /// Only the closers of each (item, target level), from the aggregates `level_figures`
    /// reads: (activity, learners, reached). None as there.
    async fn level_closers(
        &self,
        _tenant: TenantId,
        _scale: &LevelScale,
        _items: &[(String, u8)],
    ) -> StoreResult<Option<Vec<Vec<(String, u64, u64)>>>> {
        Ok(None)
    }
}
