//! The storage contract of activity mapping: the activity-equivalence table, which maps the
//! id one source gives a piece of content (`urn:li:lyndaCourse:…`) to the id the tenant
//! calls it by, and activity definitions that come from catalogs rather than statements.

use async_trait::async_trait;
use serde_json::Value;

use super::{StoreResult, TenantId};

/// One row of the activity-equivalence table: statements about `alias` count as about
/// `canonical` for tagging, evidence and activity statistics (the statement itself is
/// kept as sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Equivalence {
    pub alias: String,
    pub canonical: String,
    /// Who set it, e.g. `linkedin-learning` or `manual`.
    pub source: String,
}

#[async_trait]
pub trait ActivityMapStore: Send + Sync {
    /// The tenant's activity-equivalence table, by alias.
    async fn equivalences(&self, tenant: TenantId) -> StoreResult<Vec<Equivalence>>;
    /// The canonical ids of those of `aliases` the table has, as (alias, canonical).
    async fn canonical_ids(
        &self,
        tenant: TenantId,
        aliases: &[String],
    ) -> StoreResult<Vec<(String, String)>>;
    /// Creates or replaces rows of the table.
    async fn put_equivalences(&self, tenant: TenantId, rows: Vec<Equivalence>) -> StoreResult<()>;
    /// Removes the row of `alias`; whether it existed.
    async fn delete_equivalence(&self, tenant: TenantId, alias: &str) -> StoreResult<bool>;

    /// Sets activity definitions that come from a catalog (a talk feed, a course catalog)
    /// rather than from statements: each is merged into the activity's stored definition
    /// the way a statement's definition is, so the Activities resource answers it.
    async fn put_catalog_definitions(
        &self,
        tenant: TenantId,
        definitions: Vec<(String, Value)>,
    ) -> StoreResult<()>;
}
