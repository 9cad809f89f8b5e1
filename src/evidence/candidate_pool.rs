//! What a search for an opportunity's candidates knows so far, and the bounds it stops on.
//!
//! The search reads each need's ranking (people by their sum for the item, best first) a
//! stretch at a time. A person named in some rankings but not yet in others is *open*: on
//! a need whose ranking has not reached them their sum is at most that ranking's last score
//! read (its floor), and at least nothing. Their fit thus lies between a lower bound (what
//! is known) and an upper bound (what is known, the floors elsewhere); once every need of
//! theirs is known the two meet. Someone named in no ranking has at most every floor.
//!
//! The page is settled when nobody open can still reach it and its last fit is at least
//! what an unnamed person could have. Resolving an open person costs a point read per
//! missing need, while a ranking's next stretch costs a sequential read that lowers its
//! floor and so every open person's upper bound at once: the search reads deeper while
//! the open people are many for the rows read ([`worth_fetching`]).

use std::collections::HashMap;

use futures_util::future::try_join_all;

use super::opportunities::Need;
use super::{EvidenceResult, EvidenceWeights};
use crate::store::evidence::{PersonItem, RankedSum};

/// The deepest any need's ranking is read.
const MAX_DEPTH: u64 = 1 << 20;

/// People resolved by the first point reads of a round, best chance first.
const FIRST_FETCH: usize = 32;

/// Fetch the open people's missing sums only once they are at most one per this many rows
/// read from each ranking: a point read costs several sequential ones, and reading deeper
/// closes many open people at a time.
const ROWS_PER_FETCH: usize = 8;

/// How far a score goes towards a need's target: 1 when the level is reached.
pub(super) fn progress(w: &EvidenceWeights, score: f64, level: u8) -> f64 {
    let target = w.level_start(level);
    if w.level(score) >= level {
        1.0
    } else if target <= 0.0 {
        0.0
    } else {
        (score / target).clamp(0.0, 1.0)
    }
}

/// Whether resolving `open` people by point reads beats reading every ranking deeper, with
/// `depth` rows read of each.
fn worth_fetching(open: usize, depth: u64) -> bool {
    (open.saturating_mul(ROWS_PER_FETCH) as u64) <= depth
}

/// A person's standing against the needs, for ranking.
#[derive(Debug, Clone)]
pub(super) struct Standing {
    pub person: String,
    /// The mean of each need's progress.
    pub fit: f64,
    /// Needs whose level is reached.
    pub met: usize,
    /// Their newest evidence for any need.
    pub last_millis: i64,
}

impl Standing {
    /// From the person's sum for each need (None: no evidence for it).
    pub fn of(
        w: &EvidenceWeights,
        needs: &[Need],
        person: &str,
        sums: impl Iterator<Item = Option<Sum>>,
        now_millis: i64,
    ) -> Standing {
        let (mut total, mut met, mut last) = (0.0, 0, i64::MIN);
        for (need, sum) in needs.iter().zip(sums) {
            if let Some(s) = sum {
                let score = w.score_at(s.normalized, now_millis);
                total += progress(w, score, need.level);
                met += usize::from(w.level(score) >= need.level);
                last = last.max(s.last_millis);
            }
        }
        Standing {
            person: person.to_owned(),
            fit: total / needs.len().max(1) as f64,
            met,
            last_millis: last,
        }
    }

    /// Best fit first; then more needs met, newer evidence, and the person's id.
    pub fn rank(a: &Standing, b: &Standing) -> std::cmp::Ordering {
        b.fit
            .total_cmp(&a.fit)
            .then(b.met.cmp(&a.met))
            .then(b.last_millis.cmp(&a.last_millis))
            .then_with(|| a.person.cmp(&b.person))
    }
}

/// Where a search reads its sums: each need's ranking, and point reads of people's sums.
pub(super) trait Sums {
    /// Need `n`'s ranking, `limit` rows from `offset`, best sum first.
    async fn ranked(&self, n: usize, offset: u64, limit: u64) -> EvidenceResult<Vec<RankedSum>>;
    /// The sums of these people for need `n` (none for those without evidence).
    async fn sums(&self, n: usize, people: &[String]) -> EvidenceResult<Vec<RankedSum>>;
}

