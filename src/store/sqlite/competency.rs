//! Frameworks, tagging rules, the activity catalog and statement tags on SQLite.

use std::collections::HashMap;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::writer::WriteCtx;
use super::{backend, evidence, SqliteStore};
use crate::store::competency::{
    parse_tags, tags_json, CompetencyStore, FrameworkRecord, RetagPage, Retagged, RuleRecord,
    TaggedStatement,
};
use crate::store::competency::{Alignment, Tag};
use crate::store::{StoreError, StoreResult, TenantId};

fn bump_revision(conn: &Connection, tenant: TenantId) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO tagging_revisions (tenant, revision) VALUES (?1, 1)
         ON CONFLICT (tenant) DO UPDATE SET revision = revision + 1",
        params![tenant],
    )?;
    Ok(())
}

impl SqliteStore {
    /// A change of frameworks or rules: whether it touched a row, bumping the tenant's
    /// tagging revision when it did.
    async fn revising<F>(&self, tenant: TenantId, change: F) -> StoreResult<bool>
    where
        F: FnOnce(&WriteCtx<'_>) -> rusqlite::Result<usize> + Send + 'static,
    {
        self.inner
            .writer
            .write(move |ctx| {
                let changed = change(ctx)? > 0;
                if changed {
                    bump_revision(ctx.conn, tenant)?;
                }
                Ok(changed)
            })
            .await
    }
}

const FRAMEWORK_COLUMNS: &str = "id, iri, version, active, body, created_ms, updated_ms";

fn framework_of(r: &Row<'_>) -> rusqlite::Result<FrameworkRecord> {
    Ok(FrameworkRecord {
        id: r.get(0)?,
        iri: r.get(1)?,
        version: r.get(2)?,
        active: r.get(3)?,
        body: r.get(4)?,
        created_millis: r.get(5)?,
        updated_millis: r.get(6)?,
    })
}

fn parse_alignments(text: &str) -> StoreResult<Vec<Alignment>> {
    serde_json::from_str(text).map_err(backend)
}

#[async_trait]
impl CompetencyStore for SqliteStore {
    async fn tagging_revision(&self, tenant: TenantId) -> StoreResult<i64> {
        self.read_point(move |conn| {
            Ok(conn
                .prepare_cached("SELECT revision FROM tagging_revisions WHERE tenant = ?1")?
                .query_row(params![tenant], |r| r.get(0))
                .optional()?
                .unwrap_or(0))
        })
        .await
    }

    async fn insert_framework(&self, tenant: TenantId, f: FrameworkRecord) -> StoreResult<()> {
        self.inner
            .writer
            .write(move |ctx| {
                let inserted = ctx.conn.execute(
                    "INSERT INTO frameworks (tenant, id, iri, version, active, body, created_ms, updated_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
                    params![tenant, f.id, f.iri, f.version, f.active, f.body, f.created_millis, f.updated_millis],
                )?;
                if inserted == 0 {
                    return Err(StoreError::Conflict(format!(
                        "framework {} version {} exists already",
                        f.iri, f.version
                    )));
                }
                bump_revision(ctx.conn, tenant)?;
                Ok(())
            })
            .await
    }

