//! The upskilling aggregates of the evidence file, kept by the evidence thread so that a
//! role's figures over 100 000 people are a few index reads rather than a pass over every
//! evidence row of its items.
//!
//! Everything comes from one walk of a person's rows for an item in time order (their
//! *path*): the running sum gives, for each level 1–5, whether and when they reached it,
//! the activities they did while still below it, and the spans of time during which their
//! score (evidence up to then, decayed to then) stood at or above it. The paths of the
//! (person, item) pairs a batch touches are walked before it is applied and again after,
//! and the aggregates move by the difference, so nothing of a path is stored:
//! - `item_closers`: per item and activity, for each level, the people who did it while
//!   below the level, and of those the people who then reached it;
//! - `item_buckets`: per item, people by the bucket of their sum's logarithm (64 a
//!   doubling; the sum is `person_items.normalized`), so "people at level L now" is a sum
//!   over the buckets clear of the threshold plus a check of the few sums next to it
//!   (`person_ranks`);
//! - `item_reach` and `item_reach_days`: the spans at or above each level, and how many
//!   start and end on each day (per level), so "people at level L at moment t" is the spans started
//!   by t less those ended by t, each a sum over days plus a count within t's day;
//! - `path_people` and `path_population`: people with any evidence, per tenant.
//!
//! The levels depend on the weights' half-life and thresholds (`LevelScale`); the file
//! records the scale its aggregates were built with and they are rebuilt when it changes.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{params, Connection, OptionalExtension};

use super::journal::Change;
use super::names::{find, Kind, NO_ACTIVITY};
use super::person::{PersonKey, PersonName};
use super::sums::{self, Sum};
use super::tallies::{PerLevel, Tallies};
use crate::store::evidence::LevelScale;
use crate::store::TenantId;

const DAY_MILLIS: i64 = 86_400_000;
/// Buckets per doubling of a sum.
const BUCKETS_PER_DOUBLING: f64 = 64.0;
/// The bucket of sums at or below zero (level 0 at any time).
const NOT_POSITIVE: i64 = i64::MIN;
/// The end of a span that lasts (level 1 never decays away; nor does any level before its
/// fall time overflows).
const FOREVER: i64 = i64::MAX;
pub(super) const LEVELS: usize = 5;

/// The bucket of a sum.
pub(in crate::store::sqlite) fn bucket(sum: f64) -> i64 {
    if sum > 0.0 {
        (sum.log2() * BUCKETS_PER_DOUBLING).floor() as i64
    } else {
        NOT_POSITIVE
    }
}

/// The smallest sum in a bucket, to within rounding (readers allow a bucket's margin).
fn bucket_start(bucket: i64) -> f64 {
    (bucket as f64 / BUCKETS_PER_DOUBLING).exp2()
}

