//! Skill evidence on SQLite. Writes append their evidence changes to the main database's
//! journal (`journal`); the evidence thread applies them to the evidence file
//! (`applier`), which read connections attach as `derived`. Reads by person name their
//! index: without statistics the planner prefers a scan of the tenant's primary key.

mod applier;
mod erase;
mod journal;
mod names;
mod paths;
mod pending;
mod person;
mod sums;
mod tallies;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::SqliteStore;
use crate::store::evidence::EvidenceItem;
use crate::store::evidence::{
    outcome_from, weight_from, ActivityStats, CoOccurrence, EvidenceRow, EvidenceStore, PersonItem,
    RankedSum, SeenTeam, Team, TeamOrigin,
};
use crate::store::{StoreResult, TenantId};

pub(super) use applier::{start as start_applier, EvidenceSync};
pub(super) use journal::{erase as erase_evidence, erase_people};
pub(super) use journal::{head as journal_head, move_identity, person_of, record, withdraw};
pub(super) use names::{found as found_names, id_of, Kind};
use names::{found, name_of};
pub(super) use paths::{closers as path_closers, ensure as ensure_paths, figures as path_figures};
pub(super) use pending::Scope;
pub(super) use person::{PersonKey, PersonName};

/// Keeps the identified Groups a statement names as teams, adding members as they appear.
pub(super) fn keep_teams(
    conn: &Connection,
    tenant: TenantId,
    teams: &[SeenTeam],
    now_millis: i64,
) -> rusqlite::Result<()> {
    for team in teams {
        conn.prepare_cached(
            "INSERT INTO teams (tenant, id, name, origin, group_ifi, updated_ms)
             VALUES (?1, ?2, ?3, 'statements', ?4, ?5)
             ON CONFLICT (tenant, id) DO NOTHING",
        )?
        .execute(params![tenant, team.id, team.name, team.group, now_millis])?;
        let mut member = conn.prepare_cached(
            "INSERT OR IGNORE INTO team_members (tenant, team, ifi, agent) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (ifi, agent) in &team.members {
            member.execute(params![tenant, team.id, ifi, agent])?;
        }
    }
    Ok(())
}

/// An evidence row's columns as `evidence_row` reads them, from `derived.evidence e`
/// joined to the names of its ids by `EVIDENCE_NAMES`.
const COLUMNS: &str = "e.person, e.statement, i.name, d.name, a.name, v.name, e.verb_w,
     e.result_w, e.confidence, e.trust, e.at_ms, e.normalized, e.outcome, e.scaled";

/// The names of the ids of an evidence row `e`. Joined rather than a subquery per column,
/// which would open and free a cursor for every row it names.
const EVIDENCE_NAMES: &str = "CROSS JOIN derived.item_names i ON i.id = e.item
     CROSS JOIN derived.identity_names d ON d.id = e.identity
     CROSS JOIN derived.activity_names a ON a.id = e.activity
     CROSS JOIN derived.verb_names v ON v.id = e.verb";

fn evidence_row(r: &Row<'_>) -> rusqlite::Result<EvidenceRow> {
    Ok(EvidenceRow {
        person: r.get::<_, PersonName>(0)?.0,
        item: EvidenceItem {
            statement: r.get(1)?,
            item: r.get(2)?,
            identity: r.get(3)?,
            activity: r.get(4)?,
            verb: r.get(5)?,
            weight: weight_from([r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?]),
            at_millis: r.get(10)?,
            normalized: r.get(11)?,
            outcome: outcome_from(r.get(12)?, r.get(13)?),
        },
    })
}

/// A sum's columns as `person_item` reads them, from `derived.person_items s` (or
/// `person_ranks`, which has the same columns) joined to its item's name by `SUM_NAMES`.
const SUM_COLUMNS: &str = "s.person, i.name, s.normalized, s.evidence, s.first_ms, s.last_ms";
const SUM_NAMES: &str = "CROSS JOIN derived.item_names i ON i.id = s.item";

