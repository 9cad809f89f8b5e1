//! Privacy operations on SQLite. An erasure is one transaction of the single writer: every
//! change to the main file, and the journal entry that takes the erased statements'
//! evidence out of the evidence file after any of their rows still waiting there, commit
//! together or not at all. A dry run makes the same changes inside a savepoint and rolls
//! them back, so its counts are the real run's by construction. Retention deletes in
//! chunks (one transaction each, so ingest keeps flowing); its dry run counts on a read
//! connection with the same rules.

use std::collections::{BTreeSet, HashSet};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::keys::{
    bucket_of, holds, index_keys_json, key_hash, parse_index_keys, rewritten, write_keys, Rows,
};
use super::{backend, evidence, SqliteStore};
use crate::store::evidence::{EvidenceStore, Team};
use crate::store::privacy::{
    actor_is, attachment_hashes, pseudonymise, pseudonymise_index, AuditRecord, EraseCounts,
    ErasePlan, HeldDocument, HeldPage, HeldStatement, PrivacyStore, RetentionCounts,
    RetentionPolicy,
};
use crate::store::{Document, DocumentScope, StoreResult, TenantId};
use crate::xapi::{IndexKey, IndexKind};

/// Statements deleted per transaction by a retention run.
const RETENTION_CHUNK: usize = 2_000;

/// The `seq`s of every statement an index row ties to one of the IFIs (as an agent in any
/// position, directly or inherited), after `after`, in order.
fn person_seqs(
    conn: &Connection,
    tenant: TenantId,
    ifis: &[String],
    after: i64,
    limit: Option<usize>,
) -> StoreResult<Vec<i64>> {
    const AGENT_KINDS: [IndexKind; 2] = [IndexKind::Agent, IndexKind::AgentRelated];
    let mut candidates = conn.prepare_cached(
        "SELECT k.seq, s.index_keys FROM statement_keys k
         JOIN statements s ON s.seq = k.seq AND s.tenant = k.tenant
         WHERE k.tenant = ?1 AND k.kind IN (1, 2) AND k.bucket = ?2 AND k.key_hash = ?3
         AND k.seq > ?4 ORDER BY k.seq",
    )?;
    let last: i64 = conn.query_row("SELECT coalesce(max(seq), 0) FROM statements", [], |r| {
        r.get(0)
    })?;
    let cap = limit.unwrap_or(usize::MAX);
    let mut seqs = BTreeSet::new();
    for ifi in ifis {
        let mut found = 0;
        'buckets: for bucket in bucket_of(after + 1)..=bucket_of(last) {
            let mut rows = candidates.query(params![tenant, bucket, key_hash(ifi), after])?;
            while let Some(row) = rows.next()? {
                if found == cap {
                    break 'buckets;
                }
                // The index matched the hash; the statement's keys say whether it is this IFI.
                if holds(
                    &parse_index_keys(&row.get::<_, String>(1)?)?,
                    &AGENT_KINDS,
                    ifi,
                ) {
                    seqs.insert(row.get::<_, i64>(0)?);
                    found += 1;
                }
            }
        }
    }
    let mut seqs: Vec<i64> = seqs.into_iter().collect();
    if let Some(limit) = limit {
        seqs.truncate(limit);
    }
    Ok(seqs)
}

/// A statement row as erasure and retention need it.
struct Row {
    seq: i64,
    id: String,
    body: String,
    index_keys: String,
}

fn row_at(conn: &Connection, tenant: TenantId, seq: i64) -> rusqlite::Result<Option<Row>> {
    conn.prepare_cached(
        "SELECT seq, id, body, index_keys FROM statements WHERE tenant = ?1 AND seq = ?2",
    )?
    .query_row(params![tenant, seq], |r| {
        Ok(Row {
            seq: r.get(0)?,
            id: r.get(1)?,
            body: r.get(2)?,
            index_keys: r.get(3)?,
        })
    })
    .optional()
}

/// What deleting statements removed besides them.
#[derive(Default)]
struct Removed {
    attachments: u64,
    dead_letters: u64,
}

