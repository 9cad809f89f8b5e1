//! The main database's side of evidence: every change is appended to `evidence_journal` in
//! the transaction of the write that causes it (one sequential insert per row, whatever
//! the size of the aggregates), for the evidence thread to apply.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::names::Kind;
use super::pending::{stage, Touch};
use crate::store::evidence::outcome_bits;
use crate::store::evidence::EvidenceItem;
use crate::store::people::own_person;
use crate::store::TenantId;

/// One change to a tenant's evidence, in the order the main database committed it. The
/// journal names identities, items, activities and verbs (`N` = `String`); the evidence
/// thread applies it with their ids in the evidence file (`N` = `i64`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Change<N = String> {
    /// A row of the statement stored at `seq`.
    Add(StoredRow<N>),
    /// Every row of the statement stored at `seq` (voided, or about to be retagged).
    Withdraw { seq: i64 },
    /// An identity's rows now count for another person.
    Move {
        identity: N,
        from: String,
        to: String,
    },
    /// Every row of the statements stored at `seqs` (erased or past retention: the
    /// statements are gone), their sums recomputed once (see `erase.rs`).
    Erase { seqs: Vec<i64> },
    /// Every row counting for these people (erased), on whatever statement (see
    /// `erase.rs`).
    ErasePeople { people: Vec<String> },
}

impl Change {
    /// The change with each name replaced by what `id` gives for it.
    pub fn named_by<N, E>(
        self,
        mut id: impl FnMut(Kind, &str) -> Result<N, E>,
    ) -> Result<Change<N>, E> {
        Ok(match self {
            Change::Add(row) => Change::Add(StoredRow {
                seq: row.seq,
                person: row.person,
                statement: row.statement,
                item: id(Kind::Item, &row.item)?,
                identity: id(Kind::Identity, &row.identity)?,
                activity: id(Kind::Activity, &row.activity)?,
                verb: id(Kind::Verb, &row.verb)?,
                verb_w: row.verb_w,
                result_w: row.result_w,
                confidence: row.confidence,
                trust: row.trust,
                at_ms: row.at_ms,
                normalized: row.normalized,
                outcome: row.outcome,
                scaled: row.scaled,
            }),
            Change::Withdraw { seq } => Change::Withdraw { seq },
            Change::Move { identity, from, to } => Change::Move {
                identity: id(Kind::Identity, &identity)?,
                from,
                to,
            },
            Change::Erase { seqs } => Change::Erase { seqs },
            Change::ErasePeople { people } => Change::ErasePeople { people },
        })
    }
}

/// An evidence row in the columns it is stored with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct StoredRow<N = String> {
    pub seq: i64,
    pub person: String,
    pub statement: String,
    pub item: N,
    pub identity: N,
    pub activity: N,
    pub verb: N,
    pub verb_w: f64,
    pub result_w: f64,
    pub confidence: f64,
    pub trust: f64,
    pub at_ms: i64,
    pub normalized: f64,
    pub outcome: i64,
    pub scaled: Option<f64>,
}

impl StoredRow {
    fn new(seq: i64, person: String, e: &EvidenceItem) -> Self {
        StoredRow {
            seq,
            person,
            statement: e.statement.clone(),
            item: e.item.clone(),
            identity: e.identity.clone(),
            activity: e.activity.clone(),
            verb: e.verb.clone(),
            verb_w: e.weight.verb,
            result_w: e.weight.result,
            confidence: e.weight.confidence,
            trust: e.weight.trust,
            at_ms: e.at_millis,
            normalized: e.normalized,
            outcome: outcome_bits(&e.outcome),
            scaled: e.outcome.scaled,
        }
    }
}

/// The person an identity is now.
pub(in crate::store::sqlite) fn person_of(
    conn: &Connection,
    tenant: TenantId,
    ifi: &str,
) -> rusqlite::Result<String> {
    let linked: Option<String> = conn
        .prepare_cached("SELECT person FROM person_identities WHERE tenant = ?1 AND ifi = ?2")?
        .query_row(params![tenant, ifi], |r| r.get(0))
        .optional()?;
    Ok(linked.unwrap_or_else(|| own_person(ifi)))
}

