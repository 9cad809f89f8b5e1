//! Which keys each sealed index bucket holds, kept in memory as binary fuse filters, so a
//! lookup passes over the buckets that cannot hold its key instead of reading an index
//! page in each. At a million statements a person's statements lie in about 10 of 123
//! buckets.
//!
//! - A filter is built off the request path, by a thread of its own with its own read
//!   connection, for a (tenant, kind, bucket) a lookup asked about; until it is there the
//!   lookup reads that bucket.
//! - Only a sealed bucket, older than the newest, gets one: new statements land in the
//!   newest bucket or a later one.
//! - A filter holds for the `index_rewrites` count it was built at (`keys::rewritten`):
//!   whatever adds index rows to a stored statement or deletes statements raises it in
//!   the same transaction. A lookup that reads another count in its snapshot reads every
//!   bucket and asks for the filters again.
//! - A filter never says no for a key its bucket holds; for about 0.4 % of the keys it
//!   does not hold it says maybe, and the bucket is read for nothing.
//! - The filters share a memory budget; past it the least recently used go.

use std::collections::{BTreeSet, HashMap};
use std::ops::RangeInclusive;
use std::sync::{Arc, Condvar, Mutex};

use rusqlite::{params, Connection};
use xorf::{BinaryFuse8, Filter};

use super::keys::{bucket_of, index_rewrites};
use crate::store::TenantId;

/// A bucket's keys of one kind in one tenant: (tenant, kind code, bucket).
pub(super) type Slot = (TenantId, i64, i64);

/// The filters, the slots lookups asked for, and the thread that builds them.
pub(super) struct BucketFilters {
    state: Mutex<State>,
    wake: Condvar,
    /// The most bytes the filters may take.
    budget: usize,
}

#[derive(Default)]
struct State {
    built: HashMap<Slot, Built>,
    /// Asked for and not built yet; the newest buckets are built first.
    wanted: BTreeSet<(i64, TenantId, i64)>,
    bytes: usize,
    /// Counts lookups, to tell which filter was used least recently.
    clock: u64,
    stopped: bool,
}

struct Built {
    /// The `index_rewrites` count the filter was built at.
    rewrites: i64,
    /// None: the bucket holds no key of the kind.
    keys: Option<BinaryFuse8>,
    used: u64,
}

impl Built {
    fn bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.keys.as_ref().map_or(0, |f| f.fingerprints.len())
    }
}

impl BucketFilters {
    /// Filters of at most `budget` bytes in all; none are built until `start`.
    pub fn new(budget: usize) -> Arc<Self> {
        Arc::new(BucketFilters {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            budget,
        })
    }

    /// Builds the filters lookups ask for on a thread of its own, reading through `conn`.
    pub fn start(self: &Arc<Self>, conn: Connection) -> std::io::Result<()> {
        let filters = self.clone();
        std::thread::Builder::new()
            .name("sqlite-filters".into())
            .spawn(move || {
                while let Some(slot) = filters.next_wanted() {
                    if let Err(e) = filters.build_and_keep(&conn, slot) {
                        tracing::warn!(error = %e, "building a bucket filter failed");
                    }
                }
            })?;
        Ok(())
    }