    async fn frameworks(&self, tenant: TenantId) -> StoreResult<Vec<FrameworkRecord>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {FRAMEWORK_COLUMNS} FROM frameworks WHERE tenant = ?1 ORDER BY created_ms, id"
            ))?;
            let rows = stmt
                .query_map(params![tenant], framework_of)?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn framework(&self, tenant: TenantId, id: &str) -> StoreResult<Option<FrameworkRecord>> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {FRAMEWORK_COLUMNS} FROM frameworks WHERE tenant = ?1 AND id = ?2"
                    ),
                    params![tenant, id],
                    framework_of,
                )
                .optional()?)
        })
        .await
    }

    async fn set_framework_active(
        &self,
        tenant: TenantId,
        id: &str,
        active: bool,
    ) -> StoreResult<bool> {
        let id = id.to_owned();
        self.revising(tenant, move |ctx| {
            ctx.conn.execute(
                "UPDATE frameworks SET active = ?3, updated_ms = ?4 WHERE tenant = ?1 AND id = ?2",
                params![tenant, id, active, ctx.now.timestamp_millis()],
            )
        })
        .await
    }

    async fn delete_framework(&self, tenant: TenantId, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        self.revising(tenant, move |ctx| {
            ctx.conn.execute(
                "DELETE FROM frameworks WHERE tenant = ?1 AND id = ?2",
                params![tenant, id],
            )
        })
        .await
    }

    async fn put_rule(&self, tenant: TenantId, rule: RuleRecord) -> StoreResult<bool> {
        self.inner
            .writer
            .write(move |ctx| {
                let existed: bool = ctx.conn.query_row(
                    "SELECT EXISTS (SELECT 1 FROM tagging_rules WHERE tenant = ?1 AND id = ?2)",
                    params![tenant, rule.id],
                    |r| r.get(0),
                )?;
                ctx.conn.execute(
                    "INSERT INTO tagging_rules (tenant, id, body, updated_ms) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (tenant, id) DO UPDATE SET body = excluded.body, updated_ms = excluded.updated_ms",
                    params![tenant, rule.id, rule.body, rule.updated_millis],
                )?;
                bump_revision(ctx.conn, tenant)?;
                Ok(!existed)
            })
            .await
    }

    async fn rules(&self, tenant: TenantId) -> StoreResult<Vec<RuleRecord>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, body, updated_ms FROM tagging_rules WHERE tenant = ?1 ORDER BY id",
            )?;
            let rows = stmt
                .query_map(params![tenant], |r| {
                    Ok(RuleRecord {
                        id: r.get(0)?,
                        body: r.get(1)?,
                        updated_millis: r.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn delete_rule(&self, tenant: TenantId, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        self.revising(tenant, move |ctx| {
            ctx.conn.execute(
                "DELETE FROM tagging_rules WHERE tenant = ?1 AND id = ?2",
                params![tenant, id],
            )
        })
        .await
    }

    async fn put_alignments(
        &self,
        tenant: TenantId,
        activity_id: &str,
        alignments: Vec<Alignment>,
    ) -> StoreResult<()> {
        let activity_id = activity_id.to_owned();
        let text = serde_json::to_string(&alignments).map_err(backend)?;
        self.inner
            .writer
            .write(move |ctx| {
                if alignments.is_empty() {
                    ctx.conn.execute(
                        "DELETE FROM activity_alignments WHERE tenant = ?1 AND activity_id = ?2",
                        params![tenant, activity_id],
                    )?;
                } else {
                    ctx.conn.execute(
                        "INSERT INTO activity_alignments (tenant, activity_id, alignments, updated_ms) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (tenant, activity_id) DO UPDATE SET alignments = excluded.alignments, updated_ms = excluded.updated_ms",
                        params![tenant, activity_id, text, ctx.now.timestamp_millis()],
                    )?;
                }
                Ok(())
            })
            .await
    }

    async fn alignments(
        &self,
        tenant: TenantId,
        activity_ids: &[String],
    ) -> StoreResult<HashMap<String, Vec<Alignment>>> {
        if activity_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let ids = activity_ids.to_vec();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT alignments FROM activity_alignments WHERE tenant = ?1 AND activity_id = ?2",
            )?;
            let mut out = HashMap::new();
            for id in ids {
                let found: Option<String> = stmt
                    .query_row(params![tenant, id], |r| r.get(0))
                    .optional()?;
                if let Some(text) = found {
                    out.insert(id, parse_alignments(&text)?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn catalog(
        &self,
        tenant: TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<(String, Vec<Alignment>)>> {
        let after = after.unwrap_or_default().to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT activity_id, alignments FROM activity_alignments
                 WHERE tenant = ?1 AND activity_id > ?2 ORDER BY activity_id LIMIT ?3",
            )?;
            let rows: Vec<(String, String)> = stmt
                .query_map(params![tenant, after, limit as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<Result<_, _>>()?;
            rows.into_iter()
                .map(|(id, text)| Ok((id, parse_alignments(&text)?)))
                .collect()
        })
        .await
    }

    async fn statement_tags(&self, tenant: TenantId, id: &str) -> StoreResult<Option<Vec<Tag>>> {
        let id = id.to_owned();
        self.read(move |conn| {
            let row: Option<Option<String>> = conn
                .query_row(
                    "SELECT tags FROM statements WHERE tenant = ?1 AND id = ?2",
                    params![tenant, id],
                    |r| r.get(0),
                )
                .optional()?;
            row.map(|tags| parse_tags(tags.as_deref())).transpose()
        })
        .await
    }

    async fn retag_page(
        &self,
        tenant: TenantId,
        after: Option<String>,
        limit: usize,
    ) -> StoreResult<RetagPage> {
        let after: i64 = match after {
            Some(token) => token.parse().map_err(|_| {
                backend(anyhow::anyhow!("retag position `{token}` is not a number"))
            })?,
            None => 0,
        };
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, id, body, tags FROM statements
                 WHERE tenant = ?1 AND voided = 0 AND seq > ?2 ORDER BY seq LIMIT ?3",
            )?;
            let rows: Vec<(i64, String, String, Option<String>)> = stmt
                .query_map(params![tenant, after, limit as i64], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect::<Result<_, _>>()?;
            let next = (rows.len() == limit)
                .then(|| rows.last().map(|r| r.0.to_string()))
                .flatten();
            let statements = rows
                .into_iter()
                .map(|(_, id, body, tags)| {
                    Ok(TaggedStatement {
                        id,
                        body,
                        tags: parse_tags(tags.as_deref())?,
                    })
                })
                .collect::<StoreResult<_>>()?;
            Ok(RetagPage { statements, next })
        })
        .await
    }

    async fn replace_tags(&self, tenant: TenantId, retagged: Vec<Retagged>) -> StoreResult<()> {
        let rows = retagged
            .into_iter()
            .map(|r| Ok((tags_json(&r.tags)?, r)))
            .collect::<StoreResult<Vec<_>>>()?;
        self.inner
            .writer
            .write(move |ctx| {
                let mut update = ctx.conn.prepare_cached(
                    "UPDATE statements SET tags = ?3 WHERE tenant = ?1 AND id = ?2 AND voided = 0
                     RETURNING seq",
                )?;
                for (text, r) in rows {
                    let seq: Option<i64> = update
                        .query_row(params![tenant, r.id, text], |row| row.get(0))
                        .optional()?;
                    if let Some(seq) = seq {
                        evidence::withdraw(ctx.conn, tenant, seq)?;
                        evidence::record(ctx.conn, tenant, seq, &r.evidence)?;
                    }
                }
                Ok(())
            })
            .await
    }
}