/// Deletes statements with their index rows, evidence (through the journal), dead letters
/// and the attachments no remaining statement declares.
fn delete_rows(conn: &Connection, tenant: TenantId, rows: &[Row]) -> StoreResult<Removed> {
    let mut delete =
        conn.prepare_cached("DELETE FROM statements WHERE tenant = ?1 AND seq = ?2")?;
    let mut letters =
        conn.prepare_cached("DELETE FROM dead_letters WHERE tenant = ?1 AND statement_id = ?2")?;
    let mut removed = Removed::default();
    if !rows.is_empty() {
        rewritten(conn)?;
    }
    let mut hashes = BTreeSet::new();
    for row in rows {
        write_keys(
            conn,
            Rows::Remove,
            tenant,
            row.seq,
            &parse_index_keys(&row.index_keys)?,
        )?;
        delete.execute(params![tenant, row.seq])?;
        removed.dead_letters += letters.execute(params![tenant, row.id])? as u64;
        let body: Value = serde_json::from_str(&row.body).map_err(backend)?;
        hashes.extend(attachment_hashes(&body));
    }
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    evidence::erase_evidence(conn, tenant, &seqs)?;
    for hash in hashes {
        if !declared(conn, tenant, &hash)? {
            removed.attachments += conn
                .prepare_cached("DELETE FROM attachments WHERE tenant = ?1 AND sha2 = ?2")?
                .execute(params![tenant, hash])? as u64;
        }
    }
    Ok(removed)
}

/// Whether any statement of the tenant still declares the attachment (a scan, done only
/// for the attachments of deleted statements).
fn declared(conn: &Connection, tenant: TenantId, hash: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT 1 FROM statements WHERE tenant = ?1 AND instr(body, ?2) > 0 LIMIT 1",
    )?
    .exists(params![tenant, hash])
}

/// Rewrites a statement that mentions the person: body and index rows.
fn pseudonymise_row(
    conn: &Connection,
    tenant: TenantId,
    row: &Row,
    ifis: &HashSet<&str>,
    name: &str,
) -> StoreResult<()> {
    let mut body: Value = serde_json::from_str(&row.body).map_err(backend)?;
    pseudonymise(&mut body, ifis, name);
    let old = parse_index_keys(&row.index_keys)?;
    let new = pseudonymise_index(&old, ifis, name);
    let gone: Vec<IndexKey> = old.iter().filter(|k| !new.contains(k)).cloned().collect();
    let added: Vec<IndexKey> = new.iter().filter(|k| !old.contains(k)).cloned().collect();
    write_keys(conn, Rows::Remove, tenant, row.seq, &gone)?;
    write_keys(conn, Rows::Add, tenant, row.seq, &added)?;
    rewritten(conn)?;
    conn.prepare_cached(
        "UPDATE statements SET body = ?3, index_keys = ?4 WHERE tenant = ?1 AND seq = ?2",
    )?
    .execute(params![
        tenant,
        row.seq,
        body.to_string(),
        index_keys_json(&new)
    ])?;
    Ok(())
}

/// The whole erasure, in the caller's transaction.
fn erase(conn: &Connection, tenant: TenantId, plan: &ErasePlan) -> StoreResult<EraseCounts> {
    let ifis: HashSet<&str> = plan.ifis.iter().map(String::as_str).collect();
    let mut counts = EraseCounts::default();
    let mut doomed = Vec::new();
    for seq in person_seqs(conn, tenant, &plan.ifis, 0, None)? {
        let Some(row) = row_at(conn, tenant, seq)? else {
            continue;
        };
        let body: Value = serde_json::from_str(&row.body).map_err(backend)?;
        if actor_is(&body, &ifis) {
            doomed.push(row);
        } else {
            pseudonymise_row(conn, tenant, &row, &ifis, &plan.pseudonym)?;
            counts.statements_pseudonymised += 1;
        }
    }
    counts.statements_deleted = doomed.len() as u64;
    let removed = delete_rows(conn, tenant, &doomed)?;
    evidence::erase_people(conn, tenant, &plan.people)?;
    counts.attachments_deleted = removed.attachments;
    counts.dead_letters_deleted = removed.dead_letters;
    for ifi in &plan.ifis {
        counts.documents_deleted += conn
            .prepare_cached(
                "DELETE FROM documents WHERE tenant = ?1 AND kind IN (1, 3) AND agent = ?2",
            )?
            .execute(params![tenant, ifi])? as u64;
        counts.agent_names_deleted += conn
            .prepare_cached("DELETE FROM agent_names WHERE tenant = ?1 AND ifi = ?2")?
            .execute(params![tenant, ifi])? as u64;
        counts.identities_deleted += conn
            .prepare_cached("DELETE FROM person_identities WHERE tenant = ?1 AND ifi = ?2")?
            .execute(params![tenant, ifi])? as u64;
        counts.team_memberships_deleted += conn
            .prepare_cached("DELETE FROM team_members WHERE tenant = ?1 AND ifi = ?2")?
            .execute(params![tenant, ifi])? as u64;
    }
    Ok(counts)
}

