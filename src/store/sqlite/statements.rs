//! Statements on SQLite: inserts with their index rows, and queries driven by the
//! `statement_index` primary key so no filter needs a scan.

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use serde_json::Value;

use super::{backend, SqliteStore};
use crate::store::{
    AttachmentData, Cursor, StatementPage, StatementQuery, StatementStore, StoreError, StoreResult,
    StoredStatement, TenantId,
};
use crate::xapi::statement::{merge_definition, ActivityDefinition};
use crate::xapi::{Fingerprint, IndexKind, PreparedStatement};

#[async_trait]
impl StatementStore for SqliteStore {
    async fn insert_statements(
        &self,
        tenant: TenantId,
        batch: Vec<PreparedStatement>,
        attachments: Vec<AttachmentData>,
    ) -> StoreResult<()> {
        self.inner
            .writer
            .write(move |ctx| {
                insert_batch(ctx.conn, tenant, batch, ctx.now)?;
                let mut put = ctx.conn.prepare_cached(
                    "INSERT OR IGNORE INTO attachments (tenant, sha2, content_type, content) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for a in attachments {
                    put.execute(params![tenant, a.sha2, a.content_type, a.content.as_ref()])?;
                }
                Ok(())
            })
            .await
    }

    async fn statement(&self, tenant: TenantId, id: &str) -> StoreResult<Option<StoredStatement>> {
        let id = id.to_ascii_lowercase();
        self.read(move |conn| {
            let row = conn
                .query_row(
                    "SELECT body, voided, stored_ms FROM statements WHERE tenant = ?1 AND id = ?2",
                    params![tenant, id],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, bool>(1)?,
                            r.get::<_, i64>(2)?,
                        ))
                    },
                )
                .optional()?;
            row.map(|(body, voided, stored_millis)| {
                Ok(StoredStatement {
                    body: serde_json::from_str(&body).map_err(backend)?,
                    voided,
                    stored_millis,
                })
            })
            .transpose()
        })
        .await
    }

    async fn query_statements(
        &self,
        tenant: TenantId,
        query: &StatementQuery,
        cursor: Option<Cursor>,
    ) -> StoreResult<StatementPage> {
        let query = query.clone();
        self.read(move |conn| run_query(conn, tenant, &query, cursor))
            .await
    }

    async fn attachments(
        &self,
        tenant: TenantId,
        hashes: &[String],
    ) -> StoreResult<Vec<AttachmentData>> {
        let hashes = hashes.to_vec();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT sha2, content_type, content FROM attachments WHERE tenant = ?1 AND sha2 = ?2",
            )?;
            let mut found = Vec::new();
            for h in hashes {
                let row = stmt
                    .query_row(params![tenant, h], |r| {
                        Ok(AttachmentData {
                            sha2: r.get(0)?,
                            content_type: r.get(1)?,
                            content: r.get::<_, Vec<u8>>(2)?.into(),
                        })
                    })
                    .optional()?;
                found.extend(row);
            }
            Ok(found)
        })
        .await
    }

    async fn consistent_through(&self) -> StoreResult<i64> {
        Ok(self.inner.writer.consistent_through())
    }
}

