//! Statements on SQLite: inserts with their index rows, and queries driven by the
//! `statement_keys` primary key so no filter needs a scan.

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};
use serde_json::Value;

use super::bucket_filters::{BucketFilters, KeyAnswers};
use super::evidence;
use super::keys::{
    self, bucket_end, bucket_of, bucket_start, holds, index_keys_json, index_rewrites, key_hash,
    parse_index_keys, Rows,
};
use super::{backend, SqliteStore};
use crate::store::competency::tags_json;
use crate::store::{
    seq_window, AttachmentData, Cursor, NewStatement, StatementPage, StatementQuery,
    StatementStore, StatementText, StatementTextPage, StoreError, StoreResult, StoredStatement,
    TenantId,
};
use crate::xapi::statement::{merge_definition, ActivityDefinition};
use crate::xapi::{Fingerprint, IndexKind};

#[async_trait]
impl StatementStore for SqliteStore {
    async fn insert_statements(
        &self,
        tenant: TenantId,
        batch: Vec<NewStatement>,
        attachments: Vec<AttachmentData>,
    ) -> StoreResult<()> {
        if batch.iter().any(|s| !s.evidence.is_empty()) {
            self.inner.evidence.room().await;
        }
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
        let filters = self.inner.filters.clone();
        self.read(move |conn| {
            let (statements, next) =
                run_query(conn, &filters, tenant, &query, cursor, |json, _| {
                    serde_json::from_str(&json).map_err(backend)
                })?;
            Ok(StatementPage { statements, next })
        })
        .await
    }

