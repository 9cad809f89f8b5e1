//! The counts a batch of the evidence journal moves, summed in memory and written once per
//! key when the batch ends. A batch of 20 000 rows moves the counts of a few thousand
//! (item, activity), (item, bucket) and (item, day) keys, and of each person once: one
//! upsert per key instead of one per row and level. Keys are written in order, so each
//! page of a count table is visited once.
//!
//! Only what nothing reads during the batch is tallied: the counts per activity, the
//! upskilling aggregates' buckets, closers and days, the people with evidence, the spans
//! of `item_reach` and the entries of `person_ranks`. A count that falls to zero loses its
//! row, as it would one change at a time.
//!
//! The spans and ranks are rows, not counts: their tables are ordered by item, not by
//! person as a batch is, so writing them as they come would touch a page at random for
//! each, and the pages a batch touches are far more than the evidence thread's page cache
//! holds (at a million statements, re-reading and re-writing the pages it had to let go
//! of was most of that thread's time).

use std::collections::BTreeMap;

use rusqlite::{params, Connection};

use super::paths::LEVELS;
use super::person::PersonKey;
use super::sums::{write_rank, Sum};
use crate::store::evidence::Outcome;
use crate::store::TenantId;

/// Per level 1–5, then per level again (learners and reached, or starts and ends).
pub(super) type PerLevel = [i64; 2 * LEVELS];

/// What a batch moves in `activity_stats` for one (item, activity).
#[derive(Debug, Default, Clone, PartialEq)]
struct ActivityCounts {
    statements: i64,
    learners: i64,
    completions: i64,
    successes: i64,
    failures: i64,
    score_sum: f64,
    scored: i64,
}

#[derive(Default)]
pub(super) struct Tallies {
    /// By (tenant, item, activity id).
    activities: BTreeMap<(TenantId, i64, i64), ActivityCounts>,
    /// Items with evidence, by (tenant, person): `path_people`.
    people: BTreeMap<(TenantId, String), i64>,
    /// People by (tenant, item, bucket of their sum): `item_buckets`.
    buckets: BTreeMap<(TenantId, i64, i64), i64>,
    /// By (tenant, item, activity id): `item_closers`.
    closers: BTreeMap<(TenantId, i64, i64), PerLevel>,
    /// By (tenant, item, day): `item_reach_days`.
    days: BTreeMap<(TenantId, i64, i64), PerLevel>,
    /// By (tenant, item, level, start, person): the end of the span in `item_reach`, or
    /// None when it is gone.
    spans: BTreeMap<(TenantId, i64, i64, i64, String), Option<i64>>,
    /// Entries of `person_ranks` in (true) or out, in the order they came.
    ranks: Vec<(RankEntry, bool)>,
}

/// An entry of `person_ranks`: tenant, item, sum and person.
type RankEntry = (TenantId, i64, Sum, String);

impl Tallies {
    /// Adds (`sign` 1) or takes away (−1) one evidence statement of an activity; a learner
    /// comes or goes with it when `learner_changes`.
    pub fn activity(
        &mut self,
        (tenant, item, activity): (TenantId, i64, i64),
        o: &Outcome,
        sign: i64,
        learner_changes: bool,
    ) {
        let c = self.activities.entry((tenant, item, activity)).or_default();
        c.statements += sign;
        c.learners += sign * i64::from(learner_changes);
        c.completions += sign * i64::from(o.completed);
        c.successes += sign * i64::from(o.success == Some(true));
        c.failures += sign * i64::from(o.success == Some(false));
        c.score_sum += sign as f64 * o.scaled.unwrap_or(0.0);
        c.scored += sign * i64::from(o.scaled.is_some());
    }

    /// An activity's learners move by `d` (an identity's rows went to another person).
    pub fn learners(&mut self, key: (TenantId, i64, i64), d: i64) {
        if d != 0 {
            self.activities.entry(key).or_default().learners += d;
        }
    }

    /// A person's count of items with evidence moves by `sign`.
    pub fn person(&mut self, tenant: TenantId, person: &str, sign: i64) {
        *self.people.entry((tenant, person.to_owned())).or_default() += sign;
    }

    pub fn bucket(&mut self, tenant: TenantId, item: i64, bucket: i64, sign: i64) {
        *self.buckets.entry((tenant, item, bucket)).or_default() += sign;
    }

    /// Learners of an activity below each level, then of them those who reached it.
    pub fn closer(&mut self, key: (TenantId, i64, i64), d: &PerLevel) {
        add(self.closers.entry(key).or_default(), d);
    }

    /// Spans of each level starting on a day, then ending on it.
    pub fn day(&mut self, key: (TenantId, i64, i64), d: &PerLevel) {
        add(self.days.entry(key).or_default(), d);
    }

