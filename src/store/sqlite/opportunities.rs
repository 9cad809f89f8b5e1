//! Opportunities on SQLite (`opportunities` in the main database, one row per tenant and
//! id with the whole opportunity as JSON text), and the evidence reads of the
//! learning-experience answers, on the evidence file: range counts on
//! `person_ranks`, items' rows by person and time, and the applied journal position
//! as the evidence version.

use std::collections::HashSet;

use async_trait::async_trait;
use rusqlite::{params, params_from_iter, OptionalExtension, Row};

use super::evidence::{id_of, Kind, PersonKey, PersonName, Scope};
use super::SqliteStore;
use crate::store::competency::Alignment;
use crate::store::evidence::LevelScale;
use crate::store::opportunities::{LevelFigures, OpportunityRecord, OpportunityStore, TimelineRow};
use crate::store::{StoreResult, TenantId};

fn record(r: &Row<'_>) -> rusqlite::Result<OpportunityRecord> {
    Ok(OpportunityRecord {
        id: r.get(0)?,
        status: r.get(1)?,
        body: r.get(2)?,
        updated_millis: r.get(3)?,
    })
}

/// A timeline row's columns as `timeline_row` reads them, from `derived.evidence e`
/// joined to the names of its ids by `TIMELINE_NAMES`.
const TIMELINE_COLUMNS: &str = "e.person, i.name, a.name, e.at_ms, e.normalized";
const TIMELINE_NAMES: &str = "CROSS JOIN derived.item_names i ON i.id = e.item
     CROSS JOIN derived.activity_names a ON a.id = e.activity";

fn timeline_row(r: &Row<'_>) -> rusqlite::Result<TimelineRow> {
    Ok(TimelineRow {
        person: r.get::<_, PersonName>(0)?.0,
        item: r.get(1)?,
        activity: r.get(2)?,
        at_millis: r.get(3)?,
        normalized: r.get(4)?,
    })
}

impl SqliteStore {
    /// Whether the evidence file keeps the aggregates of these targets: levels 1–5 on the
    /// store's scale. Anything else is walked.
    fn keeps_levels(&self, scale: &LevelScale, items: &[(String, u8)]) -> bool {
        *scale == self.inner.levels && items.iter().all(|(_, t)| (1..=5).contains(t))
    }
}

