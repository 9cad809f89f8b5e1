//! The storage contract of the learning-experience answers: opportunities (projects,
//! assignments, jobs and the skills they need), and the few evidence reads the candidate,
//! upskilling and recommendation answers need beyond `EvidenceStore` — counts on the
//! per-person sums' index, the evidence of a set of items in time order, the catalog's
//! entries for a set of items, and a number that moves whenever evidence changes (for
//! caching what is costly to recompute).

use async_trait::async_trait;

use super::competency::Alignment;
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
}
