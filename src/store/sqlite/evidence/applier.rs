//! The evidence thread: applies the main database's evidence journal, in order, to the
//! evidence file (rows, per-person sums and their ranking, per-activity counts). It has
//! its own file and connection, so its random index writes run beside the statement
//! writer instead of inside its transactions, and a backlog is applied in large,
//! person-ordered transactions. Readers wait until it has applied every change committed
//! before they asked that can change their answer (`pending`), so an acknowledged
//! statement's evidence is always in the answer, and a read of one person does not wait
//! for a backlog of everyone else's.

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, Row, TransactionBehavior};
use thread_priority::{ThreadPriority, ThreadPriorityValue};
use tokio::sync::watch;

use super::journal::{Change, StoredRow};
use super::names::{Names, NO_ACTIVITY};
use super::paths::{PairRows, Step};
use super::pending::{Pending, Scope};
use super::person::{PersonKey, PersonName};
use super::sums::{self, Sum};
use super::tallies::Tallies;
use crate::store::evidence::outcome_from;
use crate::store::evidence::{LevelScale, Outcome};
use crate::store::sqlite::writer::Writer;
use crate::store::TenantId;

/// An evidence row as the evidence file holds it: names by id.
type IdRow = StoredRow<i64>;

/// The most journal entries applied in one transaction. A batch's rows fall on about as
/// many pages of each index as there are rows until the batch nears the index's leaf
/// count, so larger batches write fewer pages per row: at a million statements, 20 000
/// ingested 6 to 9 % faster than 10 000 (40 000 gained about as much, with 40 MB more at
/// its peak).
const BATCH: i64 = 20_000;
/// Changes wait this long for others to join their transaction (unless a reader is
/// waiting for them, or a full batch has gathered): one transaction of many changes
/// writes each page of the sums once, many small ones write it again and again.
const LINGER: Duration = Duration::from_millis(500);
/// Applied entries are removed from the journal once this many have gathered, or when
/// the thread has caught up (small removals keep the writer's savepoint journal small).
const TRIM_EVERY: i64 = 5_000;
/// The evidence thread's priority on the crate's scale (0 to 99 onto nice 19 to −20):
/// 22 is nice 10, about a tenth of a core's time against a busy thread of nice 0. The
/// writer stays first without evidence starving when other processes (a load generator,
/// say) keep the cores busy; at nice 19 it had next to nothing, and readers waited for
/// many seconds.
const EVIDENCE_PRIORITY: u8 = 22;
/// How long a reader waits for the thread before answering with what is applied.
const SETTLE_WAIT: Duration = Duration::from_secs(30);
/// The most journal entries the thread may be behind before writes that add evidence
/// wait for it: the thread then gets the cores, and an acknowledged statement's evidence
/// is readable within seconds however fast statements arrive. More than two full batches,
/// so the thread still applies in large transactions.
const MAX_BEHIND: i64 = 50_000;
/// How long such a write waits before it goes ahead anyway (a thread that stopped
/// applying must not stop ingest).
const CATCH_UP_WAIT: Duration = Duration::from_secs(10);

/// How far the journal is written and applied, shared by the writer, the evidence thread
/// and readers.
pub(in crate::store::sqlite) struct EvidenceSync {
    /// The newest journal entry committed to the main database.
    head: AtomicI64,
    /// The newest journal entry applied to the evidence file.
    applied: watch::Sender<i64>,
    /// Guards the thread's wake-ups.
    state: Mutex<Wake>,
    wake: Condvar,
    /// When each journal head was committed, oldest first, for the lag in seconds
    /// (`lag`); entries applied are dropped as new ones arrive.
    commits: Mutex<VecDeque<(i64, Instant)>>,
    /// What each unapplied entry changes.
    pending: Mutex<Pending>,
}

/// The most commit times kept; past it the newest one stands for the later commits too,
/// which can only make the lag read older, never younger.
const COMMIT_TIMES: usize = 4096;

#[derive(Default)]
struct Wake {
    /// The store was dropped.
    stopped: bool,
    /// A reader waits for the changes up to this one.
    demanded: i64,
}