    /// A pair's span at a level now ends at `end`, or is gone (None).
    pub fn span(
        &mut self,
        (tenant, item, level, start, person): (TenantId, i64, i64, i64, &str),
        end: Option<i64>,
    ) {
        self.spans
            .insert((tenant, item, level, start, person.to_owned()), end);
    }

    /// A pair's entry in `person_ranks` goes in (`present`) or out.
    pub fn rank(&mut self, (tenant, person, item): (TenantId, &str, i64), sum: Sum, present: bool) {
        self.ranks
            .push(((tenant, item, sum, person.to_owned()), present));
    }

    /// Writes every count moved, in the batch's transaction.
    pub fn flush(self, conn: &Connection) -> rusqlite::Result<()> {
        for ((tenant, item, activity), c) in self.activities {
            if c != ActivityCounts::default() {
                write_activity(conn, tenant, item, activity, &c)?;
            }
        }
        let mut population: BTreeMap<TenantId, i64> = BTreeMap::new();
        for ((tenant, person), d) in self.people {
            if d != 0 {
                *population.entry(tenant).or_default() += write_person(conn, tenant, &person, d)?;
            }
        }
        for (tenant, change) in population {
            if change != 0 {
                conn.prepare_cached(
                    "INSERT INTO path_population (tenant, people) VALUES (?1, ?2)
                     ON CONFLICT (tenant) DO UPDATE SET people = people + excluded.people",
                )?
                .execute(params![tenant, change])?;
            }
        }
        for ((tenant, item, bucket), d) in self.buckets {
            if d != 0 {
                write_bucket(conn, tenant, item, bucket, d)?;
            }
        }
        for ((tenant, item, activity), d) in self.closers {
            if d.iter().any(|x| *x != 0) {
                write_closer(conn, tenant, item, activity, &d)?;
            }
        }
        for ((tenant, item, day), d) in self.days {
            if d.iter().any(|x| *x != 0) {
                write_day(conn, tenant, item, day, &d)?;
            }
        }
        for ((tenant, item, level, start, person), end) in self.spans {
            write_span(conn, (tenant, item, level, start, &person), end)?;
        }
        // In the table's order; a stable sort, so the moves of one entry keep theirs.
        let mut ranks = self.ranks;
        ranks.sort_by(|((ta, ia, a, pa), _), ((tb, ib, b, pb), _)| {
            (ta, ia)
                .cmp(&(tb, ib))
                .then(b.normalized.total_cmp(&a.normalized))
                .then((a.last_ms, a.evidence, a.first_ms).cmp(&(b.last_ms, b.evidence, b.first_ms)))
                .then(pa.cmp(pb))
        });
        for ((tenant, item, sum, person), present) in ranks {
            write_rank(conn, (tenant, &person, item), &sum, present)?;
        }
        Ok(())
    }
}

fn add(total: &mut PerLevel, d: &PerLevel) {
    for (t, x) in total.iter_mut().zip(d) {
        *t += x;
    }
}

fn write_activity(
    conn: &Connection,
    tenant: TenantId,
    item: i64,
    activity: i64,
    c: &ActivityCounts,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO activity_stats (tenant, item, activity, statements, learners, completions,
             successes, failures, score_sum, scored)
         VALUES (?1, ?2, (SELECT name FROM activity_names WHERE id = ?3), ?4, ?5, ?6, ?7, ?8,
             ?9, ?10)
         ON CONFLICT (tenant, item, activity) DO UPDATE SET
             statements = statements + excluded.statements, learners = learners + excluded.learners,
             completions = completions + excluded.completions,
             successes = successes + excluded.successes, failures = failures + excluded.failures,
             score_sum = score_sum + excluded.score_sum, scored = scored + excluded.scored",
    )?
    .execute(params![
        tenant,
        item,
        activity,
        c.statements,
        c.learners,
        c.completions,
        c.successes,
        c.failures,
        c.score_sum,
        c.scored,
    ])?;
    if c.statements <= 0 {
        conn.prepare_cached(
            "DELETE FROM activity_stats
             WHERE tenant = ?1 AND item = ?2
             AND activity = (SELECT name FROM activity_names WHERE id = ?3) AND statements <= 0",
        )?
        .execute(params![tenant, item, activity])?;
    }
    Ok(())
}

/// Moves a person's count of items by `d`; how the count of people with evidence moves
/// with it (1 when they had none, −1 when they have none left, else 0).
fn write_person(
    conn: &Connection,
    tenant: TenantId,
    person: &str,
    d: i64,
) -> rusqlite::Result<i64> {
    let items: i64 = conn
        .prepare_cached(
            "INSERT INTO path_people (tenant, person, items) VALUES (?1, ?2, ?3)
             ON CONFLICT (tenant, person) DO UPDATE SET items = items + excluded.items
             RETURNING items",
        )?
        .query_row(params![tenant, PersonKey(person), d], |r| r.get(0))?;
    if items <= 0 {
        conn.prepare_cached("DELETE FROM path_people WHERE tenant = ?1 AND person = ?2")?
            .execute(params![tenant, PersonKey(person)])?;
    }
    let before = items - d;
    Ok(i64::from(items > 0) - i64::from(before > 0))
}