fn person_item(r: &Row<'_>) -> rusqlite::Result<PersonItem> {
    Ok(PersonItem {
        person: r.get::<_, PersonName>(0)?.0,
        item: r.get(1)?,
        normalized: r.get(2)?,
        evidence: r.get(3)?,
        first_millis: r.get(4)?,
        last_millis: r.get(5)?,
    })
}

fn team_members(
    conn: &Connection,
    tenant: TenantId,
    id: &str,
) -> rusqlite::Result<Vec<(String, String)>> {
    conn.prepare_cached(
        "SELECT ifi, agent FROM team_members WHERE tenant = ?1 AND team = ?2 ORDER BY ifi",
    )?
    .query_map(params![tenant, id], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

fn team_row(
    conn: &Connection,
    tenant: TenantId,
    (id, name, origin, group): (String, String, String, Option<String>),
) -> rusqlite::Result<Team> {
    Ok(Team {
        members: team_members(conn, tenant, &id)?,
        id,
        name,
        origin: TeamOrigin::from_name(&origin).unwrap_or(TeamOrigin::Api),
        group,
    })
}

type TeamColumns = (String, String, String, Option<String>);

fn team_columns(r: &Row<'_>) -> rusqlite::Result<TeamColumns> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

#[async_trait]
impl EvidenceStore for SqliteStore {
    async fn person_evidence(
        &self,
        tenant: TenantId,
        person: &str,
        item: Option<&str>,
    ) -> StoreResult<Vec<EvidenceRow>> {
        let scope = Scope::Person(person);
        let (person, item) = (person.to_owned(), item.map(str::to_owned));
        self.read_evidence_of(tenant, scope, move |conn| {
            let rows = match item {
                Some(item) => conn
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM derived.evidence e INDEXED BY evidence_by_person {EVIDENCE_NAMES}
                         WHERE e.tenant = ?1 AND e.person = ?2 AND e.item = {item}
                         ORDER BY e.at_ms DESC",
                        item = id_of("derived", Kind::Item, "?3"),
                    ))?
                    .query_map(params![tenant, PersonKey(&person), item], evidence_row)?
                    .collect::<Result<_, _>>()?,
                None => conn
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM derived.evidence e INDEXED BY evidence_by_person {EVIDENCE_NAMES}
                         WHERE e.tenant = ?1 AND e.person = ?2 ORDER BY e.at_ms DESC"
                    ))?
                    .query_map(params![tenant, PersonKey(&person)], evidence_row)?
                    .collect::<Result<_, _>>()?,
            };
            Ok(rows)
        })
        .await
    }

    async fn people_evidence(
        &self,
        tenant: TenantId,
        people: &[String],
        items: &[String],
    ) -> StoreResult<Vec<EvidenceRow>> {
        let scope = Scope::People(people);
        let (people, items) = (people.to_vec(), items.to_vec());
        self.read_evidence_of(tenant, scope, move |conn| {
            let items = found(conn, Kind::Item, items)?;
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM derived.evidence e INDEXED BY evidence_by_person {EVIDENCE_NAMES}
                 WHERE e.tenant = ?1 AND e.person = ?2 AND e.item = ?3 ORDER BY e.at_ms DESC"
            ))?;
            let mut out = Vec::new();
            for person in &people {
                for (_, item) in &items {
                    let rows = stmt.query_map(params![tenant, PersonKey(person), item], evidence_row)?;
                    for row in rows {
                        out.push(row?);
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    async fn person_items(
        &self,
        tenant: TenantId,
        people: &[String],
    ) -> StoreResult<Vec<PersonItem>> {
        let scope = Scope::People(people);
        let people = people.to_vec();
        self.read_evidence_of(tenant, scope, move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {SUM_COLUMNS} FROM derived.person_items s {SUM_NAMES}
                 WHERE s.tenant = ?1 AND s.person = ?2"
            ))?;
            let mut out = Vec::new();
            for person in people {
                for row in stmt.query_map(params![tenant, PersonKey(&person)], person_item)? {
                    out.push(row?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn person_sums(
        &self,
        tenant: TenantId,
        people: &[String],
        items: &[String],
    ) -> StoreResult<Vec<PersonItem>> {
        let scope = Scope::People(people);
        let (people, items) = (people.to_vec(), items.to_vec());
        self.read_evidence_of(tenant, scope, move |conn| {
            let items = found(conn, Kind::Item, items)?;
            // The point reads of a ranking's candidates: the names asked are the names
            // answered, so only the sums are read.
            let mut stmt = conn.prepare_cached(
                "SELECT normalized, evidence, first_ms, last_ms FROM derived.person_items
                 WHERE tenant = ?1 AND person = ?2 AND item = ?3",
            )?;
            let mut out = Vec::new();
            for person in &people {
                for (item, item_id) in &items {
                    let sum = stmt
                        .query_row(params![tenant, PersonKey(person), item_id], |r| {
                            Ok(PersonItem {
                                person: person.clone(),
                                item: item.clone(),
                                normalized: r.get(0)?,
                                evidence: r.get(1)?,
                                first_millis: r.get(2)?,
                                last_millis: r.get(3)?,
                            })
                        })
                        .optional()?;
                    out.extend(sum);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn ranked(
        &self,
        tenant: TenantId,
        item: &str,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<PersonItem>> {
        let scope = Scope::Item(item);
        let item = item.to_owned();
        self.read_evidence_of(tenant, scope, move |conn| {
            let rows = conn
                .prepare_cached(&format!(
                    "SELECT {SUM_COLUMNS} FROM derived.person_ranks s {SUM_NAMES}
                     WHERE s.tenant = ?1 AND s.item = {item}
                     ORDER BY s.normalized DESC LIMIT ?3 OFFSET ?4",
                    item = id_of("derived", Kind::Item, "?2"),
                ))?
                .query_map(
                    params![tenant, item, limit as i64, offset as i64],
                    person_item,
                )?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn ranked_sums(
        &self,
        tenant: TenantId,
        item: &str,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<RankedSum>> {
        let scope = Scope::Item(item);
        let item = item.to_owned();
        self.read_evidence_of(tenant, scope, move |conn| {
            let rows = conn
                .prepare_cached(&format!(
                    "SELECT person, normalized, last_ms FROM derived.person_ranks
                     WHERE tenant = ?1 AND item = {item}
                     ORDER BY normalized DESC LIMIT ?3 OFFSET ?4",
                    item = id_of("derived", Kind::Item, "?2"),
                ))?
                .query_map(params![tenant, item, limit as i64, offset as i64], |r| {
                    Ok(RankedSum {
                        person: r.get::<_, PersonName>(0)?.0,
                        normalized: r.get(1)?,
                        last_millis: r.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn co_occurrence(&self, tenant: TenantId, item: &str) -> StoreResult<CoOccurrence> {
        let item = item.to_owned();
        self.read_evidence_of(tenant, Scope::Tenant, move |conn| {
            let people: i64 = conn
                .prepare_cached(
                    "SELECT count(DISTINCT person) FROM derived.person_items WHERE tenant = ?1",
                )?
                .query_row(params![tenant], |r| r.get(0))?;
            let per_item = conn
                .prepare_cached(&format!(
                    "SELECT {item}, n FROM (SELECT item, count(*) AS n FROM derived.person_ranks
                     WHERE tenant = ?1 GROUP BY item)",
                    item = name_of("derived", Kind::Item, "item"),
                ))?
                .query_map(params![tenant], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let with_item = conn
                .prepare_cached(&format!(
                    "SELECT {item}, n FROM (SELECT b.item, count(*) AS n
                     FROM derived.person_ranks a JOIN derived.person_items b
                         ON b.tenant = a.tenant AND b.person = a.person
                     WHERE a.tenant = ?1 AND a.item = {item_id} AND b.item <> a.item
                     GROUP BY b.item)",
                    item = name_of("derived", Kind::Item, "item"),
                    item_id = id_of("derived", Kind::Item, "?2"),
                ))?
                .query_map(params![tenant, item], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok(CoOccurrence {
                people: people as u64,
                per_item,
                with_item,
            })
        })
        .await
    }

    async fn activity_stats(
        &self,
        tenant: TenantId,
        item: &str,
    ) -> StoreResult<Vec<ActivityStats>> {
        let scope = Scope::Item(item);
        let item = item.to_owned();
        self.read_evidence_of(tenant, scope, move |conn| {
            let rows = conn
                .prepare_cached(&format!(
                    "SELECT activity, statements, learners, completions, successes, failures,
                         score_sum, scored
                     FROM derived.activity_stats WHERE tenant = ?1 AND item = {item}",
                    item = id_of("derived", Kind::Item, "?2"),
                ))?
                .query_map(params![tenant, item], |r| {
                    Ok(ActivityStats {
                        activity: r.get(0)?,
                        statements: r.get(1)?,
                        learners: r.get(2)?,
                        completions: r.get(3)?,
                        successes: r.get(4)?,
                        failures: r.get(5)?,
                        score_sum: r.get(6)?,
                        scored: r.get(7)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn teams(
        &self,
        tenant: TenantId,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<Vec<Team>> {
        let after = after.unwrap_or_default().to_owned();
        self.read(move |conn| {
            let heads: Vec<TeamColumns> = conn
                .prepare_cached(
                    "SELECT id, name, origin, group_ifi FROM teams
                     WHERE tenant = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
                )?
                .query_map(params![tenant, after, limit as i64], team_columns)?
                .collect::<Result<_, _>>()?;
            let teams = heads
                .into_iter()
                .map(|head| team_row(conn, tenant, head))
                .collect::<Result<_, _>>()?;
            Ok(teams)
        })
        .await
    }

    async fn team(&self, tenant: TenantId, id: &str) -> StoreResult<Option<Team>> {
        let id = id.to_owned();
        self.read(move |conn| {
            let head = conn
                .prepare_cached(
                    "SELECT id, name, origin, group_ifi FROM teams WHERE tenant = ?1 AND id = ?2",
                )?
                .query_row(params![tenant, id], team_columns)
                .optional()?;
            Ok(head.map(|h| team_row(conn, tenant, h)).transpose()?)
        })
        .await
    }

    async fn put_team(&self, tenant: TenantId, team: Team) -> StoreResult<bool> {
        self.inner
            .writer
            .write(move |ctx| {
                let existed = ctx
                    .conn
                    .prepare_cached("SELECT 1 FROM teams WHERE tenant = ?1 AND id = ?2")?
                    .exists(params![tenant, team.id])?;
                ctx.conn
                    .prepare_cached(
                        "INSERT OR REPLACE INTO teams (tenant, id, name, origin, group_ifi, updated_ms)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?
                    .execute(params![
                        tenant,
                        team.id,
                        team.name,
                        team.origin.name(),
                        team.group,
                        ctx.now.timestamp_millis()
                    ])?;
                ctx.conn
                    .prepare_cached("DELETE FROM team_members WHERE tenant = ?1 AND team = ?2")?
                    .execute(params![tenant, team.id])?;
                let mut member = ctx.conn.prepare_cached(
                    "INSERT OR IGNORE INTO team_members (tenant, team, ifi, agent)
                     VALUES (?1, ?2, ?3, ?4)",
                )?;
                for (ifi, agent) in &team.members {
                    member.execute(params![tenant, team.id, ifi, agent])?;
                }
                Ok(!existed)
            })
            .await
    }

    async fn delete_team(&self, tenant: TenantId, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        self.inner
            .writer
            .write(move |ctx| {
                ctx.conn
                    .prepare_cached("DELETE FROM team_members WHERE tenant = ?1 AND team = ?2")?
                    .execute(params![tenant, id])?;
                let n = ctx
                    .conn
                    .prepare_cached("DELETE FROM teams WHERE tenant = ?1 AND id = ?2")?
                    .execute(params![tenant, id])?;
                Ok(n > 0)
            })
            .await
    }
}