impl EvidenceSync {
    pub fn new(head: i64, applied: i64) -> Arc<Self> {
        Arc::new(EvidenceSync {
            head: AtomicI64::new(head),
            applied: watch::Sender::new(applied),
            state: Mutex::new(Wake::default()),
            wake: Condvar::new(),
            // A backlog found at start counts from the start.
            commits: Mutex::new(
                (head > applied)
                    .then(|| (head, Instant::now()))
                    .into_iter()
                    .collect(),
            ),
            pending: Mutex::new(if head > applied {
                Pending::with_backlog(head)
            } else {
                Pending::default()
            }),
        })
    }

    /// Journal entries committed and not applied yet, and the age of the oldest of them.
    pub fn lag(&self) -> (u64, Duration) {
        let applied = *self.applied.borrow();
        let behind = self.head.load(Ordering::SeqCst) - applied;
        if behind <= 0 {
            return (0, Duration::ZERO);
        }
        let oldest = self.commits.lock().ok().and_then(|commits| {
            commits
                .iter()
                .find(|(head, _)| *head > applied)
                .map(|(_, at)| at.elapsed())
        });
        (behind as u64, oldest.unwrap_or_default())
    }

    /// Notes when `head` was committed, dropping the times of what is applied.
    fn note_commit(&self, head: i64) {
        let applied = *self.applied.borrow();
        if let Ok(mut commits) = self.commits.lock() {
            while commits.front().is_some_and(|(h, _)| *h <= applied) {
                commits.pop_front();
            }
            let full = commits.len() >= COMMIT_TIMES;
            match commits.back_mut() {
                Some(newest) if full => newest.0 = head,
                _ => commits.push_back((head, Instant::now())),
            }
        }
    }

    /// Called by the writer after each commit, before it answers.
    pub fn committed(&self, head: i64) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.publish();
        }
        if self.head.fetch_max(head, Ordering::SeqCst) < head {
            self.note_commit(head);
            // Taking the lock orders this with the thread's check of `head`.
            let _guard = self.state.lock();
            self.wake.notify_one();
        }
    }

    /// Resolves once every change committed before the call is applied (or after
    /// `SETTLE_WAIT`, with what is applied by then).
    pub async fn settled(&self) {
        self.settled_through(self.head.load(Ordering::SeqCst)).await;
    }

    /// `settled`, for the changes committed before the call that a read of `scope` in
    /// `tenant` can see.
    pub async fn settled_for(&self, tenant: TenantId, scope: Scope<'_>) {
        let head = self.head.load(Ordering::SeqCst);
        if *self.applied.borrow() >= head {
            return;
        }
        // Entries a failed transaction staged may name ids past the head: never wait
        // beyond what is committed.
        let target = match self.pending.lock() {
            Ok(pending) => pending.target(tenant, scope).min(head),
            Err(_) => head,
        };
        self.settled_through(target).await;
    }

    async fn settled_through(&self, target: i64) {
        if *self.applied.borrow() >= target {
            return;
        }
        if let Ok(mut state) = self.state.lock() {
            state.demanded = state.demanded.max(target);
        }
        self.wake.notify_one();
        let mut applied = self.applied.subscribe();
        let reached = applied.wait_for(|a| *a >= target);
        if tokio::time::timeout(SETTLE_WAIT, reached).await.is_err() {
            tracing::warn!(
                target,
                applied = *self.applied.borrow(),
                "evidence is behind its journal; answering with what is applied"
            );
        }
    }

    /// Resolves once the thread is less than `MAX_BEHIND` entries behind the journal (at
    /// most after `CATCH_UP_WAIT`): called before a write that adds evidence, so ingest
    /// never runs further ahead of the evidence thread than that.
    pub async fn room(&self) {
        let head = self.head.load(Ordering::SeqCst);
        if head - *self.applied.borrow() < MAX_BEHIND {
            return;
        }
        // Half the limit, so the writes that waited go on together, not one by one.
        let target = head - MAX_BEHIND / 2;
        let mut applied = self.applied.subscribe();
        let caught_up = applied.wait_for(|a| *a >= target);
        if tokio::time::timeout(CATCH_UP_WAIT, caught_up)
            .await
            .is_err()
        {
            tracing::warn!(
                head,
                applied = *self.applied.borrow(),
                "the evidence thread is far behind; storing without waiting for it"
            );
        }
    }

    /// Stops the thread (what is not applied yet stays in the journal).
    pub fn stop(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.stopped = true;
        }
        self.wake.notify_all();
    }

    /// Waits until changes past `applied` are due: a reader waits for them, a batch has
    /// gathered, or the oldest has lingered long enough. False once stopped.
    fn wait_for_work(&self, applied: i64) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        let mut pending_since: Option<Instant> = None;
        loop {
            if state.stopped {
                return false;
            }
            let pending = self.head.load(Ordering::SeqCst) - applied;
            let now = Instant::now();
            let since = *pending_since.get_or_insert(now);
            if pending <= 0 {
                pending_since = None;
            } else if state.demanded > applied || pending >= BATCH || now - since >= LINGER {
                return true;
            }
            let wait = match pending_since {
                Some(since) => LINGER.saturating_sub(now - since),
                None => Duration::from_secs(1),
            };
            state = match self.wake.wait_timeout(state, wait) {
                Ok((guard, _)) => guard,
                Err(_) => return false,
            };
        }
    }
}