fn write_bucket(
    conn: &Connection,
    tenant: TenantId,
    item: i64,
    bucket: i64,
    d: i64,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO item_buckets (tenant, item, bucket, people) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (tenant, item, bucket) DO UPDATE SET people = people + excluded.people",
    )?
    .execute(params![tenant, item, bucket, d])?;
    if d < 0 {
        conn.prepare_cached(
            "DELETE FROM item_buckets
             WHERE tenant = ?1 AND item = ?2 AND bucket = ?3 AND people <= 0",
        )?
        .execute(params![tenant, item, bucket])?;
    }
    Ok(())
}

fn write_closer(
    conn: &Connection,
    tenant: TenantId,
    item: i64,
    activity: i64,
    d: &PerLevel,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO item_closers (tenant, item, activity, learners_1, learners_2, learners_3,
             learners_4, learners_5, reached_1, reached_2, reached_3, reached_4, reached_5)
         VALUES (?1, ?2, (SELECT name FROM activity_names WHERE id = ?3), ?4, ?5, ?6, ?7, ?8,
             ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (tenant, item, activity) DO UPDATE SET
             learners_1 = learners_1 + excluded.learners_1,
             learners_2 = learners_2 + excluded.learners_2,
             learners_3 = learners_3 + excluded.learners_3,
             learners_4 = learners_4 + excluded.learners_4,
             learners_5 = learners_5 + excluded.learners_5,
             reached_1 = reached_1 + excluded.reached_1,
             reached_2 = reached_2 + excluded.reached_2,
             reached_3 = reached_3 + excluded.reached_3,
             reached_4 = reached_4 + excluded.reached_4,
             reached_5 = reached_5 + excluded.reached_5",
    )?
    .execute(params![
        tenant, item, activity, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9]
    ])?;
    if d[..LEVELS].iter().any(|x| *x < 0) {
        conn.prepare_cached(
            "DELETE FROM item_closers WHERE tenant = ?1 AND item = ?2
             AND activity = (SELECT name FROM activity_names WHERE id = ?3)
             AND learners_1 <= 0 AND learners_2 <= 0 AND learners_3 <= 0 AND learners_4 <= 0
             AND learners_5 <= 0",
        )?
        .execute(params![tenant, item, activity])?;
    }
    Ok(())
}

fn write_day(
    conn: &Connection,
    tenant: TenantId,
    item: i64,
    day: i64,
    d: &PerLevel,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO item_reach_days (tenant, item, day, starts_1, starts_2, starts_3,
             starts_4, starts_5, ends_1, ends_2, ends_3, ends_4, ends_5)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (tenant, item, day) DO UPDATE SET
             starts_1 = starts_1 + excluded.starts_1, starts_2 = starts_2 + excluded.starts_2,
             starts_3 = starts_3 + excluded.starts_3, starts_4 = starts_4 + excluded.starts_4,
             starts_5 = starts_5 + excluded.starts_5, ends_1 = ends_1 + excluded.ends_1,
             ends_2 = ends_2 + excluded.ends_2, ends_3 = ends_3 + excluded.ends_3,
             ends_4 = ends_4 + excluded.ends_4, ends_5 = ends_5 + excluded.ends_5",
    )?
    .execute(params![
        tenant, item, day, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9]
    ])?;
    if d.iter().any(|x| *x < 0) {
        conn.prepare_cached(
            "DELETE FROM item_reach_days WHERE tenant = ?1 AND item = ?2 AND day = ?3
             AND starts_1 = 0 AND starts_2 = 0 AND starts_3 = 0 AND starts_4 = 0
             AND starts_5 = 0 AND ends_1 = 0 AND ends_2 = 0 AND ends_3 = 0 AND ends_4 = 0
             AND ends_5 = 0",
        )?
        .execute(params![tenant, item, day])?;
    }
    Ok(())
}

fn write_span(
    conn: &Connection,
    (tenant, item, level, start, person): (TenantId, i64, i64, i64, &str),
    end: Option<i64>,
) -> rusqlite::Result<()> {
    let person = PersonKey(person);
    match end {
        Some(end) => conn
            .prepare_cached(
                "INSERT INTO item_reach (tenant, item, level, start_ms, person, end_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (tenant, item, level, start_ms, person)
                 DO UPDATE SET end_ms = excluded.end_ms",
            )?
            .execute(params![tenant, item, level, start, person, end])?,
        None => conn
            .prepare_cached(
                "DELETE FROM item_reach WHERE tenant = ?1 AND item = ?2 AND level = ?3
                 AND start_ms = ?4 AND person = ?5",
            )?
            .execute(params![tenant, item, level, start, person])?,
    };
    Ok(())
}
