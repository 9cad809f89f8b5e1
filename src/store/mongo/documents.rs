//! State, Activity Profile and Agent Profile documents on MongoDB. A write checks the
//! preconditions against what it read, then lands only if the document is still that
//! version (compare-and-set on the ETag, or a unique-index insert when it was absent);
//! otherwise it reads again, so concurrent writers on any gateway cannot both win.

use async_trait::async_trait;
use chrono::Utc;
use mongodb::bson::{doc, Document as BsonDocument};

use super::{backend, binary, collect, get_bytes, get_i64, get_str, is_duplicate_key, MongoStore};
use crate::store::{Document, DocumentScope, DocumentStore, StoreResult, TenantId};
use crate::xapi::document::{etag_of, merge_json, Preconditions, WriteMode};

/// Attempts before a write racing other writers gives up.
const MAX_ATTEMPTS: usize = 32;

fn scope_filter(tenant: TenantId, scope: &DocumentScope) -> BsonDocument {
    let (kind, activity_id, agent, registration) = scope.key();
    doc! {
        "tenant": tenant,
        "kind": kind,
        "activity_id": activity_id,
        "agent": agent,
        "registration": registration,
    }
}

fn key_filter(tenant: TenantId, scope: &DocumentScope, id: &str) -> BsonDocument {
    let mut filter = scope_filter(tenant, scope);
    filter.insert("doc_id", id);
    filter
}

/// A document as stored: its key, then its content and version.
pub(super) fn document_row(
    tenant: TenantId,
    scope: &DocumentScope,
    id: &str,
    d: &Document,
) -> BsonDocument {
    let mut row = key_filter(tenant, scope, id);
    row.insert("content_type", &d.content_type);
    row.insert("content", binary(d.content.to_vec()));
    row.insert("etag", &d.etag);
    row.insert("updated", d.updated_millis);
    row
}

pub(super) fn to_document(d: &BsonDocument) -> StoreResult<Document> {
    Ok(Document {
        content_type: get_str(d, "content_type")?,
        content: get_bytes(d, "content")?,
        etag: get_str(d, "etag")?,
        updated_millis: get_i64(d, "updated")?,
    })
}

fn too_busy(id: &str) -> crate::store::StoreError {
    backend(anyhow::anyhow!(
        "document {id}: too many concurrent writers, try again"
    ))
}

impl MongoStore {
    async fn load_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
    ) -> StoreResult<Option<Document>> {
        let found = self
            .coll("documents")
            .find_one(key_filter(tenant, scope, id))
            .await?;
        found.as_ref().map(to_document).transpose()
    }
}

#[async_trait]
impl DocumentStore for MongoStore {
    async fn document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
    ) -> StoreResult<Option<Document>> {
        self.load_document(tenant, scope, id).await
    }

    async fn document_ids(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        since_millis: Option<i64>,
    ) -> StoreResult<Vec<String>> {
        let mut filter = scope_filter(tenant, scope);
        if let Some(since) = since_millis {
            filter.insert("updated", doc! {"$gt": since});
        }
        let cursor = self
            .coll("documents")
            .find(filter)
            .projection(doc! {"doc_id": 1})
            .sort(doc! {"doc_id": 1})
            .await?;
        collect(cursor)
            .await?
            .iter()
            .map(|d| get_str(d, "doc_id"))
            .collect()
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
        let coll = self.coll("documents");
        for _ in 0..MAX_ATTEMPTS {
            let current = self.load_document(tenant, scope, id).await?;
            preconditions.check(current.as_ref().map(|d| d.etag.as_str()))?;
            let (content_type, content) = match (mode, &current) {
                (WriteMode::Merge, Some(old)) => (
                    new.content_type.clone(),
                    merge_json(
                        &old.content,
                        &old.content_type,
                        &new.content,
                        &new.content_type,
                    )
                    .map_err(crate::store::StoreError::Invalid)?,
                ),
                _ => (new.content_type.clone(), new.content.clone()),
            };
            let written = Document {
                etag: etag_of(&content),
                content_type,
                content,
                updated_millis: new.updated_millis.max(Utc::now().timestamp_millis()),
            };
            let row = document_row(tenant, scope, id, &written);
            let landed = match &current {
                None => match coll.insert_one(row).await {
                    Ok(_) => true,
                    Err(e) if is_duplicate_key(&e) => false,
                    Err(e) => return Err(e.into()),
                },
                Some(old) => {
                    let mut expected = key_filter(tenant, scope, id);
                    expected.insert("etag", &old.etag);
                    expected.insert("updated", old.updated_millis);
                    coll.replace_one(expected, row).await?.matched_count == 1
                }
            };
            if landed {
                return Ok(written);
            }
        }
        Err(too_busy(id))
    }

    async fn delete_documents(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: Option<&str>,
        preconditions: &Preconditions,
    ) -> StoreResult<()> {
        let coll = self.coll("documents");
        let Some(id) = id else {
            coll.delete_many(scope_filter(tenant, scope)).await?;
            return Ok(());
        };
        for _ in 0..MAX_ATTEMPTS {
            let current = self.load_document(tenant, scope, id).await?;
            preconditions.check(current.as_ref().map(|d| d.etag.as_str()))?;
            let Some(old) = current else { return Ok(()) };
            let mut expected = key_filter(tenant, scope, id);
            expected.insert("etag", &old.etag);
            expected.insert("updated", old.updated_millis);
            if coll.delete_one(expected).await?.deleted_count == 1 {
                return Ok(());
            }
        }
        Err(too_busy(id))
    }
}