/// A sum as the search keeps it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sum {
    /// The sum of the evidence's weights expressed at the epoch.
    pub normalized: f64,
    pub last_millis: i64,
}

impl From<&PersonItem> for Sum {
    fn from(s: &PersonItem) -> Self {
        Sum {
            normalized: s.normalized,
            last_millis: s.last_millis,
        }
    }
}

impl From<&RankedSum> for Sum {
    fn from(s: &RankedSum) -> Self {
        Sum {
            normalized: s.normalized,
            last_millis: s.last_millis,
        }
    }
}

/// What is known of a person's sum for one need.
#[derive(Debug, Clone, Copy)]
enum Known {
    /// Not read yet: at most the need's floor.
    Unread,
    /// Read: they have no evidence for it.
    Absent,
    /// Their sum, and the progress it gives towards the need's target.
    Sum(Sum, f64),
}

/// A person the search has named.
struct Entry {
    person: String,
    known: Vec<Known>,
    /// The progress of the needs known, summed: their fit's lower bound times the needs.
    known_total: f64,
}

/// Everyone the search has named, and how far each ranking has been read.
pub(super) struct Pool<'a> {
    w: &'a EvidenceWeights,
    needs: &'a [Need],
    now_millis: i64,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
    /// Per need: rows read, whether the ranking ended, and the progress its last row gives.
    read: Vec<u64>,
    exhausted: Vec<bool>,
    floor: Vec<f64>,
}

impl<'a> Pool<'a> {
    pub fn new(w: &'a EvidenceWeights, needs: &'a [Need], now_millis: i64) -> Self {
        Pool {
            w,
            needs,
            now_millis,
            entries: Vec::new(),
            index: HashMap::new(),
            read: vec![0; needs.len()],
            exhausted: vec![false; needs.len()],
            floor: vec![0.0; needs.len()],
        }
    }

    /// Reads until the first `wanted` are settled. Each round reads every ranking deeper
    /// (half as deep again as the last: a round more costs less than reading far past
    /// where the page settles), then resolves the people who could still reach the
    /// page by point reads of their unread needs, best chance first, once they are few
    /// enough for that to beat reading deeper.
    pub async fn search(&mut self, wanted: u64, source: &impl Sums) -> EvidenceResult<()> {
        let mut depth = (2 * wanted).clamp(64, MAX_DEPTH);
        loop {
            // The rankings are read concurrently, as are the point reads below: each is
            // one read on the store's own threads.
            let reads = (0..self.needs.len())
                .filter(|n| !self.exhausted[*n] && self.read[*n] < depth)
                .map(|n| {
                    let (offset, limit) = (self.read[n], depth - self.read[n]);
                    async move {
                        let rows = source.ranked(n, offset, limit).await?;
                        EvidenceResult::Ok((n, rows, limit))
                    }
                });
            for (n, rows, asked) in try_join_all(reads).await? {
                self.add_ranked(n, rows, asked);
            }
            let last_round = depth >= MAX_DEPTH;
            // Each batch is twice the last: the first ones raise the page's floor, which
            // closes most of the rest without a read.
            let mut batch = FIRST_FETCH;
            let nobody_open = loop {
                let open = self.open(wanted);
                if open.is_empty() || !(last_round || worth_fetching(open.len(), depth)) {
                    break open.is_empty();
                }
                let chosen = &open[..open.len().min(batch)];
                let asks: Vec<(usize, Vec<String>)> = (0..self.needs.len())
                    .map(|n| {
                        let people = chosen
                            .iter()
                            .filter(|e| self.is_unread(&self.entries[**e], n))
                            .map(|e| self.entries[*e].person.clone())
                            .collect();
                        (n, people)
                    })
                    .filter(|(_, people): &(usize, Vec<String>)| !people.is_empty())
                    .collect();
                let reads = asks.iter().map(|(n, people)| source.sums(*n, people));
                for ((n, people), rows) in asks.iter().zip(try_join_all(reads).await?) {
                    self.add_fetched(*n, people, rows);
                }
                batch *= 2;
            };
            if last_round || (nobody_open && self.settled(wanted)) {
                return Ok(());
            }
            depth = (depth + depth / 2).min(MAX_DEPTH);
        }
    }