fn insert_batch(
    conn: &Connection,
    tenant: TenantId,
    batch: Vec<PreparedStatement>,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    let mut existing =
        conn.prepare_cached("SELECT fingerprint FROM statements WHERE tenant = ?1 AND id = ?2")?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO statements (tenant, id, stored_ms, voiding, fingerprint, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut index = conn.prepare_cached(
        "INSERT OR IGNORE INTO statement_index (tenant, kind, key, seq) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut void = conn.prepare_cached(
        "UPDATE statements SET voided = 1 WHERE tenant = ?1 AND id = ?2 AND voiding = 0",
    )?;
    let mut name = conn.prepare_cached(
        "INSERT OR IGNORE INTO agent_names (tenant, ifi, name) VALUES (?1, ?2, ?3)",
    )?;

    for mut st in batch {
        let prior: Option<Vec<u8>> = existing
            .query_row(params![tenant, st.id], |r| r.get(0))
            .optional()?;
        if let Some(prior) = prior {
            let same = Fingerprint::from_bytes(&prior).is_some_and(|p| st.fingerprint.matches(&p));
            if !same {
                return Err(StoreError::Conflict(format!(
                    "statement {} already exists with different content; statements are immutable",
                    st.id
                )));
            }
            continue;
        }
        st.set_stored(now);
        insert.execute(params![
            tenant,
            st.id,
            now.timestamp_millis(),
            st.voids.is_some(),
            st.fingerprint.to_bytes(),
            st.json
        ])?;
        let seq = conn.last_insert_rowid();
        for key in &st.index {
            index.execute(params![tenant, key.kind.code(), key.key, seq])?;
        }
        if let Some(target) = &st.voids {
            void.execute(params![tenant, target])?;
        }
        for definition in &st.activities {
            merge_activity(conn, tenant, definition)?;
        }
        for (ifi, n) in &st.agent_names {
            name.execute(params![tenant, ifi, n])?;
        }
    }
    Ok(())
}

/// Keeps the Activities resource current; most statements repeat the stored definition,
/// which costs one point read.
fn merge_activity(
    conn: &Connection,
    tenant: TenantId,
    incoming: &ActivityDefinition,
) -> StoreResult<()> {
    let mut read =
        conn.prepare_cached("SELECT definition FROM activities WHERE tenant = ?1 AND id = ?2")?;
    let stored: Option<String> = read
        .query_row(params![tenant, incoming.id], |r| r.get(0))
        .optional()?;
    let merged = match stored {
        Some(text) if text == incoming.text => return Ok(()),
        Some(text) => {
            let mut current: Value = serde_json::from_str(&text).map_err(backend)?;
            merge_definition(&mut current, &incoming.definition);
            current.to_string()
        }
        None => incoming.text.clone(),
    };
    conn.prepare_cached(
        "INSERT OR REPLACE INTO activities (tenant, id, definition) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![tenant, incoming.id, merged])?;
    Ok(())
}

/// The greatest `seq` stored at or before `millis` (0 when none): `stored` never decreases
/// along `seq`, so a time bound becomes a `seq` bound.
fn seq_at(conn: &Connection, millis: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT seq FROM statements WHERE stored_ms <= ?1 ORDER BY stored_ms DESC, seq DESC LIMIT 1",
        params![millis],
        |r| r.get(0),
    )
    .optional()
    .map(|s| s.unwrap_or(0))
}

fn run_query(
    conn: &Connection,
    tenant: TenantId,
    q: &StatementQuery,
    cursor: Option<Cursor>,
) -> StoreResult<StatementPage> {
    let bound = match cursor {
        Some(c) => c.bound,
        None => conn.query_row("SELECT coalesce(max(seq), 0) FROM statements", [], |r| {
            r.get(0)
        })?,
    };
    let mut low = match q.since_millis {
        Some(ms) => seq_at(conn, ms)?,
        None => 0,
    };
    let mut high = match q.until_millis {
        Some(ms) => seq_at(conn, ms)?.min(bound),
        None => bound,
    };
    match cursor.and_then(|c| c.after) {
        Some(after) if q.ascending => low = low.max(after),
        Some(after) => high = high.min(after - 1),
        None => {}
    }

    let mut filters: Vec<(IndexKind, String)> = Vec::new();
    if let Some(r) = &q.registration {
        filters.push((IndexKind::Registration, r.clone()));
    }
    if let Some(a) = &q.agent {
        let kind = if q.related_agents {
            IndexKind::AgentRelated
        } else {
            IndexKind::Agent
        };
        filters.push((kind, a.clone()));
    }
    if let Some(a) = &q.activity {
        let kind = if q.related_activities {
            IndexKind::ActivityRelated
        } else {
            IndexKind::Activity
        };
        filters.push((kind, a.clone()));
    }
    if let Some(v) = &q.verb {
        filters.push((IndexKind::Verb, v.clone()));
    }

    let order = if q.ascending { "ASC" } else { "DESC" };
    let mut args: Vec<SqlValue> = vec![tenant.into(), low.into(), high.into()];
    let sql = match filters.split_first() {
        // Driven by the first filter's index range, in seq order; the others are probes.
        Some(((kind, key), rest)) => {
            args.push(kind.code().into());
            args.push(key.clone().into());
            let mut sql = String::from(
                "SELECT s.seq, s.body FROM statement_index i JOIN statements s ON s.seq = i.seq
                 WHERE i.tenant = ?1 AND i.seq > ?2 AND i.seq <= ?3 AND i.kind = ?4 AND i.key = ?5 AND s.voided = 0",
            );
            for (kind, key) in rest {
                args.push(kind.code().into());
                args.push(key.clone().into());
                let (k, v) = (args.len() - 1, args.len());
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM statement_index j WHERE j.tenant = ?1 AND j.kind = ?{k} AND j.key = ?{v} AND j.seq = i.seq)"
                ));
            }
            sql.push_str(&format!(" ORDER BY i.seq {order}"));
            sql
        }
        None => format!(
            "SELECT s.seq, s.body FROM statements s
             WHERE s.tenant = ?1 AND s.voided = 0 AND s.seq > ?2 AND s.seq <= ?3 ORDER BY s.seq {order}"
        ),
    };
    args.push(i64::from(q.limit).saturating_add(1).into());
    let sql = format!("{sql} LIMIT ?{}", args.len());

    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let mut statements = Vec::new();
    let mut last_seq = None;
    let mut has_more = false;
    while let Some(row) = rows.next()? {
        if statements.len() == q.limit as usize {
            has_more = true;
            break;
        }
        let seq: i64 = row.get(0)?;
        let body: String = row.get(1)?;
        statements.push(serde_json::from_str(&body).map_err(backend)?);
        last_seq = Some(seq);
    }
    let next = if has_more {
        Some(Cursor {
            after: last_seq,
            bound,
        })
    } else {
        None
    };
    Ok(StatementPage { statements, next })
}
