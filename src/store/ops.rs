//! What an operator asks of a store, whatever its backend: is it reachable, is its schema
//! current, how far derived evidence trails the statements, and a clean close at
//! shutdown. Also the timing of store operations for `/metrics`: the statement and
//! document handles of [`Store`](super::Store) are wrapped once, so both backends are
//! measured in one place.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;

use super::{
    AttachmentData, Cursor, Document, DocumentScope, DocumentStore, NewStatement, StatementPage,
    StatementQuery, StatementStore, StatementTextPage, StoreResult, StoredStatement, TenantId,
};
use crate::metrics::store_operation_took;
use crate::xapi::document::{Preconditions, WriteMode};

/// How far the evidence file trails its journal.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EvidenceLag {
    /// Journal entries committed but not applied yet.
    pub entries: u64,
    /// Age of the oldest of them, in seconds (0 when none is pending).
    pub seconds: f64,
}

#[async_trait]
pub trait OperationsStore: Send + Sync {
    /// Reaches the store with a trivial read.
    async fn ping(&self) -> StoreResult<()>;

    /// `Err` naming what is missing when the store's schema is older than this build's
    /// (its migrations have not run).
    async fn schema_current(&self) -> StoreResult<Result<(), String>>;

    /// How far derived evidence trails the statements (zero where the backend writes
    /// evidence with the statement itself).
    fn evidence_lag(&self) -> EvidenceLag;

    /// Applies what is pending (the evidence journal) and stops the store's background
    /// work. Called once, at shutdown, after the last request was answered; what it does
    /// not finish stays durable and is picked up at the next start.
    async fn close(&self) -> StoreResult<()>;
}

/// Runs `f`, recording how long it took as `operation`.
async fn timed<T>(operation: &'static str, f: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let out = f.await;
    store_operation_took(operation, started.elapsed());
    out
}

/// The statements handle, timed.
pub(super) struct TimedStatements(pub Arc<dyn StatementStore>);

#[async_trait]
impl StatementStore for TimedStatements {
    async fn insert_statements(
        &self,
        tenant: TenantId,
        batch: Vec<NewStatement>,
        attachments: Vec<AttachmentData>,
    ) -> StoreResult<()> {
        timed(
            "insert_statements",
            self.0.insert_statements(tenant, batch, attachments),
        )
        .await
    }

    async fn statement(&self, tenant: TenantId, id: &str) -> StoreResult<Option<StoredStatement>> {
        timed("statement", self.0.statement(tenant, id)).await
    }

    async fn query_statements(
        &self,
        tenant: TenantId,
        query: &StatementQuery,
        cursor: Option<Cursor>,
    ) -> StoreResult<StatementPage> {
        timed(
            "query_statements",
            self.0.query_statements(tenant, query, cursor),
        )
        .await
    }

    async fn query_statement_texts(
        &self,
        tenant: TenantId,
        query: &StatementQuery,
        cursor: Option<Cursor>,
    ) -> StoreResult<StatementTextPage> {
        timed(
            "query_statements",
            self.0.query_statement_texts(tenant, query, cursor),
        )
        .await
    }

    async fn attachments(
        &self,
        tenant: TenantId,
        hashes: &[String],
    ) -> StoreResult<Vec<AttachmentData>> {
        timed("attachments", self.0.attachments(tenant, hashes)).await
    }

    async fn consistent_through(&self) -> StoreResult<i64> {
        // Asked on every Statements answer and usually answered from memory: not timed.
        self.0.consistent_through().await
    }
}

/// The documents handle, timed.
pub(super) struct TimedDocuments(pub Arc<dyn DocumentStore>);

#[async_trait]
impl DocumentStore for TimedDocuments {
    async fn document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
    ) -> StoreResult<Option<Document>> {
        timed("document", self.0.document(tenant, scope, id)).await
    }

    async fn document_ids(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        since_millis: Option<i64>,
    ) -> StoreResult<Vec<String>> {
        timed(
            "document_ids",
            self.0.document_ids(tenant, scope, since_millis),
        )
        .await
    }

    async fn write_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        new: Document,
        mode: WriteMode,
        preconditions: &Preconditions,
    ) -> StoreResult<Document> {
        timed(
            "write_document",
            self.0
                .write_document(tenant, scope, id, new, mode, preconditions),
        )
        .await
    }

    async fn delete_documents(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: Option<&str>,
        preconditions: &Preconditions,
    ) -> StoreResult<()> {
        timed(
            "delete_documents",
            self.0.delete_documents(tenant, scope, id, preconditions),
        )
        .await
    }
}