    /// Takes the next stretch of need `n`'s ranking: `rows`, of `asked` asked for (fewer
    /// means the ranking ended).
    fn add_ranked(&mut self, n: usize, rows: Vec<RankedSum>, asked: u64) {
        self.read[n] += rows.len() as u64;
        self.exhausted[n] = (rows.len() as u64) < asked;
        self.floor[n] = match rows.last() {
            Some(s) if !self.exhausted[n] => self.progress(n, s.into()),
            _ => 0.0,
        };
        for row in rows {
            let sum = Sum::from(&row);
            let e = match self.index.get(&row.person) {
                Some(e) => *e,
                // A sum of nothing ranks nobody; it still tells what a person named has.
                None if row.normalized <= 0.0 => continue,
                None => {
                    self.entries.push(Entry {
                        person: row.person.clone(),
                        known: vec![Known::Unread; self.needs.len()],
                        known_total: 0.0,
                    });
                    self.index.insert(row.person, self.entries.len() - 1);
                    self.entries.len() - 1
                }
            };
            self.learn(e, n, Known::Sum(sum, self.progress(n, sum)));
        }
    }

    /// Takes what a point read of need `n` found for `people`: those without a row have
    /// no evidence for it.
    fn add_fetched(&mut self, n: usize, people: &[String], rows: Vec<RankedSum>) {
        for person in people {
            if let Some(e) = self.index.get(person) {
                self.learn(*e, n, Known::Absent);
            }
        }
        for row in rows {
            if let Some(e) = self.index.get(&row.person) {
                let sum = Sum::from(&row);
                self.learn(*e, n, Known::Sum(sum, self.progress(n, sum)));
            }
        }
    }

    fn learn(&mut self, e: usize, n: usize, known: Known) {
        let entry = &mut self.entries[e];
        if let Known::Sum(_, progress) = entry.known[n] {
            entry.known_total -= progress;
        }
        if let Known::Sum(_, progress) = known {
            entry.known_total += progress;
        }
        entry.known[n] = known;
    }

    fn progress(&self, n: usize, sum: Sum) -> f64 {
        let score = self.w.score_at(sum.normalized, self.now_millis);
        progress(self.w, score, self.needs[n].level)
    }

    fn mean(&self, total: f64) -> f64 {
        total / self.needs.len().max(1) as f64
    }

    fn is_unread(&self, entry: &Entry, n: usize) -> bool {
        matches!(entry.known[n], Known::Unread) && !self.exhausted[n]
    }

    /// The most a person's fit can be, each unread need at its ranking's floor; None once
    /// every need of theirs is known.
    fn upper(&self, entry: &Entry) -> Option<f64> {
        let (mut open, mut unread) = (false, 0.0);
        for n in (0..self.needs.len()).filter(|n| self.is_unread(entry, *n)) {
            open = true;
            unread += self.floor[n];
        }
        open.then(|| self.mean(entry.known_total + unread))
    }

    /// The most anyone not named yet can fit.
    fn unnamed_bound(&self) -> f64 {
        self.mean(self.floor.iter().sum())
    }

    /// The `wanted`-th best fit that is sure already (−∞ with fewer people).
    fn page_floor(&self, wanted: u64) -> f64 {
        if wanted == 0 {
            return f64::INFINITY;
        }
        let at = wanted as usize - 1;
        if at >= self.entries.len() {
            return f64::NEG_INFINITY;
        }
        let mut lows: Vec<f64> = self.entries.iter().map(|e| e.known_total).collect();
        self.mean(*lows.select_nth_unstable_by(at, |a, b| b.total_cmp(a)).1)
    }

    /// The people who could still reach the first `wanted` but have unread needs, best
    /// chance first.
    fn open(&self, wanted: u64) -> Vec<usize> {
        let floor = self.page_floor(wanted);
        let mut open: Vec<(f64, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((self.upper(e)?, i)))
            .filter(|(upper, _)| *upper >= floor)
            .collect();
        open.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        open.into_iter().map(|(_, i)| i).collect()
    }

    /// Whether every ranking has ended.
    fn exhausted(&self) -> bool {
        self.exhausted.iter().all(|e| *e)
    }