    async fn query_statement_texts(
        &self,
        tenant: TenantId,
        query: &StatementQuery,
        cursor: Option<Cursor>,
    ) -> StoreResult<StatementTextPage> {
        let query = query.clone();
        let filters = self.inner.filters.clone();
        self.read(move |conn| {
            let (statements, next) =
                run_query(conn, &filters, tenant, &query, cursor, |json, stored| {
                    Ok(StatementText {
                        json,
                        stored_millis: stored,
                    })
                })?;
            Ok(StatementTextPage { statements, next })
        })
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
    batch: Vec<NewStatement>,
    now: chrono::DateTime<chrono::Utc>,
) -> StoreResult<()> {
    let mut existing =
        conn.prepare_cached("SELECT fingerprint FROM statements WHERE tenant = ?1 AND id = ?2")?;
    // An id already stored leaves the insert undone (the id index's one seek decides), and
    // only then is the stored statement compared.
    let mut insert = conn.prepare_cached(
        "INSERT INTO statements (tenant, id, stored_ms, voiding, fingerprint, body, index_keys, tags)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (tenant, id) DO NOTHING",
    )?;
    let mut void = conn.prepare_cached(
        "UPDATE statements SET voided = 1, tags = NULL WHERE tenant = ?1 AND id = ?2 AND voiding = 0 RETURNING seq",
    )?;
    let mut name = conn.prepare_cached(
        "INSERT OR IGNORE INTO agent_names (tenant, ifi, name) VALUES (?1, ?2, ?3)",
    )?;

    for new in batch {
        let NewStatement {
            statement: mut st,
            tags,
            evidence: items,
            teams,
        } = new;
        st.set_stored(now);
        let inserted = insert.execute(params![
            tenant,
            st.id,
            now.timestamp_millis(),
            st.voids.is_some(),
            st.fingerprint.to_bytes(),
            st.json,
            index_keys_json(&st.index),
            tags_json(&tags)?,
        ])?;
        if inserted == 0 {
            let prior: Vec<u8> = existing.query_row(params![tenant, st.id], |r| r.get(0))?;
            let same = Fingerprint::from_bytes(&prior).is_some_and(|p| st.fingerprint.matches(&p));
            if !same {
                return Err(StoreError::Conflict(format!(
                    "statement {} already exists with different content; statements are immutable",
                    st.id
                )));
            }
            continue;
        }
        let seq = conn.last_insert_rowid();
        keys::write_keys(conn, Rows::Add, tenant, seq, &st.index)?;
        evidence::record(conn, tenant, seq, &items)?;
        evidence::keep_teams(conn, tenant, &teams, now.timestamp_millis())?;
        if let Some(target) = &st.voids {
            let voided: Option<i64> = void
                .query_row(params![tenant, target], |r| r.get(0))
                .optional()?;
            if let Some(voided) = voided {
                evidence::withdraw(conn, tenant, voided)?;
            }
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
pub(super) fn merge_activity(
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
            merge_definition(&mut current, &incoming.definition().map_err(backend)?);
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
    conn.prepare_cached(
        "SELECT seq FROM statements WHERE stored_ms <= ?1 ORDER BY stored_ms DESC, seq DESC LIMIT 1",
    )?
    .query_row(params![millis], |r| r.get(0))
    .optional()
    .map(|s| s.unwrap_or(0))
}

/// One filter: statements having an index row of any of `kinds` with `key`.
struct Filter {
    kinds: &'static [IndexKind],
    key: String,
}

fn filters_of(q: &StatementQuery) -> Vec<Filter> {
    let mut filters = Vec::new();
    let mut add = |kinds, key: &Option<String>| {
        if let Some(key) = key {
            filters.push(Filter {
                kinds,
                key: key.clone(),
            });
        }
    };
    // Most selective first: the first filter drives the scan.
    add(&[IndexKind::Registration], &q.registration);
    add(
        if q.related_agents {
            &[IndexKind::Agent, IndexKind::AgentRelated]
        } else {
            &[IndexKind::Agent]
        },
        &q.agent,
    );
    add(
        if q.related_activities {
            &[IndexKind::Activity, IndexKind::ActivityRelated]
        } else {
            &[IndexKind::Activity]
        },
        &q.activity,
    );
    add(&[IndexKind::Verb], &q.verb);
    add(&[IndexKind::Authority], &q.authority);
    filters
}

/// Whether a statement's `index_keys` hold every filter's key.
fn matches_all(index_keys: &str, filters: &[Filter]) -> StoreResult<bool> {
    if filters.is_empty() {
        return Ok(true);
    }
    let keys = parse_index_keys(index_keys)?;
    Ok(filters.iter().all(|f| holds(&keys, f.kinds, &f.key)))
}

/// Candidates are read in storage order this many at a time, then checked.
const CHUNK: i64 = 256;

/// One page of the statements matching `q`, each made from its stored JSON text and
/// `stored` milliseconds by `statement`, and where the next page starts. The sealed
/// buckets `filters` rule out for the driving key are not read.
fn run_query<T>(
    conn: &Connection,
    filters: &BucketFilters,
    tenant: TenantId,
    q: &StatementQuery,
    cursor: Option<Cursor>,
    statement: impl Fn(String, i64) -> StoreResult<T>,
) -> StoreResult<(Vec<T>, Option<Cursor>)> {
    let bound = match cursor {
        Some(c) => c.bound,
        None => conn
            .prepare_cached("SELECT coalesce(max(seq), 0) FROM statements")?
            .query_row([], |r| r.get(0))?,
    };
    let since = q.since_millis.map(|ms| seq_at(conn, ms)).transpose()?;
    let until = q.until_millis.map(|ms| seq_at(conn, ms)).transpose()?;
    let (mut low, mut high) = seq_window(q, cursor, bound, since, until);

    let conditions = filters_of(q);
    // The first filter drives the scan; every candidate is then checked against all of
    // them in its `index_keys`.
    let driver = conditions.first();
    let driver_hash = driver.map(|f| key_hash(&f.key));
    // Buckets older than the one `bound` is in were sealed when it was read.
    let sealed_below = bucket_of(bound);
    let mut answers = match (driver, driver_hash) {
        (Some(f), Some(hash)) => Some(KeyAnswers::new(
            filters,
            tenant,
            f.kinds.iter().map(|k| k.code()).collect(),
            index_rewrites(conn)?,
            hash,
        )),
        _ => None,
    };
    let order = if q.ascending { "ASC" } else { "DESC" };
    // The driving scan: seqs in (low, high] in order, from the first filter's index ranges
    // in one bucket at a time (merged when it spans two kinds), or from the statements
    // themselves.
    let driver_sql = match driver {
        Some(f) => f
            .kinds
            .iter()
            .map(|k| {
                format!(
                    "SELECT seq FROM statement_keys WHERE tenant = ?1 AND kind = {} AND bucket = ?5 AND key_hash = ?4 AND seq > ?2 AND seq <= ?3",
                    k.code()
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION "),
        None => "SELECT seq FROM statements WHERE tenant = ?1 AND voided = 0 AND seq > ?2 AND seq <= ?3".to_owned(),
    };
    let driver_sql = format!("{driver_sql} ORDER BY seq {order} LIMIT {CHUNK}");
    let mut drive = conn.prepare_cached(&driver_sql)?;
    let mut check = conn.prepare_cached(
        "SELECT body, stored_ms, index_keys FROM statements WHERE seq = ?1 AND tenant = ?2 AND voided = 0",
    )?;
    let limit = q.limit as usize;
    let mut statements = Vec::new();
    let mut last_seq = None;
    let mut has_more = false;
    'scan: while low < high {
        // The part of (low, high] this chunk reads: index rows come one bucket at a time.
        let (from, to) = match driver {
            Some(_) if q.ascending => (low, high.min(bucket_end(low + 1))),
            Some(_) => (low.max(bucket_start(high) - 1), high),
            None => (low, high),
        };
        let bucket = bucket_of(to);
        let may_hold = match &mut answers {
            Some(answers) if bucket < sealed_below => {
                // The last sealed bucket the scan reads, in its direction.
                let last = if q.ascending {
                    bucket_of(high).min(sealed_below - 1)
                } else {
                    bucket_of(low + 1)
                };
                answers.may_hold(bucket, last)
            }
            _ => true,
        };
        let mut args: Vec<SqlValue> = vec![tenant.into(), from.into(), to.into()];
        if let Some(hash) = driver_hash {
            args.push(hash.into());
            args.push(bucket.into());
        }
        let seqs: Vec<i64> = if may_hold {
            drive
                .query_map(params_from_iter(args), |r| r.get(0))?
                .collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        for seq in &seqs {
            let row: Option<(String, i64, String)> = check
                .query_row(params![seq, tenant], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            let Some((body, stored, keys)) = row else {
                continue;
            };
            if !matches_all(&keys, &conditions)? {
                continue; // another filter's key, or a key sharing the driver's hash
            }
            if statements.len() == limit {
                has_more = true;
                break 'scan;
            }
            statements.push(statement(body, stored)?);
            last_seq = Some(*seq);
        }
        match seqs.last() {
            // More of this part may follow the chunk.
            Some(&edge) if seqs.len() as i64 == CHUNK => {
                if q.ascending {
                    low = edge;
                } else {
                    high = edge - 1;
                }
            }
            // This part is read; on to the next.
            _ => {
                if q.ascending {
                    low = to;
                } else {
                    high = from;
                }
            }
        }
    }
    let next = if has_more {
        Some(Cursor {
            after: last_seq,
            bound,
        })
    } else {
        None
    };
    Ok((statements, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::keys::{test_connection, BUCKET_BITS, TEST_ANN, TEST_BOB};

    const TEST_CAROL: &str = "mbox:mailto:carol@example.com";

    /// Two keys that share a hash must not mix up results (Communication 2.1.3: a filter
    /// returns the statements that match it): an index row whose statement does not hold
    /// the filter's key is passed over.
    #[test]
    fn a_key_sharing_another_keys_hash_finds_only_its_own_statements() {
        let conn = test_connection();
        let (ann, bob) = (TEST_ANN, TEST_BOB);
        let ann_key = crate::xapi::IndexKey {
            kind: IndexKind::Agent,
            key: ann.into(),
        };
        keys::put_test_statement(&conn, 1, r#"{"id":"a"}"#, &[ann_key]);
        // What a collision would leave: bob's hash pointing at ann's statement.
        conn.execute(
            "INSERT INTO statement_keys (tenant, kind, bucket, key_hash, seq) VALUES (1, 1, 0, ?1, 1)",
            [key_hash(bob)],
        )
        .unwrap();
        let found = |agent: &str| {
            let query = StatementQuery {
                agent: Some(agent.into()),
                limit: 10,
                ..StatementQuery::default()
            };
            run_query(&conn, &BucketFilters::new(0), 1, &query, None, |json, _| {
                Ok(json)
            })
            .unwrap()
            .0
        };
        assert_eq!(found(ann), vec![r#"{"id":"a"}"#.to_owned()]);
        assert!(found(bob).is_empty());
    }

    /// Index rows are read one bucket at a time: a filter finds its statements in every
    /// bucket, newest first or oldest first, and pages continue across buckets, whether
    /// or not the sealed buckets have filters.
    #[test]
    fn filters_and_pages_run_across_buckets() {
        let conn = test_connection();
        let (ann, bob) = (TEST_ANN, TEST_BOB);
        let width = 1_i64 << BUCKET_BITS;
        let placed = [
            (3, ann),
            (width - 1, bob),
            (width, ann),
            (width + 1, bob),
            (3 * width + 7, ann),
        ];
        for (seq, agent) in placed {
            let key = crate::xapi::IndexKey {
                kind: IndexKind::Agent,
                key: agent.into(),
            };
            keys::put_test_statement(&conn, seq, &seq.to_string(), &[key]);
        }
        let filters = BucketFilters::new(1 << 20);
        let pages = |agent: &str, ascending: bool, limit: u32| {
            let query = StatementQuery {
                agent: Some(agent.into()),
                ascending,
                limit,
                ..StatementQuery::default()
            };
            let mut cursor = None;
            let mut seen = Vec::new();
            loop {
                let (page, next) =
                    run_query(&conn, &filters, 1, &query, cursor, |json, _| Ok(json)).unwrap();
                seen.push(page.join(","));
                match next {
                    Some(next) => cursor = Some(next),
                    None => return seen,
                }
            }
        };
        let (a, b, c) = (
            "3".to_owned(),
            width.to_string(),
            (3 * width + 7).to_string(),
        );
        // First without filters (the lookups ask for them), then with every one built.
        for built in [false, true] {
            assert_eq!(
                pages(ann, false, 10),
                vec![format!("{c},{b},{a}")],
                "{built}"
            );
            assert_eq!(pages(ann, true, 10), vec![format!("{a},{b},{c}")]);
            assert_eq!(pages(ann, false, 1), vec![c.clone(), b.clone(), a.clone()]);
            assert_eq!(pages(ann, true, 2), vec![format!("{a},{b}"), c.clone()]);
            assert_eq!(
                pages(bob, false, 10),
                vec![format!("{},{}", width + 1, width - 1)]
            );
            assert_eq!(pages(TEST_CAROL, false, 10), vec![String::new()]);
            filters.build_wanted(&conn);
        }
        // One filter of agent keys for each sealed bucket, 0 to 2 (3 is the newest).
        assert_eq!(filters.count(), 3);
    }
}