/// What one person's path for one item contributes, per level (index 0 is level 1).
#[derive(Debug, Clone, Default, PartialEq)]
struct LevelPath {
    /// Whether they reached the level at some point.
    reached: bool,
    /// The activities done while below it (up to and including the row that reached it).
    below: Vec<i64>,
    /// When their score stood at or above it: [start, end) in Unix ms.
    spans: Vec<(i64, i64)>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Path {
    levels: Vec<LevelPath>,
}

/// A person's rows for an item, by tenant, person and item.
pub(super) type Pair = (TenantId, String, i64);

/// Where a pair stands: the bucket of its sum and what its path contributes.
pub(super) struct Standing {
    bucket: i64,
    path: Path,
}

/// One evidence row as the walk reads it, in time order (then storage order, then
/// identity, which tells apart the rows of one statement).
#[derive(Debug, Clone)]
pub(super) struct Step {
    pub at_ms: i64,
    pub seq: i64,
    pub identity: i64,
    pub normalized: f64,
    pub activity: i64,
}

impl Step {
    fn order(&self) -> (i64, i64, i64) {
        (self.at_ms, self.seq, self.identity)
    }
}

/// The first millisecond from `from` on at which a sum stops reaching `level` (FOREVER
/// when it never does): found by logarithm, then settled against `level_at` itself, so a
/// span ends exactly where the level computed at that moment drops.
fn falls_at(scale: &LevelScale, sum: f64, level: u8, from: i64) -> i64 {
    let holds = |t: i64| scale.level_at(sum, t) >= level;
    if level <= 1 {
        return FOREVER;
    }
    let threshold = scale.level_start(level);
    let guess = crate::store::evidence::EPOCH_MILLIS as f64
        + (sum / threshold).log2() * scale.half_life_days * DAY_MILLIS as f64;
    if !guess.is_finite() || guess >= (FOREVER / 2) as f64 {
        return FOREVER;
    }
    let mut t = (guess.floor() as i64).max(from + 1);
    while t > from + 1 && !holds(t - 1) {
        t -= 1;
    }
    while holds(t) {
        t += 1;
    }
    t
}

/// Walks a person's rows for an item (by time, then storage order): their sum, and what
/// each level makes of the path.
fn walk(scale: &LevelScale, steps: &[Step]) -> (f64, Path) {
    let mut levels = vec![LevelPath::default(); LEVELS];
    let mut below: Vec<BTreeSet<i64>> = vec![BTreeSet::new(); LEVELS];
    let mut sum = 0.0;
    // The closers: the same running sum, checked after each row.
    for step in steps {
        for (l, path) in levels.iter().enumerate() {
            if !path.reached && step.activity != NO_ACTIVITY {
                below[l].insert(step.activity);
            }
        }
        sum += step.normalized;
        for (l, path) in levels.iter_mut().enumerate() {
            if !path.reached && scale.level_at(sum, step.at_ms) > l as u8 {
                path.reached = true;
            }
        }
    }
    for (path, below) in levels.iter_mut().zip(below) {
        path.below = below.into_iter().collect();
    }
    // The spans: between two distinct times the sum is that of every row up to the first.
    let mut running = 0.0;
    let mut i = 0;
    while i < steps.len() {
        let at = steps[i].at_ms;
        while i < steps.len() && steps[i].at_ms == at {
            running += steps[i].normalized;
            i += 1;
        }
        let next = steps.get(i).map_or(FOREVER, |s| s.at_ms);
        for (l, path) in levels.iter_mut().enumerate() {
            let level = l as u8 + 1;
            if scale.level_at(running, at) < level {
                continue;
            }
            let end = falls_at(scale, running, level, at).min(next);
            match path.spans.last_mut() {
                Some(last) if last.1 == at => last.1 = end,
                _ => path.spans.push((at, end)),
            }
        }
    }
    (sum, Path { levels })
}

/// The (person, item) pairs a journal change touches, read before its batch is applied:
/// pairs that earlier changes of the batch add or move rows to are followed in `out`.
pub(super) fn touched_by(
    conn: &Connection,
    tenant: TenantId,
    change: &Change<i64>,
    out: &mut BTreeSet<Pair>,
) -> rusqlite::Result<()> {
    let of_seq = |seq: i64, out: &mut BTreeSet<_>| -> rusqlite::Result<()> {
        let mut stmt = conn
            .prepare_cached("SELECT person, item FROM evidence WHERE tenant = ?1 AND seq = ?2")?;
        let pairs = stmt.query_map(params![tenant, seq], |r| {
            Ok((r.get::<_, PersonName>(0)?.0, r.get(1)?))
        })?;
        for pair in pairs {
            let (person, item) = pair?;
            out.insert((tenant, person, item));
        }
        Ok(())
    };
    match change {
        Change::Add(row) => {
            out.insert((tenant, row.person.clone(), row.item));
        }
        Change::Withdraw { seq } => of_seq(*seq, out)?,
        Change::Erase { seqs } => {
            for seq in seqs {
                of_seq(*seq, out)?;
            }
        }
        Change::Move { identity, from, to } => {
            // Rows added or moved earlier in the batch are not in the table yet; their
            // pairs are in `out`.
            let pending: Vec<i64> = out
                .iter()
                .filter(|(t, p, _)| *t == tenant && p == from)
                .map(|(_, _, item)| *item)
                .collect();
            for item in pending {
                out.insert((tenant, to.clone(), item));
            }
            let items: Vec<i64> = conn
                .prepare_cached(
                    "SELECT DISTINCT item FROM evidence INDEXED BY evidence_by_person
                     WHERE tenant = ?1 AND person = ?2 AND identity = ?3",
                )?
                .query_map(params![tenant, PersonKey(from), identity], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for item in items {
                out.insert((tenant, from.clone(), item));
                out.insert((tenant, to.clone(), item));
            }
        }
        Change::ErasePeople { people } => {
            let mut stmt = conn.prepare_cached(
                "SELECT item FROM person_items WHERE tenant = ?1 AND person = ?2",
            )?;
            for person in people {
                let items = stmt.query_map(params![tenant, PersonKey(person)], |r| r.get(0))?;
                for item in items {
                    out.insert((tenant, person.clone(), item?));
                }
            }
        }
    }
    Ok(())
}

/// How the touched pairs stand before their batch is applied, for `refresh_all`.
pub(super) fn standings(
    conn: &Connection,
    scale: &LevelScale,
    touched: BTreeSet<Pair>,
) -> rusqlite::Result<Vec<(Pair, Option<Standing>)>> {
    touched
        .into_iter()
        .map(|pair| {
            let (tenant, person, item) = &pair;
            let standing = standing(conn, scale, (*tenant, person, *item))?;
            Ok((pair, standing))
        })
        .collect()
}

/// Walks each pair's path again once the batch is applied and moves the aggregates by the
/// difference from how it stood before.
pub(super) fn refresh_all(
    conn: &Connection,
    scale: &LevelScale,
    before: Vec<(Pair, Option<Standing>)>,
    tallies: &mut Tallies,
) -> rusqlite::Result<()> {
    for ((tenant, person, item), old) in before {
        refresh(conn, scale, (tenant, &person, item), old.as_ref(), tallies)?;
    }
    Ok(())
}

/// A pair's standing from its rows (None without any). The bucket follows the sum the
/// rankings read (`person_items`), so the counts per bucket and the sums they are checked
/// against agree to the last bit.
fn standing(
    conn: &Connection,
    scale: &LevelScale,
    pair: (TenantId, &str, i64),
) -> rusqlite::Result<Option<Standing>> {
    Ok(PairRows::read(conn, scale, pair)?.standing)
}

/// A pair's standing from its rows in walking order and its ranked sum.
fn standing_of(scale: &LevelScale, steps: &[Step], ranked: Option<f64>) -> Option<Standing> {
    if steps.is_empty() {
        return None;
    }
    let (walked, path) = walk(scale, steps);
    Some(Standing {
        bucket: bucket(ranked.unwrap_or(walked)),
        path,
    })
}

/// A pair's rows in walking order.
fn steps_of(
    conn: &Connection,
    (tenant, person, item): (TenantId, &str, i64),
) -> rusqlite::Result<Vec<Step>> {
    conn.prepare_cached(
        "SELECT at_ms, seq, identity, normalized, activity
         FROM evidence INDEXED BY evidence_by_person
         WHERE tenant = ?1 AND person = ?2 AND item = ?3 ORDER BY at_ms, seq, identity",
    )?
    .query_map(params![tenant, PersonKey(person), item], |r| {
        Ok(Step {
            at_ms: r.get(0)?,
            seq: r.get(1)?,
            identity: r.get(2)?,
            normalized: r.get(3)?,
            activity: r.get(4)?,
        })
    })?
    .collect()
}

/// A pair as read: its rows in walking order, its sum and how it stands. A batch that only
/// adds rows adds them here too, and the pair's new sum and standing follow without
/// reading the pair back.
pub(super) struct PairRows {
    steps: Vec<Step>,
    /// The sum as stored, and as the rows added make it.
    stored: Option<Sum>,
    sum: Option<Sum>,
    standing: Option<Standing>,
    added: bool,
}

impl PairRows {
    pub fn read(
        conn: &Connection,
        scale: &LevelScale,
        pair: (TenantId, &str, i64),
    ) -> rusqlite::Result<Self> {
        let steps = steps_of(conn, pair)?;
        let sum = if steps.is_empty() {
            None
        } else {
            sums::read(conn, pair)?
        };
        Ok(PairRows {
            standing: standing_of(scale, &steps, sum.map(|s| s.normalized)),
            steps,
            stored: sum,
            sum,
            added: false,
        })
    }

    /// Whether the pair has a row of the activity.
    pub fn has_activity(&self, activity: i64) -> bool {
        self.steps.iter().any(|s| s.activity == activity)
    }

    /// A row was added to the evidence.
    pub fn add(&mut self, step: Step) {
        self.sum = Some(Sum::adding(self.sum, step.normalized, step.at_ms));
        self.steps.push(step);
        self.added = true;
    }

    /// Writes the pair's new sum and moves the aggregates by what the added rows changed
    /// from how the pair was read.
    pub fn finish(
        mut self,
        conn: &Connection,
        scale: &LevelScale,
        pair: (TenantId, &str, i64),
        tallies: &mut Tallies,
    ) -> rusqlite::Result<()> {
        if !self.added {
            return Ok(());
        }
        self.steps.sort_by_key(Step::order);
        let new = standing_of(scale, &self.steps, self.sum.map(|s| s.normalized));
        record(pair, self.standing.as_ref(), new.as_ref(), tallies);
        sums::write(conn, tallies, pair, self.stored, self.sum)
    }
}

/// Walks a pair's path as it stands now and records how it moved from `old`.
fn refresh(
    conn: &Connection,
    scale: &LevelScale,
    pair: (TenantId, &str, i64),
    old: Option<&Standing>,
    tallies: &mut Tallies,
) -> rusqlite::Result<()> {
    let new = standing(conn, scale, pair)?;
    record(pair, old, new.as_ref(), tallies);
    Ok(())
}

/// Tallies how a pair's spans in `item_reach` and its counts moved from `old` to `new`.
fn record(
    (tenant, person, item): (TenantId, &str, i64),
    old: Option<&Standing>,
    new: Option<&Standing>,
    tallies: &mut Tallies,
) {
    let empty = Path::default();
    let old_path = old.map_or(&empty, |s| &s.path);
    let new_path = new.map_or(&empty, |s| &s.path);
    // Population and buckets.
    match (old, new) {
        (None, Some(_)) => tallies.person(tenant, person, 1),
        (Some(_), None) => tallies.person(tenant, person, -1),
        _ => {}
    }
    let old_bucket = old.map(|s| s.bucket);
    let new_bucket = new.map(|s| s.bucket);
    if old_bucket != new_bucket {
        if let Some(b) = old_bucket {
            tallies.bucket(tenant, item, b, -1);
        }
        if let Some(b) = new_bucket {
            tallies.bucket(tenant, item, b, 1);
        }
    }
    // Closers and day counts, by difference, one row per activity and per day for all
    // the levels at once.
    let mut closers: BTreeMap<i64, PerLevel> = BTreeMap::new();
    let mut days: BTreeMap<i64, PerLevel> = BTreeMap::new();
    let none = LevelPath::default();
    for l in 0..LEVELS {
        let level = l as i64 + 1;
        let was = old_path.levels.get(l).unwrap_or(&none);
        let is = new_path.levels.get(l).unwrap_or(&none);
        if was == is {
            continue;
        }
        for (path, sign) in [(was, -1), (is, 1)] {
            for a in &path.below {
                let d = closers.entry(*a).or_default();
                d[l] += sign;
                d[LEVELS + l] += sign * i64::from(path.reached);
            }
        }
        if was.spans == is.spans {
            continue;
        }
        // Only the spans that changed are written (when the batch ends, in key order): a
        // row added to a long path most often moves the end of its last span and leaves
        // the others as they were.
        for change in span_changes(&was.spans, &is.spans) {
            for (end, sign) in [(change.was, -1), (change.is, 1)] {
                let Some(end) = end else { continue };
                days.entry(change.start.div_euclid(DAY_MILLIS)).or_default()[l] += sign;
                if end != FOREVER {
                    days.entry(end.div_euclid(DAY_MILLIS)).or_default()[LEVELS + l] += sign;
                }
            }
            tallies.span((tenant, item, level, change.start, person), change.is);
        }
    }
    for (activity, d) in closers {
        if d.iter().any(|x| *x != 0) {
            tallies.closer((tenant, item, activity), &d);
        }
    }
    for (day, d) in days {
        if d.iter().any(|x| *x != 0) {
            tallies.day((tenant, item, day), &d);
        }
    }
}

/// A span of a level that differs between two paths: its end in each (None where it is
/// not in that path).
#[derive(Debug, Clone, Copy, PartialEq)]
struct SpanChange {
    start: i64,
    was: Option<i64>,
    is: Option<i64>,
}

/// The spans that differ between two of a level's span lists, each in start order (a
/// level's spans never share a start).
fn span_changes(was: &[(i64, i64)], is: &[(i64, i64)]) -> Vec<SpanChange> {
    let mut changes = Vec::new();
    let (mut old, mut new) = (was.iter().peekable(), is.iter().peekable());
    loop {
        let (start, was, is) = match (old.peek(), new.peek()) {
            (None, None) => break,
            (Some(&&o), Some(&&n)) if o.0 == n.0 => {
                old.next();
                new.next();
                (o.0, Some(o.1), Some(n.1))
            }
            (Some(&&o), Some(&&n)) if o.0 < n.0 => {
                old.next();
                (o.0, Some(o.1), None)
            }
            (Some(&&o), None) => {
                old.next();
                (o.0, Some(o.1), None)
            }
            (_, Some(&&n)) => {
                new.next();
                (n.0, None, Some(n.1))
            }
        };
        if was != is {
            changes.push(SpanChange { start, was, is });
        }
    }
    changes
}

/// The scale the aggregates were built with, if they were.
fn built_with(conn: &Connection) -> rusqlite::Result<Option<LevelScale>> {
    let row: Option<(f64, String)> = conn
        .query_row(
            "SELECT half_life_days, level_from FROM level_scale WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(row.and_then(|(half_life_days, from)| {
        let level_from: [f64; 4] = serde_json::from_str(&from).ok()?;
        Some(LevelScale {
            half_life_days,
            level_from,
        })
    }))
}