#[async_trait]
impl OpportunityStore for SqliteStore {
    async fn put_opportunity(
        &self,
        tenant: TenantId,
        record: OpportunityRecord,
    ) -> StoreResult<bool> {
        self.inner
            .writer
            .write(move |ctx| {
                let existed = ctx
                    .conn
                    .prepare_cached("SELECT 1 FROM opportunities WHERE tenant = ?1 AND id = ?2")?
                    .exists(params![tenant, record.id])?;
                ctx.conn
                    .prepare_cached(
                        "INSERT OR REPLACE INTO opportunities (tenant, id, status, body, updated_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?
                    .execute(params![
                        tenant,
                        record.id,
                        record.status,
                        record.body,
                        record.updated_millis
                    ])?;
                Ok(!existed)
            })
            .await
    }

    async fn opportunity(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> StoreResult<Option<OpportunityRecord>> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT id, status, body, updated_ms FROM opportunities
                     WHERE tenant = ?1 AND id = ?2",
                )?
                .query_row(params![tenant, id], record)
                .optional()?)
        })
        .await
    }

    async fn opportunities(
        &self,
        tenant: TenantId,
        status: Option<&str>,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<Vec<OpportunityRecord>> {
        let status = status.map(str::to_owned);
        let after = after.unwrap_or_default().to_owned();
        self.read(move |conn| {
            let rows = match status {
                Some(status) => conn
                    .prepare_cached(
                        "SELECT id, status, body, updated_ms FROM opportunities
                         INDEXED BY opportunities_by_status
                         WHERE tenant = ?1 AND status = ?2 AND id > ?3 ORDER BY id LIMIT ?4",
                    )?
                    .query_map(params![tenant, status, after, limit as i64], record)?
                    .collect::<Result<_, _>>()?,
                None => conn
                    .prepare_cached(
                        "SELECT id, status, body, updated_ms FROM opportunities
                         WHERE tenant = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                    )?
                    .query_map(params![tenant, after, limit as i64], record)?
                    .collect::<Result<_, _>>()?,
            };
            Ok(rows)
        })
        .await
    }

    async fn delete_opportunity(&self, tenant: TenantId, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        self.inner
            .writer
            .write(move |ctx| {
                let n = ctx
                    .conn
                    .prepare_cached("DELETE FROM opportunities WHERE tenant = ?1 AND id = ?2")?
                    .execute(params![tenant, id])?;
                Ok(n > 0)
            })
            .await
    }

    async fn evidence_people(&self, tenant: TenantId) -> StoreResult<u64> {
        self.read_evidence_of(tenant, Scope::Tenant, move |conn| {
            // Kept by the evidence thread with the upskilling aggregates.
            let n: Option<i64> = conn
                .prepare_cached("SELECT people FROM derived.path_population WHERE tenant = ?1")?
                .query_row(params![tenant], |r| r.get(0))
                .optional()?;
            Ok(n.unwrap_or(0).max(0) as u64)
        })
        .await
    }

    async fn people_at_least(
        &self,
        tenant: TenantId,
        item: &str,
        thresholds: &[f64],
    ) -> StoreResult<Vec<u64>> {
        let (owned, thresholds) = (item.to_owned(), thresholds.to_vec());
        self.read_evidence_of(tenant, Scope::Item(item), move |conn| {
            let item = owned;
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT count(*) FROM derived.person_ranks
                 WHERE tenant = ?1 AND item = {item} AND normalized >= ?3",
                item = id_of("derived", Kind::Item, "?2"),
            ))?;
            thresholds
                .iter()
                .map(|t| {
                    let n: i64 = stmt.query_row(params![tenant, item, t], |r| r.get(0))?;
                    Ok(n.max(0) as u64)
                })
                .collect()
        })
        .await
    }

    async fn timelines(
        &self,
        tenant: TenantId,
        items: &[String],
        people: Option<&[String]>,
    ) -> StoreResult<Vec<TimelineRow>> {
        let items = items.to_vec();
        let scope = match people {
            Some(people) => Scope::People(people),
            None => Scope::Tenant,
        };
        let people = people.map(<[String]>::to_vec);
        self.read_evidence_of(tenant, scope, move |conn| {
            let mut rows: Vec<TimelineRow> = Vec::new();
            match people {
                Some(people) => {
                    let mut stmt = conn.prepare_cached(&format!(
                        "SELECT {TIMELINE_COLUMNS}
                         FROM derived.evidence e INDEXED BY evidence_by_person {TIMELINE_NAMES}
                         WHERE e.tenant = ?1 AND e.person = ?2 AND e.item = ?3"
                    ))?;
                    let items = super::evidence::found_names(conn, Kind::Item, items.clone())?;
                    for person in &people {
                        for (_, item) in &items {
                            for row in stmt
                                .query_map(params![tenant, PersonKey(person), item], timeline_row)?
                            {
                                rows.push(row?);
                            }
                        }
                    }
                }
                None if items.is_empty() => {}
                None => {
                    // One pass over the tenant's rows; the items are few (a role's needs).
                    let marks = vec!["?"; items.len()].join(", ");
                    let sql = format!(
                        "SELECT {TIMELINE_COLUMNS} FROM derived.evidence e {TIMELINE_NAMES}
                         WHERE e.tenant = ? AND e.item IN
                             (SELECT id FROM derived.item_names WHERE name IN ({marks}))"
                    );
                    let mut args: Vec<rusqlite::types::Value> = vec![tenant.into()];
                    args.extend(items.iter().map(|i| i.clone().into()));
                    let mut stmt = conn.prepare(&sql)?;
                    for row in stmt.query_map(params_from_iter(args), timeline_row)? {
                        rows.push(row?);
                    }
                }
            }
            rows.sort_by(|a, b| a.person.cmp(&b.person).then(a.at_millis.cmp(&b.at_millis)));
            Ok(rows)
        })
        .await
    }

    async fn catalog_for_items(
        &self,
        tenant: TenantId,
        items: &[String],
    ) -> StoreResult<Vec<(String, Alignment)>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let items = items.to_vec();
        self.read(move |conn| {
            let wanted: HashSet<&str> = items.iter().map(String::as_str).collect();
            // One pass over the catalog; rows naming none of the items are never parsed.
            let named = vec!["instr(alignments, ?) > 0"; items.len()].join(" OR ");
            let mut stmt = conn.prepare(&format!(
                "SELECT activity_id, alignments FROM activity_alignments
                 WHERE tenant = ? AND ({named})"
            ))?;
            let mut args: Vec<rusqlite::types::Value> = vec![tenant.into()];
            args.extend(items.iter().map(|i| i.clone().into()));
            let rows: Vec<(String, String)> = stmt
                .query_map(params_from_iter(args), |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let mut out = Vec::new();
            for (activity, text) in rows {
                let alignments: Vec<Alignment> =
                    serde_json::from_str(&text).map_err(super::backend)?;
                let mut seen = HashSet::new();
                for a in alignments {
                    if wanted.contains(a.item.as_str()) && seen.insert(a.item.clone()) {
                        out.push((activity.clone(), a));
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    async fn level_figures(
        &self,
        tenant: TenantId,
        scale: &LevelScale,
        items: &[(String, u8)],
        now_millis: i64,
        then: &[i64],
    ) -> StoreResult<Option<Vec<LevelFigures>>> {
        if !self.keeps_levels(scale, items) {
            return Ok(None);
        }
        let (scale, items, then) = (*scale, items.to_vec(), then.to_vec());
        self.read_evidence_of(tenant, Scope::Tenant, move |conn| {
            let figures = items
                .iter()
                .map(|(item, target)| {
                    let f = super::evidence::path_figures(
                        conn,
                        "derived",
                        &scale,
                        tenant,
                        (item, *target),
                        now_millis,
                        &then,
                    )?;
                    Ok(LevelFigures {
                        people: f.people,
                        at_least: f.at_least,
                        reached_then: f.reached_then,
                        closers: f.closers,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Some(figures))
        })
        .await
    }

    async fn level_closers(
        &self,
        tenant: TenantId,
        scale: &LevelScale,
        items: &[(String, u8)],
    ) -> StoreResult<Option<Vec<Vec<(String, u64, u64)>>>> {
        if !self.keeps_levels(scale, items) {
            return Ok(None);
        }
        let items = items.to_vec();
        self.read_evidence_of(tenant, Scope::Tenant, move |conn| {
            let closers = items
                .iter()
                .map(|(item, target)| {
                    super::evidence::path_closers(conn, "derived", tenant, (item, *target))
                })
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Some(closers))
        })
        .await
    }

    async fn evidence_version(&self, tenant: TenantId) -> StoreResult<i64> {
        self.read_evidence_of(tenant, Scope::Tenant, |conn| {
            Ok(conn
                .prepare_cached("SELECT journal FROM derived.applied WHERE id = 1")?
                .query_row([], |r| r.get(0))?)
        })
        .await
    }
}