    /// Whether the first `wanted` are settled: nobody open can reach them, and the last of
    /// them fits at least as well as anyone not named could.
    fn settled(&self, wanted: u64) -> bool {
        self.exhausted()
            || (self.open(wanted).is_empty() && self.page_floor(wanted) >= self.unnamed_bound())
    }

    /// Whether people past the first `wanted` may exist.
    pub fn more_than(&self, wanted: u64) -> bool {
        self.entries.len() as u64 > wanted || (!self.exhausted() && self.unnamed_bound() > 0.0)
    }

    /// Everyone named with a positive fit, best first (exact for all who can reach the
    /// settled page; the others by what is known of them).
    pub fn ranked(&self) -> Vec<Standing> {
        let mut ranked: Vec<Standing> = self
            .entries
            .iter()
            .map(|e| {
                let sums = e.known.iter().map(|k| match k {
                    Known::Sum(s, _) => Some(*s),
                    _ => None,
                });
                Standing::of(self.w, self.needs, &e.person, sums, self.now_millis)
            })
            .filter(|s| s.fit > 0.0)
            .collect();
        ranked.sort_by(Standing::rank);
        ranked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs() -> Vec<Need> {
        ["a", "b"]
            .iter()
            .map(|i| Need {
                item: (*i).to_owned(),
                level: 3,
            })
            .collect()
    }

    fn sum(w: &EvidenceWeights, person: &str, score: f64, now: i64) -> RankedSum {
        RankedSum {
            person: person.to_owned(),
            // The normalized sum whose score at `now` is `score`.
            normalized: score / w.score_at(1.0, now),
            last_millis: now,
        }
    }

    #[test]
    fn an_open_person_is_bounded_by_the_floor_of_each_ranking_not_read_to_them() {
        let w = EvidenceWeights::default();
        let needs = needs();
        let now = 1_800_000_000_000;
        let target = w.level_start(3);
        let mut pool = Pool::new(&w, &needs, now);
        // Ranking a: ann at the target, bob at half of it; the ranking goes on.
        pool.add_ranked(
            0,
            vec![
                sum(&w, "ann", target, now),
                sum(&w, "bob", target / 2.0, now),
            ],
            2,
        );
        // Ranking b: cy at a quarter; the ranking goes on.
        pool.add_ranked(1, vec![sum(&w, "cy", target / 4.0, now)], 1);
        // ann: 1 on a, at most 0.25 on b.
        let open = pool.open(1);
        let ann = &pool.entries[open[0]];
        assert_eq!(ann.person, "ann");
        assert!(!pool.is_unread(ann, 0) && pool.is_unread(ann, 1));
        assert!(!pool.settled(1), "ann's b is unread and could lift her");
        // Nobody unnamed can pass (0.5 + 0.25) / 2.
        assert!((pool.unnamed_bound() - 0.375).abs() < 1e-9);
        // ann has nothing for b: her fit is 0.5, the best possible for anyone else is
        // bob's 0.25 + 0.125 and cy's 0.25 + 0.125 and an unnamed 0.375.
        pool.add_fetched(1, &["ann".to_owned()], Vec::new());
        assert!(pool.settled(1));
        let ranked = pool.ranked();
        assert_eq!(ranked[0].person, "ann");
        assert!((ranked[0].fit - 0.5).abs() < 1e-9);
        assert_eq!(ranked[0].met, 1);
    }

    #[test]
    fn rankings_read_to_their_end_leave_nobody_open() {
        let w = EvidenceWeights::default();
        let needs = needs();
        let now = 1_800_000_000_000;
        let mut pool = Pool::new(&w, &needs, now);
        pool.add_ranked(0, vec![sum(&w, "ann", 1.0, now)], 5);
        let open = pool.open(1);
        assert_eq!(open.len(), 1);
        assert!(pool.is_unread(&pool.entries[open[0]], 1));
        pool.add_ranked(1, vec![sum(&w, "bob", 2.0, now)], 5);
        assert!(pool.exhausted());
        assert!(pool.open(1).is_empty());
        assert!(pool.settled(1));
        assert_eq!(pool.ranked()[0].person, "bob");
        assert!(!pool.more_than(2));
    }

    #[test]
    fn point_reads_wait_until_the_open_people_are_few_for_the_rows_read() {
        assert!(!worth_fetching(100, 512));
        assert!(worth_fetching(64, 512));
        assert!(worth_fetching(0, 0));
    }

    /// Rankings and point reads over sums held in memory, counting what is read.
    struct Memory {
        rankings: Vec<Vec<RankedSum>>,
        rows_read: std::cell::Cell<usize>,
        point_reads: std::cell::Cell<usize>,
    }

    impl Sums for Memory {
        async fn ranked(
            &self,
            n: usize,
            offset: u64,
            limit: u64,
        ) -> EvidenceResult<Vec<RankedSum>> {
            let rows: Vec<RankedSum> = self.rankings[n]
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .cloned()
                .collect();
            self.rows_read.set(self.rows_read.get() + rows.len());
            Ok(rows)
        }

        async fn sums(&self, n: usize, people: &[String]) -> EvidenceResult<Vec<RankedSum>> {
            self.point_reads.set(self.point_reads.get() + people.len());
            Ok(self.rankings[n]
                .iter()
                .filter(|s| people.contains(&s.person))
                .cloned()
                .collect())
        }
    }

    #[tokio::test]
    async fn the_search_finds_the_same_first_people_as_ranking_everyone() {
        use rand::{Rng, SeedableRng};
        let w = EvidenceWeights::default();
        let now = 1_800_000_000_000;
        let needs: Vec<Need> = [("a", 2), ("b", 3), ("c", 2)]
            .iter()
            .map(|(item, level)| Need {
                item: (*item).to_owned(),
                level: *level,
            })
            .collect();
        for seed in 0..8 {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            // Most people have a little evidence for some items, a few a lot. With the
            // higher top many people reach every target and tie at a fit of 1, which only
            // reading every tied person settles; with the lower one nobody reaches level 3.
            let top = if seed % 2 == 0 { 4.0 } else { 1.5 };
            let mut rankings = vec![Vec::new(); needs.len()];
            for p in 0..20_000 {
                for ranking in rankings.iter_mut() {
                    if rng.gen_bool(0.6) {
                        let score = rng.gen_range(0.0f64..1.0).powi(4) * top;
                        ranking.push(sum(&w, &format!("p{p}"), score, now));
                    }
                }
            }
            for ranking in &mut rankings {
                ranking.sort_by(|a, b| b.normalized.total_cmp(&a.normalized));
            }
            let mut everyone: HashMap<String, Vec<Option<&RankedSum>>> = HashMap::new();
            for (n, ranking) in rankings.iter().enumerate() {
                for s in ranking {
                    everyone
                        .entry(s.person.clone())
                        .or_insert_with(|| vec![None; needs.len()])[n] = Some(s);
                }
            }
            let mut expected: Vec<Standing> = everyone
                .iter()
                .map(|(p, sums)| {
                    let sums = sums.iter().map(|s| s.map(Sum::from));
                    Standing::of(&w, &needs, p, sums, now)
                })
                .filter(|s| s.fit > 0.0)
                .collect();
            expected.sort_by(Standing::rank);
            let total: usize = rankings.iter().map(Vec::len).sum();
            let memory = Memory {
                rankings: rankings.clone(),
                rows_read: Default::default(),
                point_reads: Default::default(),
            };
            for wanted in [1, 20, 45] {
                memory.rows_read.set(0);
                memory.point_reads.set(0);
                let mut pool = Pool::new(&w, &needs, now);
                pool.search(wanted, &memory).await.unwrap();
                let found = pool.ranked();
                for (i, (f, e)) in found
                    .iter()
                    .zip(&expected)
                    .take(wanted as usize)
                    .enumerate()
                {
                    assert_eq!(f.person, e.person, "seed {seed}, wanted {wanted}, rank {i}");
                    assert!((f.fit - e.fit).abs() < 1e-12);
                }
                assert!(pool.more_than(wanted));
                let (rows, points) = (memory.rows_read.get(), memory.point_reads.get());
                assert!(
                    top > 2.0 || rows + points < total / 2,
                    "seed {seed}, wanted {wanted}: {rows} rows and {points} point reads of {total}"
                );
            }
        }
    }
}