fn append(conn: &Connection, tenant: TenantId, change: &Change) -> rusqlite::Result<()> {
    let text = serde_json::to_string(change)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    conn.prepare_cached("INSERT INTO evidence_journal (tenant, change) VALUES (?1, ?2)")?
        .execute(params![tenant, text])?;
    let touch = match change {
        Change::Add(row) => Touch::Row {
            person: &row.person,
            item: &row.item,
        },
        // Withdrawals and moves find their rows only when applied.
        _ => Touch::Unknown,
    };
    stage(conn.last_insert_rowid(), tenant, touch);
    Ok(())
}

/// Records the evidence of the statement stored at `seq`, for its actor's person now.
pub(in crate::store::sqlite) fn record(
    conn: &Connection,
    tenant: TenantId,
    seq: i64,
    items: &[EvidenceItem],
) -> rusqlite::Result<()> {
    let mut person: Option<(&str, String)> = None;
    for e in items {
        let who = match &person {
            Some((ifi, p)) if *ifi == e.identity => p.clone(),
            _ => {
                let p = person_of(conn, tenant, &e.identity)?;
                person = Some((&e.identity, p.clone()));
                p
            }
        };
        append(conn, tenant, &Change::Add(StoredRow::new(seq, who, e)))?;
    }
    Ok(())
}

/// Takes out the evidence of the statement stored at `seq`.
pub(in crate::store::sqlite) fn withdraw(
    conn: &Connection,
    tenant: TenantId,
    seq: i64,
) -> rusqlite::Result<()> {
    append(conn, tenant, &Change::Withdraw { seq })
}

/// Moves an identity's evidence from one person to another.
pub(in crate::store::sqlite) fn move_identity(
    conn: &Connection,
    tenant: TenantId,
    ifi: &str,
    from: &str,
    to: &str,
) -> rusqlite::Result<()> {
    if from == to {
        return Ok(());
    }
    let change = Change::Move {
        identity: ifi.to_owned(),
        from: from.to_owned(),
        to: to.to_owned(),
    };
    append(conn, tenant, &change)
}

/// Takes out the evidence of statements being removed for good, after any of their rows
/// still waiting in the journal (so nothing re-creates it).
pub(in crate::store::sqlite) fn erase(
    conn: &Connection,
    tenant: TenantId,
    seqs: &[i64],
) -> rusqlite::Result<()> {
    for chunk in seqs.chunks(1000) {
        append(
            conn,
            tenant,
            &Change::Erase {
                seqs: chunk.to_vec(),
            },
        )?;
    }
    Ok(())
}

/// Takes out every evidence row of erased people (after their statements' rows).
pub(in crate::store::sqlite) fn erase_people(
    conn: &Connection,
    tenant: TenantId,
    people: &[String],
) -> rusqlite::Result<()> {
    let change = Change::ErasePeople {
        people: people.to_vec(),
    };
    append(conn, tenant, &change)
}

/// The newest journal entry's id (0 when there is none).
pub(in crate::store::sqlite) fn head(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT coalesce(max(id), 0) FROM evidence_journal")?
        .query_row([], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::evidence::outcome_from;

    /// Migration 8 turns version 7's rows into journal entries with `json_object`; they
    /// must read back as the entries this module writes.
    #[test]
    fn an_added_row_reads_back_from_the_json_migration_8_writes() {
        let conn = Connection::open_in_memory().unwrap();
        let text: String = conn
            .query_row(
                "SELECT json_object('add', json_object(
                    'seq', 7, 'person', 'p', 'statement', 's', 'item', 'i',
                    'identity', 'mbox:a', 'activity', 'act', 'verb', 'v', 'verb_w', 1.0,
                    'result_w', 0.9, 'confidence', 1.0, 'trust', 1.0, 'at_ms', 5,
                    'normalized', 0.5, 'outcome', 3, 'scaled', NULL))",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let change: Change = serde_json::from_str(&text).unwrap();
        let Change::Add(row) = change else {
            panic!("not an addition: {text}")
        };
        assert_eq!((row.seq, row.person.as_str(), row.scaled), (7, "p", None));
        assert_eq!(row.result_w, 0.9);
        assert_eq!(outcome_from(row.outcome, row.scaled).success, Some(true));
    }
}