    /// Stops the thread once it has finished the filter it is building.
    pub fn stop(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.stopped = true;
            self.wake.notify_all();
        }
    }

    /// Whether each of `buckets` may hold the key of hash `hash` under any of `kinds`, for
    /// a lookup that read `rewrites` as the file's `index_rewrites` count: yes unless a
    /// filter built at that count says no for every kind. Asks for each filter there is
    /// none of for that count (when the budget allows any).
    ///
    /// One call answers for many buckets under one lock: the filters are read back to
    /// back, so their cache misses overlap instead of each waiting on its own between the
    /// page reads of the lookup, which push the filters out of the processor's caches.
    pub fn may_hold_each(
        &self,
        tenant: TenantId,
        kinds: &[i64],
        buckets: RangeInclusive<i64>,
        rewrites: i64,
        hash: i64,
    ) -> Vec<bool> {
        let all = || buckets.clone().map(|_| true).collect();
        if self.budget == 0 {
            return all();
        }
        let Ok(mut state) = self.state.lock() else {
            return all();
        };
        let mut asked = false;
        let answers = buckets
            .clone()
            .map(|bucket| {
                // Every kind's filter is asked, so each missing one gets built.
                kinds.iter().fold(false, |may, &kind| {
                    may | state.may_hold((tenant, kind, bucket), rewrites, hash, &mut asked)
                })
            })
            .collect();
        if asked {
            self.wake.notify_one();
        }
        answers
    }

    /// The next slot to build; None once stopped.
    fn next_wanted(&self) -> Option<Slot> {
        let mut state = self.state.lock().ok()?;
        loop {
            if state.stopped {
                return None;
            }
            if let Some(slot) = take_wanted(&mut state) {
                return Some(slot);
            }
            state = self.wake.wait(state).ok()?;
        }
    }

    /// Builds the filter of `slot` and keeps it (a bucket not sealed gets none).
    fn build_and_keep(&self, conn: &Connection, slot: Slot) -> rusqlite::Result<()> {
        if let Some(built) = build(conn, slot)? {
            self.keep(slot, built);
        }
        Ok(())
    }

    /// Keeps a new filter, dropping the least recently used ones past the budget.
    fn keep(&self, slot: Slot, mut built: Built) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        built.used = state.clock;
        state.bytes += built.bytes();
        if let Some(old) = state.built.insert(slot, built) {
            state.bytes -= old.bytes();
        }
        while state.bytes > self.budget {
            let Some((&oldest, _)) = state.built.iter().min_by_key(|(_, b)| b.used) else {
                break;
            };
            if let Some(gone) = state.built.remove(&oldest) {
                state.bytes -= gone.bytes();
            }
        }
    }

    /// The filters' bytes in all, and how many there are.
    #[cfg(test)]
    fn size(&self) -> (usize, usize) {
        let state = self.state.lock().unwrap();
        (state.bytes, state.built.len())
    }

    /// How many filters there are.
    #[cfg(test)]
    pub fn count(&self) -> usize {
        self.size().1
    }

    /// Builds every filter asked for, on `conn`, before returning.
    #[cfg(test)]
    pub fn build_wanted(&self, conn: &Connection) {
        loop {
            // The lock is released before `keep` takes it again.
            let Some(slot) = take_wanted(&mut self.state.lock().unwrap()) else {
                return;
            };
            self.build_and_keep(conn, slot).unwrap();
        }
    }
}

/// Buckets one lookup asks the filters about at once.
const BATCH: i64 = 16;

/// What the filters say of one key, asked as a lookup's scan reaches each sealed bucket:
/// `BATCH` buckets at a time, in the order the scan reads them, so a lookup that ends in
/// the newest buckets asks nothing of the older ones.
pub(super) struct KeyAnswers<'a> {
    filters: &'a BucketFilters,
    tenant: TenantId,
    kinds: Vec<i64>,
    rewrites: i64,
    hash: i64,
    /// The answers for buckets `first..first + answers.len()`.
    first: i64,
    answers: Vec<bool>,
}

impl<'a> KeyAnswers<'a> {
    /// The key of hash `hash` under any of `kinds`, for a lookup that read `rewrites` as the
    /// file's `index_rewrites` count.
    pub fn new(
        filters: &'a BucketFilters,
        tenant: TenantId,
        kinds: Vec<i64>,
        rewrites: i64,
        hash: i64,
    ) -> Self {
        KeyAnswers {
            filters,
            tenant,
            kinds,
            rewrites,
            hash,
            first: 0,
            answers: Vec::new(),
        }
    }

    /// Whether sealed `bucket` may hold the key, for a scan that reads the buckets from it
    /// to `last` (down or up) next.
    pub fn may_hold(&mut self, bucket: i64, last: i64) -> bool {
        let known = usize::try_from(bucket - self.first)
            .ok()
            .and_then(|i| self.answers.get(i));
        if let Some(&answer) = known {
            return answer;
        }
        let buckets = if last < bucket {
            (bucket - BATCH + 1).max(last)..=bucket
        } else {
            bucket..=(bucket + BATCH - 1).min(last)
        };
        self.first = *buckets.start();
        self.answers =
            self.filters
                .may_hold_each(self.tenant, &self.kinds, buckets, self.rewrites, self.hash);
        self.answers[(bucket - self.first) as usize]
    }
}

impl State {
    /// Whether the bucket of `slot` may hold the key of hash `hash` at `rewrites`; a slot
    /// with no filter at that count is asked for, and `asked` set when it is new.
    fn may_hold(&mut self, slot: Slot, rewrites: i64, hash: i64, asked: &mut bool) -> bool {
        self.clock += 1;
        let now = self.clock;
        match self.built.get_mut(&slot) {
            Some(built) if built.rewrites == rewrites => {
                built.used = now;
                built
                    .keys
                    .as_ref()
                    .is_some_and(|f| f.contains(&(hash as u64)))
            }
            _ => {
                let (tenant, kind, bucket) = slot;
                *asked |= self.wanted.insert((bucket, tenant, kind));
                true
            }
        }
    }
}

