//! The evidence thread's side of removing statements for good (a person erased, statements
//! past a retention policy): their rows leave together, activity counts lose them, and each
//! (person, item) sum they touched is recomputed once, not once per statement — a person
//! with ten thousand statements would otherwise cost ten thousand recomputations of a
//! shrinking sum.

use std::collections::{BTreeSet, HashSet};

use rusqlite::{params, Connection};

use super::applier::{has_activity_evidence, refresh};
use super::applier::{withdrawn, Withdrawn, WITHDRAWN};
use super::names::NO_ACTIVITY;
use super::person::PersonKey;
use super::tallies::Tallies;
use crate::store::TenantId;

/// Takes out every row of the statements stored at `seqs`.
pub(super) fn withdraw_all(
    conn: &Connection,
    tenant: TenantId,
    seqs: &[i64],
    tallies: &mut Tallies,
) -> rusqlite::Result<()> {
    let mut delete = conn.prepare_cached(&format!(
        "DELETE FROM evidence WHERE tenant = ?1 AND seq = ?2 RETURNING {WITHDRAWN}"
    ))?;
    let mut rows = Vec::new();
    for seq in seqs {
        for row in delete.query_map(params![tenant, seq], withdrawn)? {
            rows.push(row?);
        }
    }
    account(conn, tenant, rows, tallies)
}

/// Takes out every row counting for the people, on any statement (their evidence as an
/// instructor on statements that stay, say).
pub(super) fn withdraw_people(
    conn: &Connection,
    tenant: TenantId,
    people: &[String],
    tallies: &mut Tallies,
) -> rusqlite::Result<()> {
    let mut delete = conn.prepare_cached(&format!(
        "DELETE FROM evidence INDEXED BY evidence_by_person WHERE tenant = ?1 AND person = ?2
         RETURNING {WITHDRAWN}"
    ))?;
    let mut rows = Vec::new();
    for person in people {
        for row in delete.query_map(params![tenant, PersonKey(person)], withdrawn)? {
            rows.push(row?);
        }
    }
    account(conn, tenant, rows, tallies)
}

/// Recounts activity statistics and sums after rows left.
fn account(
    conn: &Connection,
    tenant: TenantId,
    rows: Vec<Withdrawn>,
    tallies: &mut Tallies,
) -> rusqlite::Result<()> {
    // A learner of an activity leaves its count once, when none of their rows is left.
    let mut left: HashSet<(String, i64, i64)> = HashSet::new();
    let mut touched = BTreeSet::new();
    for row in rows {
        if row.activity != NO_ACTIVITY {
            let key = (row.person.clone(), row.item, row.activity);
            let last = !left.contains(&key)
                && !has_activity_evidence(conn, tenant, &row.person, row.item, row.activity)?;
            if last {
                left.insert(key);
            }
            tallies.activity((tenant, row.item, row.activity), &row.outcome, -1, last);
        }
        touched.insert((row.person, row.item));
    }
    for (person, item) in touched {
        refresh(conn, tenant, &person, item, tallies)?;
    }
    Ok(())
}
