//! The evidence thread's side of removing statements for good (a person erased, statements
//! past a retention policy): their rows leave together, activity counts lose them, and each
//! (person, item) sum they touched is recomputed once, not once per statement — a person
//! with ten thousand statements would otherwise cost ten thousand recomputations of a
//! shrinking sum.

use std::collections::{BTreeSet, HashSet};

use rusqlite::{params, Connection};

use super::applier::{count_activity, has_activity_evidence, refresh};
use super::{evidence_row, COLUMNS};
use crate::store::evidence::EvidenceRow;
use crate::store::TenantId;

/// Takes out every row of the statements stored at `seqs`.
pub(super) fn withdraw_all(
    conn: &Connection,
    tenant: TenantId,
    seqs: &[i64],
) -> rusqlite::Result<()> {
    let mut delete = conn.prepare_cached(&format!(
        "DELETE FROM evidence WHERE tenant = ?1 AND seq = ?2 RETURNING {COLUMNS}"
    ))?;
    let mut rows = Vec::new();
    for seq in seqs {
        for row in delete.query_map(params![tenant, seq], evidence_row)? {
            rows.push(row?);
        }
    }
    account(conn, tenant, rows)
}

/// Takes out every row counting for the people, on any statement (their evidence as an
/// instructor on statements that stay, say).
pub(super) fn withdraw_people(
    conn: &Connection,
    tenant: TenantId,
    people: &[String],
) -> rusqlite::Result<()> {
    let mut delete = conn.prepare_cached(&format!(
        "DELETE FROM evidence INDEXED BY evidence_by_person WHERE tenant = ?1 AND person = ?2
         RETURNING {COLUMNS}"
    ))?;
    let mut rows = Vec::new();
    for person in people {
        for row in delete.query_map(params![tenant, person], evidence_row)? {
            rows.push(row?);
        }
    }
    account(conn, tenant, rows)
}

/// Recounts activity statistics and sums after rows left.
fn account(conn: &Connection, tenant: TenantId, rows: Vec<EvidenceRow>) -> rusqlite::Result<()> {
    // A learner of an activity leaves its count once, when none of their rows is left.
    let mut left: HashSet<(String, String, String)> = HashSet::new();
    let mut touched = BTreeSet::new();
    for row in rows {
        let e = &row.item;
        if !e.activity.is_empty() {
            let key = (row.person.clone(), e.item.clone(), e.activity.clone());
            let last = !left.contains(&key)
                && !has_activity_evidence(conn, tenant, &row.person, &e.item, &e.activity)?;
            if last {
                left.insert(key);
            }
            count_activity(conn, tenant, &e.item, &e.activity, &e.outcome, -1, last)?;
        }
        touched.insert((row.person, row.item.item));
    }
    for (person, item) in touched {
        refresh(conn, tenant, &person, &item)?;
    }
    Ok(())
}
