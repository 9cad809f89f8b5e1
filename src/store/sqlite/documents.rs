//! State, Activity Profile and Agent Profile documents on SQLite. Preconditions are
//! checked inside the writer's transaction, so concurrent writers cannot both win.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};

use super::SqliteStore;
use crate::store::{Document, DocumentScope, DocumentStore, StoreError, StoreResult, TenantId};
use crate::xapi::document::{etag_of, merge_json, Preconditions, WriteMode};

fn load(
    conn: &Connection,
    tenant: TenantId,
    scope: &DocumentScope,
    id: &str,
) -> StoreResult<Option<Document>> {
    let (kind, activity, agent, registration) = scope.key();
    let mut stmt = conn.prepare_cached(
        "SELECT content_type, content, etag, updated_ms FROM documents
         WHERE tenant = ?1 AND kind = ?2 AND activity_id = ?3 AND agent = ?4 AND registration = ?5 AND doc_id = ?6",
    )?;
    Ok(stmt
        .query_row(
            params![tenant, kind, activity, agent, registration, id],
            |r| {
                Ok(Document {
                    content_type: r.get(0)?,
                    content: r.get::<_, Vec<u8>>(1)?.into(),
                    etag: r.get(2)?,
                    updated_millis: r.get(3)?,
                })
            },
        )
        .optional()?)
}

#[async_trait]
impl DocumentStore for SqliteStore {
    async fn document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
    ) -> StoreResult<Option<Document>> {
        let (scope, id) = (scope.clone(), id.to_owned());
        self.read(move |conn| load(conn, tenant, &scope, &id)).await
    }

    async fn document_ids(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        since_millis: Option<i64>,
    ) -> StoreResult<Vec<String>> {
        let scope = scope.clone();
        self.read(move |conn| {
            let (kind, activity, agent, registration) = scope.key();
            let mut stmt = conn.prepare_cached(
                "SELECT doc_id FROM documents
                 WHERE tenant = ?1 AND kind = ?2 AND activity_id = ?3 AND agent = ?4 AND registration = ?5
                   AND updated_ms > ?6 ORDER BY doc_id",
            )?;
            let since = since_millis.unwrap_or(i64::MIN);
            let ids = stmt
                .query_map(params![tenant, kind, activity, agent, registration, since], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(ids)
        })
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
        let (scope, id, preconditions) = (scope.clone(), id.to_owned(), preconditions.clone());
        self.inner
            .writer
            .write(move |ctx| {
                let current = load(ctx.conn, tenant, &scope, &id)?;
                preconditions.check(current.as_ref().map(|d| d.etag.as_str()))?;
                let (content_type, content) = match (mode, current) {
                    (WriteMode::Merge, Some(old)) => (
                        new.content_type.clone(),
                        merge_json(&old.content, &old.content_type, &new.content, &new.content_type)
                            .map_err(StoreError::Invalid)?,
                    ),
                    _ => (new.content_type, new.content),
                };
                let doc = Document {
                    etag: etag_of(&content),
                    content_type,
                    content,
                    updated_millis: new.updated_millis.max(ctx.now.timestamp_millis()),
                };
                let (kind, activity, agent, registration) = scope.key();
                ctx.conn.execute(
                    "INSERT OR REPLACE INTO documents
                     (tenant, kind, activity_id, agent, registration, doc_id, content_type, content, etag, updated_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        tenant,
                        kind,
                        activity,
                        agent,
                        registration,
                        id,
                        doc.content_type,
                        doc.content.as_ref(),
                        doc.etag,
                        doc.updated_millis
                    ],
                )?;
                Ok(doc)
            })
            .await
    }

    async fn delete_documents(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: Option<&str>,
        preconditions: &Preconditions,
    ) -> StoreResult<()> {
        let (scope, id, preconditions) =
            (scope.clone(), id.map(str::to_owned), preconditions.clone());
        self.inner
            .writer
            .write(move |ctx| {
                let (kind, activity, agent, registration) = scope.key();
                match id {
                    Some(id) => {
                        let current = load(ctx.conn, tenant, &scope, &id)?;
                        preconditions.check(current.as_ref().map(|d| d.etag.as_str()))?;
                        ctx.conn.execute(
                            "DELETE FROM documents WHERE tenant = ?1 AND kind = ?2 AND activity_id = ?3
                               AND agent = ?4 AND registration = ?5 AND doc_id = ?6",
                            params![tenant, kind, activity, agent, registration, id],
                        )?;
                    }
                    None => {
                        ctx.conn.execute(
                            "DELETE FROM documents WHERE tenant = ?1 AND kind = ?2 AND activity_id = ?3
                               AND agent = ?4 AND registration = ?5",
                            params![tenant, kind, activity, agent, registration],
                        )?;
                    }
                }
                Ok(())
            })
            .await
    }
}