fn put_audit(conn: &Connection, tenant: TenantId, record: &AuditRecord) -> StoreResult<()> {
    let text = serde_json::to_string(record).map_err(backend)?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO privacy_audit (tenant, id, at_ms, record) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![tenant, record.id, record.at_millis, text])?;
    Ok(())
}

/// The greatest `seq` stored at or before `millis` (0 when none).
fn seq_at(conn: &Connection, millis: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT seq FROM statements WHERE stored_ms <= ?1 ORDER BY stored_ms DESC, seq DESC LIMIT 1",
        params![millis],
        |r| r.get(0),
    )
    .optional()
    .map(|s| s.unwrap_or(0))
}

/// The next chunk of statements a policy covers, in `(after, through]`.
fn covered_chunk(
    conn: &Connection,
    tenant: TenantId,
    policy: &RetentionPolicy,
    after: i64,
    through: i64,
) -> StoreResult<(Vec<Row>, Option<i64>)> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, id, body, index_keys FROM statements
         WHERE tenant = ?1 AND seq > ?2 AND seq <= ?3 ORDER BY seq LIMIT ?4",
    )?;
    let rows: Vec<Row> = stmt
        .query_map(
            params![tenant, after, through, RETENTION_CHUNK as i64],
            |r| {
                Ok(Row {
                    seq: r.get(0)?,
                    id: r.get(1)?,
                    body: r.get(2)?,
                    index_keys: r.get(3)?,
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    let next = (rows.len() == RETENTION_CHUNK)
        .then(|| rows.last().map(|r| r.seq))
        .flatten();
    let mut covered = Vec::new();
    for row in rows {
        let body: Value = serde_json::from_str(&row.body).map_err(backend)?;
        if policy.covers(&body) {
            covered.push(row);
        }
    }
    Ok((covered, next))
}

/// A retention dry run: what the chunked real run removes, counted on a read connection.
fn count_retention(
    conn: &Connection,
    tenant: TenantId,
    policy: &RetentionPolicy,
    through: i64,
) -> StoreResult<RetentionCounts> {
    let mut counts = RetentionCounts::default();
    let mut hashes = BTreeSet::new();
    let mut after = 0;
    loop {
        let (rows, next) = covered_chunk(conn, tenant, policy, after, through)?;
        for row in &rows {
            counts.statements_deleted += 1;
            counts.dead_letters_deleted +=
                conn.prepare_cached(
                    "SELECT count(*) FROM dead_letters WHERE tenant = ?1 AND statement_id = ?2",
                )?
                .query_row(params![tenant, row.id], |r| r.get::<_, i64>(0))? as u64;
            let body: Value = serde_json::from_str(&row.body).map_err(backend)?;
            hashes.extend(attachment_hashes(&body));
        }
        match next {
            Some(n) => after = n,
            None => break,
        }
    }
    // An attachment goes when every statement declaring it goes.
    for hash in hashes {
        let stored = conn
            .prepare_cached("SELECT 1 FROM attachments WHERE tenant = ?1 AND sha2 = ?2")?
            .exists(params![tenant, hash])?;
        if !stored {
            continue;
        }
        let mut users = conn.prepare_cached(
            "SELECT seq, body FROM statements WHERE tenant = ?1 AND instr(body, ?2) > 0",
        )?;
        let mut kept = false;
        for user in users.query_map(params![tenant, hash], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })? {
            let (seq, body) = user?;
            let body: Value = serde_json::from_str(&body).map_err(backend)?;
            if seq > through || !policy.covers(&body) {
                kept = true;
                break;
            }
        }
        counts.attachments_deleted += u64::from(!kept);
    }
    Ok(counts)
}

#[async_trait]
impl PrivacyStore for SqliteStore {
    async fn person_statements(
        &self,
        tenant: TenantId,
        ifis: &[String],
        after: Option<i64>,
        limit: usize,
    ) -> StoreResult<HeldPage> {
        let ifis = ifis.to_vec();
        self.read(move |conn| {
            let seqs = person_seqs(conn, tenant, &ifis, after.unwrap_or(0), Some(limit))?;
            let next = (seqs.len() == limit).then(|| seqs.last().copied()).flatten();
            let mut stmt = conn.prepare_cached(
                "SELECT body, voided, stored_ms, tags FROM statements WHERE tenant = ?1 AND seq = ?2",
            )?;
            let mut statements = Vec::with_capacity(seqs.len());
            for seq in seqs {
                let row = stmt
                    .query_row(params![tenant, seq], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, bool>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, Option<String>>(3)?,
                        ))
                    })
                    .optional()?;
                let Some((body, voided, stored_millis, tags)) = row else {
                    continue;
                };
                statements.push(HeldStatement {
                    body: serde_json::from_str(&body).map_err(backend)?,
                    voided,
                    stored_millis,
                    tags: tags
                        .map(|t| serde_json::from_str(&t))
                        .transpose()
                        .map_err(backend)?,
                });
            }
            Ok(HeldPage { statements, next })
        })
        .await
    }

    async fn person_documents(
        &self,
        tenant: TenantId,
        ifis: &[String],
    ) -> StoreResult<Vec<HeldDocument>> {
        let ifis = ifis.to_vec();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT kind, activity_id, agent, registration, doc_id, content_type, content,
                     etag, updated_ms
                 FROM documents WHERE tenant = ?1 AND kind IN (1, 3) AND agent = ?2",
            )?;
            let mut out = Vec::new();
            for ifi in ifis {
                let rows = stmt.query_map(params![tenant, ifi], |r| {
                    Ok((
                        DocumentScope::from_key(
                            r.get(0)?,
                            &r.get::<_, String>(1)?,
                            &r.get::<_, String>(2)?,
                            &r.get::<_, String>(3)?,
                        ),
                        r.get::<_, String>(4)?,
                        Document {
                            content_type: r.get(5)?,
                            content: r.get::<_, Vec<u8>>(6)?.into(),
                            etag: r.get(7)?,
                            updated_millis: r.get(8)?,
                        },
                    ))
                })?;
                for row in rows {
                    let (scope, id, document) = row?;
                    if let Some(scope) = scope {
                        out.push(HeldDocument {
                            scope,
                            id,
                            document,
                        });
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    async fn person_teams(&self, tenant: TenantId, ifis: &[String]) -> StoreResult<Vec<Team>> {
        let list = ifis.to_vec();
        let ids: BTreeSet<String> = self
            .read(move |conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT DISTINCT team FROM team_members WHERE tenant = ?1 AND ifi = ?2",
                )?;
                let mut ids = BTreeSet::new();
                for ifi in list {
                    for id in stmt.query_map(params![tenant, ifi], |r| r.get::<_, String>(0))? {
                        ids.insert(id?);
                    }
                }
                Ok(ids)
            })
            .await?;
        let mut teams = Vec::new();
        for id in ids {
            teams.extend(self.team(tenant, &id).await?);
        }
        Ok(teams)
    }

    async fn erase_person(
        &self,
        tenant: TenantId,
        plan: ErasePlan,
        dry_run: bool,
    ) -> StoreResult<EraseCounts> {
        self.inner
            .writer
            .write(move |ctx| {
                if dry_run {
                    ctx.conn.execute_batch("SAVEPOINT dry_run")?;
                    let counts = erase(ctx.conn, tenant, &plan);
                    ctx.conn
                        .execute_batch("ROLLBACK TO dry_run; RELEASE dry_run")?;
                    return counts;
                }
                let counts = erase(ctx.conn, tenant, &plan)?;
                let mut audit = plan.audit.clone();
                audit.counts = serde_json::to_value(counts).map_err(backend)?;
                put_audit(ctx.conn, tenant, &audit)?;
                Ok(counts)
            })
            .await
    }

    async fn resume_erasures(&self) -> StoreResult<u64> {
        // Each erasure is one transaction: none is ever left half done.
        Ok(0)
    }

    async fn apply_retention(
        &self,
        tenant: TenantId,
        policy: &RetentionPolicy,
        cutoff_millis: i64,
        dry_run: bool,
    ) -> StoreResult<RetentionCounts> {
        let p = policy.clone();
        let through = self
            .read(move |conn| Ok(seq_at(conn, cutoff_millis)?))
            .await?;
        if dry_run {
            return self
                .read(move |conn| count_retention(conn, tenant, &p, through))
                .await;
        }
        let mut total = RetentionCounts::default();
        let mut after = 0;
        loop {
            let p = policy.clone();
            let (counts, next) = self
                .inner
                .writer
                .write(move |ctx| {
                    let (rows, next) = covered_chunk(ctx.conn, tenant, &p, after, through)?;
                    let removed = delete_rows(ctx.conn, tenant, &rows)?;
                    let counts = RetentionCounts {
                        statements_deleted: rows.len() as u64,
                        attachments_deleted: removed.attachments,
                        dead_letters_deleted: removed.dead_letters,
                    };
                    Ok((counts, next))
                })
                .await?;
            total += counts;
            match next {
                Some(n) => after = n,
                None => return Ok(total),
            }
        }
    }

    async fn add_audit(&self, tenant: TenantId, record: AuditRecord) -> StoreResult<()> {
        self.inner
            .writer
            .write(move |ctx| put_audit(ctx.conn, tenant, &record))
            .await
    }

    async fn audit_records(
        &self,
        tenant: TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<AuditRecord>> {
        let after = after.unwrap_or_default().to_owned();
        self.read(move |conn| {
            let texts: Vec<String> = conn
                .prepare_cached(
                    "SELECT record FROM privacy_audit WHERE tenant = ?1 AND id > ?2
                     ORDER BY id LIMIT ?3",
                )?
                .query_map(params![tenant, after, limit as i64], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            texts
                .iter()
                .map(|t| serde_json::from_str(t).map_err(backend))
                .collect()
        })
        .await
    }

    async fn retention_policies(&self, tenant: TenantId) -> StoreResult<Vec<RetentionPolicy>> {
        self.read(move |conn| {
            let texts: Vec<String> = conn
                .prepare_cached(
                    "SELECT policy FROM retention_policies WHERE tenant = ?1 ORDER BY id",
                )?
                .query_map(params![tenant], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            texts
                .iter()
                .map(|t| serde_json::from_str(t).map_err(backend))
                .collect()
        })
        .await
    }

    async fn all_retention_policies(&self) -> StoreResult<Vec<(TenantId, RetentionPolicy)>> {
        self.read(move |conn| {
            let rows: Vec<(TenantId, String)> = conn
                .prepare_cached(
                    "SELECT tenant, policy FROM retention_policies ORDER BY tenant, id",
                )?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            rows.into_iter()
                .map(|(t, p)| Ok((t, serde_json::from_str(&p).map_err(backend)?)))
                .collect()
        })
        .await
    }

    async fn put_retention_policy(
        &self,
        tenant: TenantId,
        policy: RetentionPolicy,
    ) -> StoreResult<bool> {
        let text = serde_json::to_string(&policy).map_err(backend)?;
        self.inner
            .writer
            .write(move |ctx| {
                let existed = ctx
                    .conn
                    .prepare_cached(
                        "SELECT 1 FROM retention_policies WHERE tenant = ?1 AND id = ?2",
                    )?
                    .exists(params![tenant, policy.id])?;
                ctx.conn
                    .prepare_cached(
                        "INSERT OR REPLACE INTO retention_policies (tenant, id, policy, updated_ms)
                         VALUES (?1, ?2, ?3, ?4)",
                    )?
                    .execute(params![tenant, policy.id, text, ctx.now.timestamp_millis()])?;
                Ok(!existed)
            })
            .await
    }

    async fn delete_retention_policy(&self, tenant: TenantId, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        self.inner
            .writer
            .write(move |ctx| {
                let n = ctx
                    .conn
                    .prepare_cached("DELETE FROM retention_policies WHERE tenant = ?1 AND id = ?2")?
                    .execute(params![tenant, id])?;
                Ok(n > 0)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::privacy::ErasePlan;
    use crate::store::sqlite::keys::{
        index_rewrites, put_test_statement, test_connection, BUCKET_BITS, TEST_ANN, TEST_BOB,
    };

    /// An erasure or an export finds the person's statements in every bucket of the
    /// index, and only theirs.
    #[test]
    fn a_persons_statements_are_found_in_every_bucket() {
        let conn = test_connection();
        let (ann, bob) = (TEST_ANN, TEST_BOB);
        let width = 1_i64 << BUCKET_BITS;
        for (seq, agent, kind) in [
            (2, ann, IndexKind::Agent),
            (width + 2, bob, IndexKind::Agent),
            (2 * width + 9, ann, IndexKind::AgentRelated),
            (4 * width, ann, IndexKind::Agent),
        ] {
            let key = IndexKey {
                kind,
                key: agent.into(),
            };
            put_test_statement(&conn, seq, "{}", &[key]);
        }
        let ifis = [ann.to_owned()];
        assert_eq!(
            person_seqs(&conn, 1, &ifis, 0, None).unwrap(),
            vec![2, 2 * width + 9, 4 * width]
        );
        assert_eq!(
            person_seqs(&conn, 1, &ifis, 2, Some(1)).unwrap(),
            vec![2 * width + 9]
        );
        assert_eq!(
            person_seqs(&conn, 1, &[bob.to_owned()], 0, None).unwrap(),
            vec![width + 2]
        );
    }

    /// An erasure rewrites index rows of stored statements (a pseudonym's keys) and
    /// deletes statements: either raises the count the filters of sealed buckets hold for,
    /// so no lookup trusts a filter built before it.
    #[test]
    fn an_erasure_raises_the_index_rewrite_count() {
        let conn = test_connection();
        let (ann, bob) = (TEST_ANN, TEST_BOB);
        let key = |kind, agent: &str| IndexKey {
            kind,
            key: agent.into(),
        };
        let plan = |ifi: &str| ErasePlan {
            ifis: vec![ifi.to_owned()],
            people: Vec::new(),
            pseudonym: "erased".into(),
            audit: AuditRecord::new("erase", "cli", None),
        };
        // Bob's statement names Ann as its instructor: erasing Ann pseudonymises it.
        put_test_statement(
            &conn,
            2,
            r#"{"actor":{"mbox":"mailto:bob@example.com"},"context":{"instructor":{"mbox":"mailto:ann@example.com"}}}"#,
            &[
                key(IndexKind::Agent, bob),
                key(IndexKind::AgentRelated, ann),
            ],
        );
        let before = index_rewrites(&conn).unwrap();
        let counts = erase(&conn, 1, &plan(ann)).unwrap();
        assert_eq!(counts.statements_pseudonymised, 1);
        let pseudonymised = index_rewrites(&conn).unwrap();
        assert!(pseudonymised > before);
        // Erasing Bob deletes his statement.
        let counts = erase(&conn, 1, &plan(bob)).unwrap();
        assert_eq!(counts.statements_deleted, 1);
        assert!(index_rewrites(&conn).unwrap() > pseudonymised);
        // Nothing to erase changes nothing.
        let last = index_rewrites(&conn).unwrap();
        erase(&conn, 1, &plan("mbox:mailto:nobody@example.com")).unwrap();
        assert_eq!(index_rewrites(&conn).unwrap(), last);
    }
}
