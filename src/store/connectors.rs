//! The storage contract of the gateway's connectors: their configurations and run state,
//! the leases that give one gateway among many the right to run a connector, and the dead
//! letters of forwarders.

use async_trait::async_trait;
use serde_json::Value;

use super::{StoreResult, TenantId};

/// The name of the lease that gives one gateway the right to run a connector; leases of
/// its parts (a forwarder's outbox, say) are named with this and `:` before their own name,
/// and go with the connector when it is deleted.
pub fn lease_prefix(tenant: TenantId, id: &str) -> String {
    format!("connector:{tenant}:{id}")
}

/// A connector as configured: its id (unique in its tenant) and its configuration as
/// JSON, secrets included. The store keeps it; callers never show the secrets.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorRecord {
    pub id: String,
    pub config: Value,
    pub updated_millis: i64,
}

/// A statement a forwarder gave up on, kept until it is replayed or dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    pub statement_id: String,
    /// The last error, as the operator should read it (no secrets).
    pub error: String,
    pub attempts: u32,
    pub failed_millis: i64,
}

#[async_trait]
pub trait ConnectorStore: Send + Sync {
    /// Every connector of the tenant, by id.
    async fn connectors(&self, tenant: TenantId) -> StoreResult<Vec<ConnectorRecord>>;
    /// Every connector of every tenant, for the scheduler.
    async fn all_connectors(&self) -> StoreResult<Vec<(TenantId, ConnectorRecord)>>;
    async fn connector(&self, tenant: TenantId, id: &str) -> StoreResult<Option<ConnectorRecord>>;
    /// Creates or replaces a connector's configuration (its state is kept); whether it was
    /// new.
    async fn put_connector(&self, tenant: TenantId, record: ConnectorRecord) -> StoreResult<bool>;
    /// Removes a connector with its state, lease and dead letters; whether it existed.
    async fn delete_connector(&self, tenant: TenantId, id: &str) -> StoreResult<bool>;

    /// A connector's run state (high-water marks, counts, last error), as it last saved it.
    async fn connector_state(&self, tenant: TenantId, id: &str) -> StoreResult<Option<Value>>;
    /// Saves a connector's run state durably (a crash after it resumes from here).
    async fn put_connector_state(
        &self,
        tenant: TenantId,
        id: &str,
        state: Value,
    ) -> StoreResult<()>;

    /// Takes or renews the lease `name` for `owner` until `now_millis + ttl_millis`: true
    /// when no other owner holds an unexpired lease on it (the lease is then `owner`'s).
    async fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        now_millis: i64,
        ttl_millis: i64,
    ) -> StoreResult<bool>;
    /// Gives the lease up if `owner` holds it.
    async fn release_lease(&self, name: &str, owner: &str) -> StoreResult<()>;

    /// Adds (or replaces, by statement id) dead letters of a connector.
    async fn add_dead_letters(
        &self,
        tenant: TenantId,
        connector: &str,
        letters: Vec<DeadLetter>,
    ) -> StoreResult<()>;
    /// A connector's dead letters, oldest first, at most `limit`.
    async fn dead_letters(
        &self,
        tenant: TenantId,
        connector: &str,
        limit: usize,
    ) -> StoreResult<Vec<DeadLetter>>;
    /// Removes those of `statement_ids` that are dead letters of the connector; how many.
    async fn remove_dead_letters(
        &self,
        tenant: TenantId,
        connector: &str,
        statement_ids: &[String],
    ) -> StoreResult<u64>;
}
