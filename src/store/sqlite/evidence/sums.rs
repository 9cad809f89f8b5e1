//! A person's sum for an item, kept twice: in `person_items` by person, where the evidence
//! thread reads and writes it in a batch's person order, and in `person_ranks` by item and
//! sum, for rankings, where its moves are tallied and written in that table's key order
//! when the batch ends (`Tallies::flush`). Every write of a sum goes through `write`, so
//! the two never differ once a batch is committed.

use rusqlite::{params, Connection, OptionalExtension};

use super::person::PersonKey;
use super::tallies::Tallies;
use crate::store::TenantId;

/// One (person, item) pair's sum, with its count of rows and their time span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Sum {
    pub normalized: f64,
    pub evidence: i64,
    pub first_ms: i64,
    pub last_ms: i64,
}

impl Sum {
    /// The sum with one more row (`refresh` recomputes a sum from all its rows instead).
    pub fn adding(sum: Option<Sum>, normalized: f64, at_ms: i64) -> Sum {
        match sum {
            None => Sum {
                normalized,
                evidence: 1,
                first_ms: at_ms,
                last_ms: at_ms,
            },
            Some(s) => Sum {
                normalized: s.normalized + normalized,
                evidence: s.evidence + 1,
                first_ms: s.first_ms.min(at_ms),
                last_ms: s.last_ms.max(at_ms),
            },
        }
    }
}

/// A pair's sum as stored (None: the pair has no rows).
pub(super) fn read(
    conn: &Connection,
    (tenant, person, item): (TenantId, &str, i64),
) -> rusqlite::Result<Option<Sum>> {
    conn.prepare_cached(
        "SELECT normalized, evidence, first_ms, last_ms FROM person_items
         WHERE tenant = ?1 AND person = ?2 AND item = ?3",
    )?
    .query_row(params![tenant, PersonKey(person), item], |r| {
        Ok(Sum {
            normalized: r.get(0)?,
            evidence: r.get(1)?,
            first_ms: r.get(2)?,
            last_ms: r.get(3)?,
        })
    })
    .optional()
}

/// Moves a pair's sum from `old` (as read) to `new` (None: the pair has no rows left).
pub(super) fn write(
    conn: &Connection,
    tallies: &mut Tallies,
    pair: (TenantId, &str, i64),
    old: Option<Sum>,
    new: Option<Sum>,
) -> rusqlite::Result<()> {
    if old == new {
        return Ok(());
    }
    let (tenant, person, item) = pair;
    match new {
        Some(s) => conn
            .prepare_cached(
                "INSERT OR REPLACE INTO person_items
                     (tenant, person, item, normalized, evidence, first_ms, last_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                tenant,
                PersonKey(person),
                item,
                s.normalized,
                s.evidence,
                s.first_ms,
                s.last_ms
            ])?,
        None => conn
            .prepare_cached(
                "DELETE FROM person_items WHERE tenant = ?1 AND person = ?2 AND item = ?3",
            )?
            .execute(params![tenant, PersonKey(person), item])?,
    };
    if let Some(s) = old {
        tallies.rank(pair, s, false);
    }
    if let Some(s) = new {
        tallies.rank(pair, s, true);
    }
    Ok(())
}

/// Writes one entry of `person_ranks`: in (true) or out.
pub(super) fn write_rank(
    conn: &Connection,
    (tenant, person, item): (TenantId, &str, i64),
    s: &Sum,
    present: bool,
) -> rusqlite::Result<()> {
    let values = params![
        tenant,
        item,
        s.normalized,
        s.last_ms,
        s.evidence,
        s.first_ms,
        PersonKey(person)
    ];
    if present {
        conn.prepare_cached(
            "INSERT OR REPLACE INTO person_ranks
                 (tenant, item, normalized, last_ms, evidence, first_ms, person)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(values)?;
    } else {
        conn.prepare_cached(
            "DELETE FROM person_ranks WHERE tenant = ?1 AND item = ?2 AND normalized = ?3
             AND last_ms = ?4 AND evidence = ?5 AND first_ms = ?6 AND person = ?7",
        )?
        .execute(values)?;
    }
    Ok(())
}