/// Empties the aggregates (the evidence file starts afresh, or is rebuilt).
pub(in crate::store::sqlite) fn clear(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "DELETE FROM item_buckets; DELETE FROM item_closers;
         DELETE FROM item_reach; DELETE FROM item_reach_days; DELETE FROM path_people;
         DELETE FROM path_population; DELETE FROM level_scale;",
    )
}

/// The scale the aggregates follow: `wanted` when given (they are rebuilt if they were
/// built with another), else the one they were built with (the default for a new file).
/// Builds them when the file has none (made before they existed, or just cleared).
pub(in crate::store::sqlite) fn ensure(
    conn: &mut Connection,
    wanted: Option<LevelScale>,
) -> rusqlite::Result<LevelScale> {
    let built = built_with(conn)?;
    let scale = wanted.or(built).unwrap_or_default();
    if built == Some(scale) {
        return Ok(scale);
    }
    let started = std::time::Instant::now();
    conn.execute_batch("BEGIN")?;
    clear(conn)?;
    conn.execute_batch("COMMIT")?;
    // In chunks of pairs, each its own transaction, so neither memory nor the write-ahead
    // log holds the whole file; the scale is written last, so a build cut short is
    // started again at the next open.
    let mut after: Pair = (TenantId::MIN, String::new(), i64::MIN);
    let mut pairs = 0usize;
    loop {
        let tx = conn.transaction()?;
        let chunk: Vec<Pair> = tx
            .prepare_cached(
                "SELECT tenant, person, item FROM person_items
                 WHERE (tenant, person, item) > (?1, ?2, ?3)
                 ORDER BY tenant, person, item LIMIT 5000",
            )?
            .query_map(params![after.0, PersonKey(&after.1), after.2], |r| {
                Ok((r.get(0)?, r.get::<_, PersonName>(1)?.0, r.get(2)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut tallies = Tallies::default();
        for (tenant, person, item) in &chunk {
            refresh(&tx, &scale, (*tenant, person, *item), None, &mut tallies)?;
        }
        tallies.flush(&tx)?;
        let Some(last) = chunk.last().cloned() else {
            tx.execute(
                "INSERT INTO level_scale (id, half_life_days, level_from) VALUES (1, ?1, ?2)",
                params![
                    scale.half_life_days,
                    serde_json::to_string(&scale.level_from).unwrap_or_default()
                ],
            )?;
            tx.commit()?;
            break;
        };
        tx.commit()?;
        pairs += chunk.len();
        after = last;
    }
    if pairs > 0 {
        tracing::info!(
            pairs,
            seconds = started.elapsed().as_secs_f64(),
            "built the upskilling aggregates of the evidence file"
        );
    }
    Ok(scale)
}

/// An item's figures against a level, read from the aggregates.
#[derive(Debug, Clone, Default, PartialEq)]
pub(in crate::store::sqlite) struct Figures {
    pub people: u64,
    pub at_least: Vec<u64>,
    pub reached_then: Vec<u64>,
    pub closers: Vec<(String, u64, u64)>,
}

/// Reads one item's figures: people with evidence, people at each level up to `target`
/// at `now`, people at `target` or above at each of `then`, and the closers of `target`.
/// The tables are those of the schema `db` (`derived` on a reader).
pub(in crate::store::sqlite) fn figures(
    conn: &Connection,
    db: &str,
    scale: &LevelScale,
    tenant: TenantId,
    (item, target): (&str, u8),
    now: i64,
    then: &[i64],
) -> rusqlite::Result<Figures> {
    // The item's id, looked up once (NULL, matching nothing, for an item without evidence).
    let item_id = find(conn, db, Kind::Item, item)?;
    let buckets: Vec<(i64, u64)> = conn
        .prepare_cached(&format!(
            "SELECT bucket, people FROM {db}.item_buckets WHERE tenant = ?1 AND item = ?2"
        ))?
        .query_map(params![tenant, item_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let people: u64 = buckets.iter().map(|(_, n)| n).sum();
    let positive: u64 = buckets
        .iter()
        .filter(|(b, _)| *b != NOT_POSITIVE)
        .map(|(_, n)| n)
        .sum();
    let mut at_least = Vec::with_capacity(usize::from(target));
    for level in 1..=target.max(1) {
        if level == 1 {
            at_least.push(positive);
            continue;
        }
        // Sums at least this reach the level now; the buckets next to its own are checked
        // sum by sum, the ones above counted whole.
        let threshold = scale.level_start(level) / scale.score_at(1.0, now);
        let edge = bucket(threshold);
        let clear: u64 = buckets
            .iter()
            .filter(|(b, _)| *b != NOT_POSITIVE && *b > edge.saturating_add(1))
            .map(|(_, n)| n)
            .sum();
        // The index of sums is read a bucket wider on each side, then bucket by bucket.
        let (low, high) = (
            bucket_start(edge.saturating_sub(2)),
            bucket_start(edge.saturating_add(3)),
        );
        let near: u64 = conn
            .prepare_cached(&format!(
                "SELECT normalized FROM {db}.person_ranks
                 WHERE tenant = ?1 AND item = ?2 AND normalized BETWEEN ?3 AND ?4"
            ))?
            .query_map(params![tenant, item_id, low, high], |r| r.get::<_, f64>(0))?
            .filter(|s| {
                s.as_ref().is_ok_and(|s| {
                    (edge.saturating_sub(1)..=edge.saturating_add(1)).contains(&bucket(*s))
                        && scale.level_at(*s, now) >= level
                })
            })
            .count() as u64;
        at_least.push(clear + near);
    }
    at_least.truncate(usize::from(target));
    let level = i64::from(target.max(1));
    let mut reached_then = Vec::with_capacity(then.len());
    for &t in then {
        let day = t.div_euclid(DAY_MILLIS);
        let (starts, ends): (i64, i64) = conn
            .prepare_cached(&format!(
                "SELECT total(starts_{level}), total(ends_{level}) FROM {db}.item_reach_days
                 WHERE tenant = ?1 AND item = ?2 AND day < ?3"
            ))?
            .query_row(params![tenant, item_id, day], |r| {
                Ok((r.get::<_, f64>(0)? as i64, r.get::<_, f64>(1)? as i64))
            })?;
        let day_start = day * DAY_MILLIS;
        let started: i64 = conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM {db}.item_reach
                 WHERE tenant = ?1 AND item = ?2 AND level = ?3
                 AND start_ms BETWEEN ?4 AND ?5"
            ))?
            .query_row(params![tenant, item_id, level, day_start, t], |r| r.get(0))?;
        let ended: i64 = conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM {db}.item_reach INDEXED BY item_reach_ends
                 WHERE tenant = ?1 AND item = ?2 AND level = ?3
                 AND end_ms BETWEEN ?4 AND ?5"
            ))?
            .query_row(params![tenant, item_id, level, day_start, t], |r| r.get(0))?;
        reached_then.push((starts + started - ends - ended).max(0) as u64);
    }
    Ok(Figures {
        people,
        at_least,
        reached_then,
        closers: closers(conn, db, tenant, (item, target))?,
    })
}

/// The activities people did while below `target` in `item`: (activity, learners, of
/// them the people who then reached it).
pub(in crate::store::sqlite) fn closers(
    conn: &Connection,
    db: &str,
    tenant: TenantId,
    (item, target): (&str, u8),
) -> rusqlite::Result<Vec<(String, u64, u64)>> {
    let level = target.max(1);
    let item_id = find(conn, db, Kind::Item, item)?;
    conn.prepare_cached(&format!(
        "SELECT activity, learners_{level}, reached_{level} FROM {db}.item_closers
         WHERE tenant = ?1 AND item = ?2 AND learners_{level} > 0"
    ))?
    .query_map(params![tenant, item_id], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = DAY_MILLIS;

    fn step(scale: &LevelScale, day: i64, value: f64, activity: i64) -> Step {
        let at = crate::store::evidence::EPOCH_MILLIS + day * DAY;
        Step {
            at_ms: at,
            seq: day,
            identity: 1,
            normalized: scale.normalized(value, at),
            activity,
        }
    }

    /// A span at a level holds exactly while the level computed at that moment does.
    #[test]
    fn spans_end_where_the_level_drops() {
        let scale = LevelScale::default();
        let steps = [
            step(&scale, 1000, 0.9, 1),
            step(&scale, 1001, 0.9, 2),
            step(&scale, 1400, 0.9, 3),
        ];
        let (sum, path) = walk(&scale, &steps);
        for (l, level) in path.levels.iter().enumerate() {
            let level_no = l as u8 + 1;
            for probe in (990..2500).map(|d| crate::store::evidence::EPOCH_MILLIS + d * DAY) {
                let upto: f64 = steps
                    .iter()
                    .filter(|s| s.at_ms <= probe)
                    .map(|s| s.normalized)
                    .sum();
                let at = scale.level_at(upto, probe) >= level_no;
                let inside = level.spans.iter().any(|(s, e)| *s <= probe && probe < *e);
                assert_eq!(at, inside, "level {level_no} at {probe}");
            }
            for &(s, e) in &level.spans {
                if e != FOREVER {
                    let upto: f64 = steps
                        .iter()
                        .filter(|x| x.at_ms < e)
                        .map(|x| x.normalized)
                        .sum();
                    assert!(scale.level_at(upto, e - 1) >= level_no);
                    assert!(s < e);
                }
            }
        }
        assert!(path.levels[1].reached && !path.levels[2].reached);
        assert_eq!(path.levels[1].below, [1, 2]);
        assert_eq!(path.levels[2].below, [1, 2, 3]);
        assert!(sum > 0.0);
    }

    /// Replaying the changes on the old spans gives the new ones, and spans that stayed
    /// as they were are not among them.
    #[test]
    fn span_changes_name_only_what_differs() {
        let change = |start, was, is| SpanChange { start, was, is };
        let was = [(1, 5), (10, 20), (30, FOREVER)];
        let is = [(1, 5), (10, 25), (28, 29), (40, FOREVER)];
        let changes = span_changes(&was, &is);
        assert_eq!(
            changes,
            [
                change(10, Some(20), Some(25)),
                change(28, None, Some(29)),
                change(30, Some(FOREVER), None),
                change(40, None, Some(FOREVER)),
            ]
        );
        let mut replayed: BTreeMap<i64, i64> = was.into_iter().collect();
        for c in &changes {
            match c.is {
                Some(end) => replayed.insert(c.start, end),
                None => replayed.remove(&c.start),
            };
        }
        assert_eq!(replayed.into_iter().collect::<Vec<_>>(), is);
        assert!(span_changes(&is, &is).is_empty());
        assert_eq!(span_changes(&[], &was[..1]), [change(1, None, Some(5))]);
        assert_eq!(span_changes(&was[..1], &[]), [change(1, Some(5), None)]);
    }
}