/// The newest bucket's slot of those asked for, taken off the list.
fn take_wanted(state: &mut State) -> Option<Slot> {
    let (bucket, tenant, kind) = state.wanted.pop_last()?;
    Some((tenant, kind, bucket))
}

/// The filter of `slot` in one snapshot of the file; None when its bucket is not sealed.
fn build(conn: &Connection, (tenant, kind, bucket): Slot) -> rusqlite::Result<Option<Built>> {
    conn.execute_batch("BEGIN")?;
    let built = (|| {
        let rewrites = index_rewrites(conn)?;
        let newest: i64 =
            conn.query_row("SELECT coalesce(max(seq), 0) FROM statements", [], |r| {
                r.get(0)
            })?;
        if bucket >= bucket_of(newest) {
            return Ok(None);
        }
        // In key order, so equal hashes are neighbours (a filter takes each key once).
        let mut hashes: Vec<u64> = conn
            .prepare_cached(
                "SELECT key_hash FROM statement_keys WHERE tenant = ?1 AND kind = ?2 AND bucket = ?3",
            )?
            .query_map(params![tenant, kind, bucket], |r| {
                r.get::<_, i64>(0).map(|h| h as u64)
            })?
            .collect::<Result<_, _>>()?;
        hashes.dedup();
        let keys = if hashes.is_empty() {
            None
        } else {
            let filter = BinaryFuse8::try_from(&hashes).map_err(|e| {
                rusqlite::Error::ToSqlConversionFailure(format!("bucket filter: {e}").into())
            })?;
            Some(filter)
        };
        Ok(Some(Built {
            rewrites,
            keys,
            used: 0,
        }))
    })();
    conn.execute_batch("ROLLBACK")?;
    built
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::keys::{
        key_hash, put_test_statement, rewritten, test_connection, BUCKET_BITS,
    };
    use crate::xapi::{IndexKey, IndexKind};

    fn agent(n: usize) -> IndexKey {
        IndexKey {
            kind: IndexKind::Agent,
            key: format!("mbox:mailto:learner{n}@example.com"),
        }
    }

    /// What the filters say of one bucket.
    fn may_hold(
        filters: &BucketFilters,
        (tenant, kind, bucket): Slot,
        rewrites: i64,
        hash: i64,
    ) -> bool {
        filters.may_hold_each(tenant, &[kind], bucket..=bucket, rewrites, hash)[0]
    }

    /// A store whose first bucket is sealed: agents 0..100 in bucket 0, agent 0 in bucket 1.
    fn sealed_store() -> Connection {
        let conn = test_connection();
        for n in 0..100 {
            put_test_statement(&conn, n as i64 + 1, "{}", &[agent(n)]);
        }
        put_test_statement(&conn, 1 << BUCKET_BITS, "{}", &[agent(0)]);
        conn
    }

    #[test]
    fn a_sealed_buckets_filter_holds_every_key_it_has_and_few_others() {
        let conn = sealed_store();
        let built = build(&conn, (1, IndexKind::Agent.code(), 0))
            .unwrap()
            .expect("bucket 0 is sealed");
        let keys = built.keys.unwrap();
        for n in 0..100 {
            assert!(
                keys.contains(&(key_hash(&agent(n).key) as u64)),
                "agent {n}"
            );
        }
        let strangers = (100..10_100)
            .filter(|&n| keys.contains(&(key_hash(&agent(n).key) as u64)))
            .count();
        assert!(strangers < 200, "{strangers} of 10 000 strangers passed");
        // The newest bucket gets none; a kind with no rows gets an empty one.
        assert!(build(&conn, (1, IndexKind::Agent.code(), 1))
            .unwrap()
            .is_none());
        let verbs = build(&conn, (1, IndexKind::Verb.code(), 0))
            .unwrap()
            .unwrap();
        assert!(verbs.keys.is_none());
    }

    #[test]
    fn a_filter_answers_only_at_the_rewrite_count_it_was_built_at() {
        let conn = sealed_store();
        let filters = BucketFilters::new(1 << 20);
        let slot = (1, IndexKind::Agent.code(), 0);
        let stranger = key_hash(&agent(5000).key);
        // No filter yet: the bucket may hold anything, and the slot is asked for.
        assert!(may_hold(&filters, slot, 0, stranger));
        assert_eq!(filters.next_wanted(), Some(slot));
        filters.keep(slot, build(&conn, slot).unwrap().unwrap());
        assert!(!may_hold(&filters, slot, 0, stranger));
        assert!(may_hold(&filters, slot, 0, key_hash(&agent(7).key)));
        // A rewrite (an erasure, say) raises the count: the filter no longer answers.
        rewritten(&conn).unwrap();
        let count = index_rewrites(&conn).unwrap();
        assert_eq!(count, 1);
        assert!(may_hold(&filters, slot, count, stranger));
        assert_eq!(filters.next_wanted(), Some(slot));
    }

    #[test]
    fn the_least_recently_used_filters_go_past_the_budget() {
        let conn = sealed_store();
        let one = build(&conn, (1, IndexKind::Agent.code(), 0))
            .unwrap()
            .unwrap();
        let filters = BucketFilters::new(one.bytes() * 2);
        // With no budget, lookups ask for nothing.
        let none = BucketFilters::new(0);
        assert!(may_hold(&none, (1, IndexKind::Agent.code(), 0), 0, 0));
        assert_eq!(none.state.lock().unwrap().wanted.len(), 0);
        for tenant in 1..=3 {
            let built = build(&conn, (1, IndexKind::Agent.code(), 0))
                .unwrap()
                .unwrap();
            filters.keep((tenant, IndexKind::Agent.code(), 0), built);
            // Tenant 1's filter stays in use.
            may_hold(&filters, (1, IndexKind::Agent.code(), 0), 0, 0);
        }
        let (bytes, count) = filters.size();
        assert_eq!(count, 2);
        assert!(bytes <= one.bytes() * 2);
        let stranger = key_hash(&agent(5000).key);
        assert!(!may_hold(
            &filters,
            (1, IndexKind::Agent.code(), 0),
            0,
            stranger
        ));
        assert!(may_hold(
            &filters,
            (2, IndexKind::Agent.code(), 0),
            0,
            stranger
        ));
        assert!(!may_hold(
            &filters,
            (3, IndexKind::Agent.code(), 0),
            0,
            stranger
        ));
    }

    /// A lookup asks about the buckets as its scan reaches them, `BATCH` at a time in the
    /// scan's direction and no further than the scan goes, and each answer is the filter's.
    #[test]
    fn a_lookup_asks_about_buckets_a_batch_at_a_time_in_scan_order() {
        let wanted = |filters: &BucketFilters| -> Vec<i64> {
            let state = filters.state.lock().unwrap();
            state.wanted.iter().map(|&(bucket, _, _)| bucket).collect()
        };
        let agent_kind = IndexKind::Agent.code();
        let stranger = key_hash(&agent(5000).key);

        // Newest first, from bucket 40 down to bucket 3.
        let filters = BucketFilters::new(1 << 20);
        let mut down = KeyAnswers::new(&filters, 1, vec![agent_kind], 0, stranger);
        assert!(down.may_hold(40, 3));
        assert_eq!(wanted(&filters), (25..=40).collect::<Vec<_>>());
        assert!(down.may_hold(30, 3));
        assert_eq!(wanted(&filters).len(), BATCH as usize);
        assert!(down.may_hold(24, 3));
        assert!(down.may_hold(10, 3));
        assert_eq!(wanted(&filters), (9..=40).collect::<Vec<_>>());
        assert!(down.may_hold(8, 3));
        assert_eq!(wanted(&filters), (3..=40).collect::<Vec<_>>());

        // Oldest first, up to bucket 2.
        let filters = BucketFilters::new(1 << 20);
        let mut up = KeyAnswers::new(&filters, 1, vec![agent_kind], 0, stranger);
        assert!(up.may_hold(0, 2));
        assert_eq!(wanted(&filters), vec![0, 1, 2]);

        // Once built, the filter answers: bucket 0 does not hold the stranger.
        let conn = sealed_store();
        let slot = (1, agent_kind, 0);
        filters.keep(slot, build(&conn, slot).unwrap().unwrap());
        let mut up = KeyAnswers::new(&filters, 1, vec![agent_kind], 0, stranger);
        assert!(!up.may_hold(0, 0));
        let mut up = KeyAnswers::new(&filters, 1, vec![agent_kind], 0, key_hash(&agent(7).key));
        assert!(up.may_hold(0, 0));
    }
}