/// Starts the evidence thread on `conn` (the evidence file, with the main database
/// attached as `lrs`); `writer` removes applied entries from the journal.
pub(in crate::store::sqlite) fn start(
    conn: Connection,
    sync: Arc<EvidenceSync>,
    writer: Writer,
    levels: LevelScale,
) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("sqlite-evidence".into())
        .spawn(move || run(conn, &sync, &writer, &levels))?;
    Ok(())
}

fn run(mut conn: Connection, sync: &EvidenceSync, writer: &Writer, levels: &LevelScale) {
    // Ingest comes first: this thread yields the CPU to the writer and the request
    // handlers, and still gets its share when both want it. (It cannot be raised again
    // while a reader waits: an unprivileged thread may not lower its nice value.)
    let lowered = ThreadPriorityValue::try_from(EVIDENCE_PRIORITY)
        .map_err(|_| thread_priority::Error::Priority("not on the crate's scale"))
        .and_then(|p| {
            thread_priority::set_current_thread_priority(ThreadPriority::Crossplatform(p))
        });
    if let Err(e) = lowered {
        tracing::warn!(error = ?e, "lowering the evidence thread's priority failed");
    }
    let mut applied = *sync.applied.borrow();
    let mut trimmed = applied;
    while sync.wait_for_work(applied) {
        match apply_batch(&mut conn, applied, BATCH, levels) {
            Ok(through) => {
                applied = through;
                if let Ok(mut pending) = sync.pending.lock() {
                    pending.prune(applied);
                }
                sync.applied.send_replace(applied);
                // This thread is the evidence file's only writer, so it keeps its log.
                if let Err(e) = crate::store::sqlite::checkpoint(&conn) {
                    tracing::warn!(error = %e, "the evidence file's WAL checkpoint failed");
                }
                let caught_up = applied >= sync.head.load(Ordering::SeqCst);
                if applied > trimmed && (caught_up || applied - trimmed >= TRIM_EVERY) {
                    trim(writer, applied);
                    trimmed = applied;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, applied, "applying the evidence journal failed; retrying");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// Removes applied entries, keeping the newest so that ids are never reused.
fn trim(writer: &Writer, applied: i64) {
    writer.enqueue(move |ctx| {
        ctx.conn
            .prepare_cached("DELETE FROM evidence_journal WHERE id < ?1")?
            .execute([applied])?;
        Ok(())
    });
}

/// Applies up to `limit` entries after `applied` in one transaction; the last id applied.
fn apply_batch(
    conn: &mut Connection,
    applied: i64,
    limit: i64,
    levels: &LevelScale,
) -> rusqlite::Result<i64> {
    // Deferred: the journal's database is only read, so only the evidence file is locked.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
    // Ids of the names the batch meets; names it makes roll back with it if it fails, so
    // the map lives no longer than the transaction.
    let mut names = Names::default();
    // Each change is parsed and given its ids as it is read, so the batch holds it once,
    // in its smaller form.
    let mut entries = Vec::new();
    let mut through = applied;
    let mut read = tx.prepare_cached(
        "SELECT id, tenant, change FROM lrs.evidence_journal WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let mut rows = read.query(params![applied, limit])?;
    while let Some(row) = rows.next()? {
        through = row.get(0)?;
        let tenant: TenantId = row.get(1)?;
        match serde_json::from_str::<Change>(row.get_ref(2)?.as_str()?) {
            Ok(change) => {
                entries.push((tenant, change.named_by(|kind, n| names.id(&tx, kind, n))?))
            }
            Err(e) => {
                tracing::error!(id = through, error = %e, "skipping an unreadable evidence change")
            }
        }
    }
    drop(rows);
    drop(read);
    if through == applied {
        return Ok(applied);
    }
    let mut tallies = Tallies::default();
    if entries
        .iter()
        .all(|(_, change)| matches!(change, Change::Add(_)))
    {
        let rows = entries
            .into_iter()
            .filter_map(|(tenant, change)| match change {
                Change::Add(row) => Some((tenant, row)),
                _ => None,
            })
            .collect();
        add_only(&tx, levels, rows, &mut tallies)?;
    } else {
        apply_mixed(&tx, levels, entries, &mut tallies)?;
    }
    tallies.flush(&tx)?;
    tx.prepare_cached("UPDATE applied SET journal = ?1")?
        .execute([through])?;
    tx.commit()?;
    Ok(through)
}

/// Applies a batch that mixes additions with withdrawals, moves or erasures: every pair
/// it touches is walked before any change and again after all of them.
fn apply_mixed(
    tx: &Connection,
    levels: &LevelScale,
    entries: Vec<(TenantId, Change<i64>)>,
    tallies: &mut Tallies,
) -> rusqlite::Result<()> {
    // The (person, item) pairs whose upskilling paths change, walked before the batch is
    // applied and again after.
    let mut touched = BTreeSet::new();
    for (tenant, change) in &entries {
        super::paths::touched_by(tx, *tenant, change, &mut touched)?;
    }
    let before = super::paths::standings(tx, levels, touched)?;
    let mut additions = Vec::new();
    for (tenant, change) in entries {
        match change {
            Change::Add(row) => additions.push((tenant, row)),
            Change::Withdraw { seq } => {
                add_all(tx, &mut additions, tallies)?;
                withdraw(tx, tenant, seq, tallies)?;
            }
            Change::Move { identity, from, to } => {
                add_all(tx, &mut additions, tallies)?;
                move_identity(tx, tenant, identity, (&from, &to), tallies)?;
            }
            Change::Erase { seqs } => {
                add_all(tx, &mut additions, tallies)?;
                super::erase::withdraw_all(tx, tenant, &seqs, tallies)?;
            }
            Change::ErasePeople { people } => {
                add_all(tx, &mut additions, tallies)?;
                super::erase::withdraw_people(tx, tenant, &people, tallies)?;
            }
        }
    }
    add_all(tx, &mut additions, tallies)?;
    super::paths::refresh_all(tx, levels, before, tallies)?;
    Ok(())
}

/// Applies a batch that only adds rows, as ingest's do, pair by pair in person order: a
/// pair is read once, before its rows go in, and its new standing follows from what was
/// added (`paths::PairRows`). A mixed batch reads every pair it touches again after.
fn add_only(
    conn: &Connection,
    levels: &LevelScale,
    mut rows: Vec<(TenantId, IdRow)>,
    tallies: &mut Tallies,
) -> rusqlite::Result<()> {
    rows.sort_by(|(ta, a), (tb, b)| (ta, &a.person, a.item).cmp(&(tb, &b.person, b.item)));
    let mut rows = rows.into_iter().peekable();
    while let Some((tenant, mut row)) = rows.next() {
        let mut pair = PairRows::read(conn, levels, (tenant, &row.person, row.item))?;
        loop {
            // A learner is new to an activity without a row of it before this one.
            let new_learner = row.activity != NO_ACTIVITY && !pair.has_activity(row.activity);
            if insert(conn, tenant, &row)? {
                if row.activity != NO_ACTIVITY {
                    let outcome = outcome_from(row.outcome, row.scaled);
                    tallies.activity((tenant, row.item, row.activity), &outcome, 1, new_learner);
                }
                pair.add(Step {
                    at_ms: row.at_ms,
                    seq: row.seq,
                    identity: row.identity,
                    normalized: row.normalized,
                    activity: row.activity,
                });
            }
            let same_pair = |(t, next): &(TenantId, IdRow)| {
                *t == tenant && next.person == row.person && next.item == row.item
            };
            match rows.next_if(same_pair) {
                Some((_, next)) => row = next,
                None => break,
            }
        }
        pair.finish(conn, levels, (tenant, &row.person, row.item), tallies)?;
    }
    Ok(())
}

/// Adds a run of rows in person order, so each sum's page is visited once.
fn add_all(
    conn: &Connection,
    rows: &mut Vec<(TenantId, IdRow)>,
    tallies: &mut Tallies,
) -> rusqlite::Result<()> {
    rows.sort_by(|(ta, a), (tb, b)| (ta, &a.person, a.item).cmp(&(tb, &b.person, b.item)));
    for (tenant, row) in rows.drain(..) {
        add(conn, tenant, &row, tallies)?;
    }
    Ok(())
}

pub(super) fn has_activity_evidence(
    conn: &Connection,
    tenant: TenantId,
    person: &str,
    item: i64,
    activity: i64,
) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT 1 FROM evidence INDEXED BY evidence_by_person
         WHERE tenant = ?1 AND person = ?2 AND item = ?3 AND activity = ?4",
    )?
    .exists(params![tenant, PersonKey(person), item, activity])
}

/// Adds one row to the evidence and the sums, and tallies its activity's counts.
fn add(
    conn: &Connection,
    tenant: TenantId,
    row: &IdRow,
    tallies: &mut Tallies,
) -> rusqlite::Result<()> {
    let new_learner = row.activity != NO_ACTIVITY
        && !has_activity_evidence(conn, tenant, &row.person, row.item, row.activity)?;
    if !insert(conn, tenant, row)? {
        return Ok(());
    }
    if row.activity != NO_ACTIVITY {
        let outcome = outcome_from(row.outcome, row.scaled);
        tallies.activity((tenant, row.item, row.activity), &outcome, 1, new_learner);
    }
    let pair = (tenant, row.person.as_str(), row.item);
    let old = sums::read(conn, pair)?;
    let new = Sum::adding(old, row.normalized, row.at_ms);
    sums::write(conn, tallies, pair, old, Some(new))
}

/// Adds one row to the evidence (not to its pair's sum); false when it was there already.
fn insert(conn: &Connection, tenant: TenantId, row: &IdRow) -> rusqlite::Result<bool> {
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO evidence (tenant, seq, statement, item, identity, person,
                 activity, verb, verb_w, result_w, confidence, trust, at_ms, normalized,
                 outcome, scaled)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )?
        .execute(params![
            tenant,
            row.seq,
            row.statement,
            row.item,
            row.identity,
            PersonKey(&row.person),
            row.activity,
            row.verb,
            row.verb_w,
            row.result_w,
            row.confidence,
            row.trust,
            row.at_ms,
            row.normalized,
            row.outcome,
            row.scaled,
        ])?;
    Ok(inserted > 0)
}

/// What taking an evidence row out needs of it: `RETURNING {WITHDRAWN}`, read by
/// `withdrawn`.
pub(super) const WITHDRAWN: &str = "person, item, activity, outcome, scaled";

pub(super) struct Withdrawn {
    pub person: String,
    pub item: i64,
    pub activity: i64,
    pub outcome: Outcome,
}

pub(super) fn withdrawn(r: &Row<'_>) -> rusqlite::Result<Withdrawn> {
    Ok(Withdrawn {
        person: r.get::<_, PersonName>(0)?.0,
        item: r.get(1)?,
        activity: r.get(2)?,
        outcome: outcome_from(r.get(3)?, r.get(4)?),
    })
}

/// Takes out the rows of the statement stored at `seq` and recomputes what they were in.
fn withdraw(
    conn: &Connection,
    tenant: TenantId,
    seq: i64,
    tallies: &mut Tallies,
) -> rusqlite::Result<()> {
    let rows = conn
        .prepare_cached(&format!(
            "DELETE FROM evidence WHERE tenant = ?1 AND seq = ?2 RETURNING {WITHDRAWN}"
        ))?
        .query_map(params![tenant, seq], withdrawn)?
        .collect::<Result<Vec<_>, _>>()?;
    let mut touched = BTreeSet::new();
    for row in rows {
        if row.activity != NO_ACTIVITY {
            let last = !has_activity_evidence(conn, tenant, &row.person, row.item, row.activity)?;
            tallies.activity((tenant, row.item, row.activity), &row.outcome, -1, last);
        }
        touched.insert((row.person, row.item));
    }
    for (person, item) in touched {
        refresh(conn, tenant, &person, item, tallies)?;
    }
    Ok(())
}

/// Recomputes a person's sum for an item from its evidence rows (no float drift).
pub(super) fn refresh(
    conn: &Connection,
    tenant: TenantId,
    person: &str,
    item: i64,
    tallies: &mut Tallies,
) -> rusqlite::Result<()> {
    let pair = (tenant, person, item);
    let (count, normalized, first, last): (i64, f64, Option<i64>, Option<i64>) = conn
        .prepare_cached(
            "SELECT count(*), total(normalized), min(at_ms), max(at_ms)
             FROM evidence INDEXED BY evidence_by_person
             WHERE tenant = ?1 AND person = ?2 AND item = ?3",
        )?
        .query_row(params![tenant, PersonKey(person), item], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    let new = first
        .zip(last)
        .filter(|_| count > 0)
        .map(|(first_ms, last_ms)| Sum {
            normalized,
            evidence: count,
            first_ms,
            last_ms,
        });
    let old = sums::read(conn, pair)?;
    sums::write(conn, tallies, pair, old, new)
}

/// Moves an identity's rows from one person to another and recomputes both people's sums.
fn move_identity(
    conn: &Connection,
    tenant: TenantId,
    identity: i64,
    (from, to): (&str, &str),
    tallies: &mut Tallies,
) -> rusqlite::Result<()> {
    let moved: Vec<(i64, i64)> = conn
        .prepare_cached(
            "SELECT DISTINCT item, activity FROM evidence INDEXED BY evidence_by_person
             WHERE tenant = ?1 AND person = ?2 AND identity = ?3",
        )?
        .query_map(params![tenant, PersonKey(from), identity], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    // An activity's learners are the people with a row of it: the receiving person may
    // become one, the giving person may stop being one.
    let activities: Vec<(i64, i64)> = moved
        .iter()
        .copied()
        .filter(|(_, activity)| *activity != NO_ACTIVITY)
        .collect();
    let mut joins = Vec::with_capacity(activities.len());
    for &(item, activity) in &activities {
        joins.push(!has_activity_evidence(conn, tenant, to, item, activity)?);
    }
    conn.prepare_cached(
        "UPDATE evidence INDEXED BY evidence_by_person SET person = ?4
         WHERE tenant = ?1 AND person = ?2 AND identity = ?3",
    )?
    .execute(params![tenant, PersonKey(from), identity, PersonKey(to)])?;
    for (&(item, activity), joins) in activities.iter().zip(joins) {
        let leaves = !has_activity_evidence(conn, tenant, from, item, activity)?;
        tallies.learners(
            (tenant, item, activity),
            i64::from(joins) - i64::from(leaves),
        );
    }
    let items: BTreeSet<i64> = moved.into_iter().map(|(item, _)| item).collect();
    for item in items {
        refresh(conn, tenant, from, item, tallies)?;
        refresh(conn, tenant, to, item, tallies)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::{migrate, EVIDENCE_SCHEMA};
    use rusqlite::types::Value;

    /// An evidence file in memory, with the journal's database attached as `lrs`.
    fn evidence_file() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        migrate(&conn, &EVIDENCE_SCHEMA).unwrap();
        conn.execute_batch(
            "ATTACH DATABASE ':memory:' AS lrs;
             CREATE TABLE lrs.evidence_journal (
                 id INTEGER PRIMARY KEY, tenant INTEGER NOT NULL, change TEXT NOT NULL);",
        )
        .unwrap();
        conn
    }

    /// Every row `sql` reads, as its columns' values.
    fn rows_of(conn: &Connection, sql: &str) -> Vec<Vec<Value>> {
        let mut stmt = conn.prepare(sql).unwrap();
        let columns = stmt.column_count();
        stmt.query_map([], |r| (0..columns).map(|i| r.get(i)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    /// Every row of the upskilling aggregates as text, sorted.
    fn aggregates(conn: &Connection) -> Vec<String> {
        let tables = [
            "item_buckets",
            "item_closers",
            "item_reach",
            "item_reach_days",
            "path_people",
            "path_population",
        ];
        let mut rows: Vec<String> = tables
            .iter()
            .flat_map(|table| {
                rows_of(conn, &format!("SELECT * FROM {table}"))
                    .into_iter()
                    .map(move |values| format!("{table} {values:?}"))
            })
            .collect();
        rows.sort();
        rows
    }

    /// What a random journal holds.
    #[derive(Clone, Copy)]
    enum Mix {
        AdditionsOnly,
        All,
    }

    /// A random journal of additions and, with `Mix::All`, withdrawals, identity moves and
    /// erasures, whose changes often concern rows that earlier ones added or moved.
    fn random_journal(conn: &Connection, entries: usize, mix: Mix) {
        let mut seed: u64 = 19;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        // Who each identity counts for now.
        let mut person_of: Vec<String> = (0..8).map(|i| format!("p{i}")).collect();
        let mut seq = 0;
        let day = 86_400_000;
        for id in 1..=entries as i64 {
            let kinds = match mix {
                Mix::AdditionsOnly => 14,
                Mix::All => 20,
            };
            let change = match next(kinds) {
                0..=13 => {
                    seq += 1;
                    let identity = next(8) as usize;
                    let at_ms = crate::store::evidence::EPOCH_MILLIS + next(900) as i64 * day;
                    Change::Add(StoredRow {
                        seq,
                        person: person_of[identity].clone(),
                        statement: format!("s{seq}"),
                        item: format!("item{}", next(3)),
                        identity: format!("i{identity}"),
                        activity: ["", "a", "b", "c"][next(4) as usize].into(),
                        verb: "completed".into(),
                        verb_w: 1.0,
                        result_w: 1.0,
                        confidence: 1.0,
                        trust: 1.0,
                        at_ms,
                        normalized: LevelScale::default()
                            .normalized(0.2 + next(10) as f64 / 10.0, at_ms),
                        // Completed or not, then passed, failed or neither.
                        outcome: [0, 1, 3, 5][next(4) as usize],
                        scaled: None,
                    })
                }
                14 | 15 => Change::Withdraw {
                    seq: 1 + next(seq.max(1) as u64) as i64,
                },
                16 | 17 => {
                    let identity = next(8) as usize;
                    let to = format!("p{}", next(8));
                    let from = std::mem::replace(&mut person_of[identity], to.clone());
                    Change::Move {
                        identity: format!("i{identity}"),
                        from,
                        to,
                    }
                }
                18 => Change::Erase {
                    seqs: (0..3).map(|_| 1 + next(seq.max(1) as u64) as i64).collect(),
                },
                _ => Change::ErasePeople {
                    people: vec![format!("p{}", next(8))],
                },
            };
            conn.execute(
                "INSERT INTO lrs.evidence_journal (id, tenant, change) VALUES (?1, 1, ?2)",
                params![id, serde_json::to_string(&change).unwrap()],
            )
            .unwrap();
        }
    }

    /// The aggregates kept batch by batch, whatever a batch mixes (rows added and
    /// withdrawn in it, identities moved after their rows were added, people erased), are
    /// the ones built afresh from the rows they end with.
    #[test]
    fn aggregates_kept_across_mixed_batches_match_a_rebuild() {
        aggregates_kept_match_a_rebuild(Mix::All, &[1, 7, 60, 400]);
    }

    /// The same for batches of additions alone, which are applied pair by pair without
    /// reading a pair back (`add_only`).
    #[test]
    fn aggregates_kept_across_batches_of_additions_match_a_rebuild() {
        aggregates_kept_match_a_rebuild(Mix::AdditionsOnly, &[1, 13, 250, 2_000]);
    }

    fn aggregates_kept_match_a_rebuild(mix: Mix, sizes: &[i64]) {
        let mut conn = evidence_file();
        let scale = crate::store::sqlite::evidence::ensure_paths(&mut conn, None).unwrap();
        random_journal(&conn, 3_000, mix);
        let mut applied = 0;
        let mut sizes = sizes.iter().cycle();
        while applied < 3_000 {
            applied = apply_batch(&mut conn, applied, *sizes.next().unwrap(), &scale).unwrap();
        }
        let kept = aggregates(&conn);
        assert!(
            kept.iter().any(|r| r.starts_with("item_reach ")),
            "{kept:?}"
        );
        assert!(
            kept.iter().any(|r| r.starts_with("item_closers ")),
            "{kept:?}"
        );
        conn.execute("DELETE FROM level_scale", []).unwrap();
        crate::store::sqlite::evidence::ensure_paths(&mut conn, Some(scale)).unwrap();
        assert_eq!(kept, aggregates(&conn));

        // The counts per activity, tallied batch by batch, are those of the rows left.
        let counted = rows_of(
            &conn,
            "SELECT item, activity, statements, completions, successes, failures
             FROM activity_stats ORDER BY 1, 2",
        );
        let recounted = rows_of(
            &conn,
            "SELECT e.item, a.name, count(*), sum(e.outcome & 1), sum((e.outcome & 2) != 0),
                 sum((e.outcome & 6) = 4)
             FROM evidence e JOIN activity_names a ON a.id = e.activity
             WHERE e.activity != 0 GROUP BY 1, 2 ORDER BY 1, 2",
        );
        assert!(counted.len() > 3, "{counted:?}");
        assert_eq!(counted, recounted);
        // An activity's learners are the people with a row of it, whoever's rows moved.
        assert_eq!(
            rows_of(
                &conn,
                "SELECT item, activity, learners FROM activity_stats ORDER BY 1, 2"
            ),
            rows_of(
                &conn,
                "SELECT e.item, a.name, count(DISTINCT e.person)
                 FROM evidence e JOIN activity_names a ON a.id = e.activity
                 WHERE e.activity != 0 GROUP BY 1, 2 ORDER BY 1, 2"
            )
        );

        // Each pair's sum and span of time are those of its rows (the sum to rounding).
        let kept = rows_of(
            &conn,
            "SELECT person, item, evidence, first_ms, last_ms, normalized
             FROM person_items ORDER BY 1, 2",
        );
        let summed = rows_of(
            &conn,
            "SELECT person, item, count(*), min(at_ms), max(at_ms), total(normalized)
             FROM evidence GROUP BY 1, 2 ORDER BY 1, 2",
        );
        assert_eq!(kept.len(), summed.len());
        for (k, s) in kept.iter().zip(&summed) {
            assert_eq!(k[..5], s[..5]);
            let (Value::Real(a), Value::Real(b)) = (&k[5], &s[5]) else {
                panic!("sums that are not numbers: {k:?} {s:?}")
            };
            assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{k:?} {s:?}");
        }
        // The ranking holds every sum exactly as person_items does, and nothing else.
        assert_eq!(
            rows_of(
                &conn,
                "SELECT tenant, person, item, normalized, evidence, first_ms, last_ms
                 FROM person_ranks ORDER BY 1, 2, 3"
            ),
            rows_of(
                &conn,
                "SELECT tenant, person, item, normalized, evidence, first_ms, last_ms
                 FROM person_items ORDER BY 1, 2, 3"
            )
        );
    }

    /// A write that adds evidence waits while the evidence thread is more than
    /// `MAX_BEHIND` entries behind, goes on once it has caught up half of that, and does
    /// not wait at all when the thread is close behind.
    #[tokio::test]
    async fn writes_that_add_evidence_wait_while_the_thread_is_far_behind() {
        let sync = EvidenceSync::new(MAX_BEHIND + 10, 0);
        let waiting = tokio::spawn({
            let sync = sync.clone();
            async move { sync.room().await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiting.is_finished(), "went ahead of a far-behind thread");
        sync.applied.send_replace(MAX_BEHIND / 2);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !waiting.is_finished(),
            "went on before half the gap was applied"
        );
        sync.applied.send_replace(MAX_BEHIND / 2 + 10);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .unwrap()
            .unwrap();
        tokio::time::timeout(Duration::from_millis(100), sync.room())
            .await
            .unwrap();
    }
}
