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
//! the open people are many for the rows read ([`Pool::worth_fetching`]).

use std::collections::HashMap;

use super::opportunities::Need;
use super::{EvidenceResult, EvidenceWeights};
use crate::store::evidence::PersonItem;

/// The deepest any need's ranking is read.
const MAX_DEPTH: u64 = 1 << 20;

/// People resolved by one round of point reads, best chance first.
const FETCH_BATCH: usize = 64;

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
    pub fn of<'a>(
        w: &EvidenceWeights,
        needs: &[Need],
        person: &str,
        sums: impl Iterator<Item = Option<&'a PersonItem>>,
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
    async fn ranked(&self, n: usize, offset: u64, limit: u64) -> EvidenceResult<Vec<PersonItem>>;
    /// The sums of these people for need `n` (none for those without evidence).
    async fn sums(&self, n: usize, people: &[String]) -> EvidenceResult<Vec<PersonItem>>;
}

/// What is known of a person's sum for one need.
#[derive(Debug, Clone)]
enum Known {
    /// Not read yet: at most the need's floor.
    Unread,
    /// Read: they have no evidence for it.
    Absent,
    /// Their sum, and the progress it gives towards the need's target.
    Sum(PersonItem, f64),
}

/// Everyone the search has named, and how far each ranking has been read.
pub(super) struct Pool<'a> {
    w: &'a EvidenceWeights,
    needs: &'a [Need],
    now_millis: i64,
    people: HashMap<String, Vec<Known>>,
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
            people: HashMap::new(),
            read: vec![0; needs.len()],
            exhausted: vec![false; needs.len()],
            floor: vec![0.0; needs.len()],
        }
    }

    /// Reads until the first `wanted` are settled. Each round reads every ranking deeper
    /// (twice as deep as the last), then resolves the people who could still reach the
    /// page by point reads of their unread needs, best chance first, once they are few
    /// enough for that to beat reading deeper.
    pub async fn search(&mut self, wanted: u64, source: &impl Sums) -> EvidenceResult<()> {
        let mut depth = (2 * wanted).clamp(64, MAX_DEPTH);
        loop {
            for n in 0..self.needs.len() {
                let read = self.read[n];
                if self.exhausted[n] || read >= depth {
                    continue;
                }
                let rows = source.ranked(n, read, depth - read).await?;
                self.add_ranked(n, rows, depth - read);
            }
            let last_round = depth >= MAX_DEPTH;
            loop {
                let open = self.open(wanted);
                if open.is_empty() || !(last_round || worth_fetching(open.len(), depth)) {
                    break;
                }
                let batch = &open[..open.len().min(FETCH_BATCH)];
                for n in 0..self.needs.len() {
                    let people: Vec<String> = batch
                        .iter()
                        .filter(|(_, unread)| unread.contains(&n))
                        .map(|(person, _)| person.clone())
                        .collect();
                    if !people.is_empty() {
                        let rows = source.sums(n, &people).await?;
                        self.add_fetched(n, &people, rows);
                    }
                }
            }
            if last_round || self.settled(wanted) {
                return Ok(());
            }
            depth = (depth * 2).min(MAX_DEPTH);
        }
    }

    /// Takes the next stretch of need `n`'s ranking: `rows`, of `asked` asked for (fewer
    /// means the ranking ended).
    fn add_ranked(&mut self, n: usize, rows: Vec<PersonItem>, asked: u64) {
        self.read[n] += rows.len() as u64;
        self.exhausted[n] = (rows.len() as u64) < asked;
        self.floor[n] = match rows.last() {
            Some(s) if !self.exhausted[n] => self.progress(n, s),
            _ => 0.0,
        };
        let needs = self.needs.len();
        for row in rows {
            // A sum of nothing ranks nobody; it still tells what the person has.
            if row.normalized <= 0.0 && !self.people.contains_key(&row.person) {
                continue;
            }
            let progress = self.progress(n, &row);
            let known = self
                .people
                .entry(row.person.clone())
                .or_insert_with(|| vec![Known::Unread; needs]);
            known[n] = Known::Sum(row, progress);
        }
    }

    /// Takes what a point read of need `n` found for `people`: those without a row have
    /// no evidence for it.
    fn add_fetched(&mut self, n: usize, people: &[String], rows: Vec<PersonItem>) {
        for person in people {
            if let Some(known) = self.people.get_mut(person) {
                known[n] = Known::Absent;
            }
        }
        for row in rows {
            let progress = self.progress(n, &row);
            if let Some(known) = self.people.get_mut(&row.person) {
                known[n] = Known::Sum(row, progress);
            }
        }
    }

    fn progress(&self, n: usize, sum: &PersonItem) -> f64 {
        let score = self.w.score_at(sum.normalized, self.now_millis);
        progress(self.w, score, self.needs[n].level)
    }

    fn mean(&self, total: f64) -> f64 {
        total / self.needs.len().max(1) as f64
    }

    fn is_unread(&self, known: &[Known], n: usize) -> bool {
        matches!(known[n], Known::Unread) && !self.exhausted[n]
    }

    /// A person's fit counting only what is known.
    fn lower(&self, known: &[Known]) -> f64 {
        let total = known
            .iter()
            .map(|k| match k {
                Known::Sum(_, progress) => *progress,
                _ => 0.0,
            })
            .sum();
        self.mean(total)
    }

    /// The most a person's fit can be: each unread need at its ranking's floor.
    fn upper(&self, known: &[Known]) -> f64 {
        let total = known
            .iter()
            .enumerate()
            .map(|(n, k)| match k {
                Known::Sum(_, progress) => *progress,
                Known::Unread if !self.exhausted[n] => self.floor[n],
                _ => 0.0,
            })
            .sum();
        self.mean(total)
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
        let mut lows: Vec<f64> = self.people.values().map(|k| self.lower(k)).collect();
        let at = wanted as usize - 1;
        if at >= lows.len() {
            return f64::NEG_INFINITY;
        }
        *lows.select_nth_unstable_by(at, |a, b| b.total_cmp(a)).1
    }

    /// The people who could still reach the first `wanted` but have unread needs, best
    /// chance first, each with the needs to read.
    fn open(&self, wanted: u64) -> Vec<(String, Vec<usize>)> {
        let floor = self.page_floor(wanted);
        let mut open: Vec<(f64, &String, &Vec<Known>)> = self
            .people
            .iter()
            .filter(|(_, k)| (0..self.needs.len()).any(|n| self.is_unread(k, n)))
            .map(|(p, k)| (self.upper(k), p, k))
            .filter(|(upper, _, _)| *upper >= floor)
            .collect();
        open.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        open.into_iter()
            .map(|(_, p, k)| {
                let unread = (0..self.needs.len())
                    .filter(|n| self.is_unread(k, *n))
                    .collect();
                (p.clone(), unread)
            })
            .collect()
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
        self.people.len() as u64 > wanted || (!self.exhausted() && self.unnamed_bound() > 0.0)
    }

    /// Everyone named with a positive fit, best first (exact for all who can reach the
    /// settled page; the others by what is known of them).
    pub fn ranked(&self) -> Vec<Standing> {
        let mut ranked: Vec<Standing> = self
            .people
            .iter()
            .map(|(person, known)| {
                let sums = known.iter().map(|k| match k {
                    Known::Sum(s, _) => Some(s),
                    _ => None,
                });
                Standing::of(self.w, self.needs, person, sums, self.now_millis)
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

    fn sum(w: &EvidenceWeights, person: &str, item: &str, score: f64, now: i64) -> PersonItem {
        PersonItem {
            person: person.to_owned(),
            item: item.to_owned(),
            // The normalized sum whose score at `now` is `score`.
            normalized: score / w.score_at(1.0, now),
            evidence: 1,
            first_millis: now,
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
                sum(&w, "ann", "a", target, now),
                sum(&w, "bob", "a", target / 2.0, now),
            ],
            2,
        );
        // Ranking b: cy at a quarter; the ranking goes on.
        pool.add_ranked(1, vec![sum(&w, "cy", "b", target / 4.0, now)], 1);
        // ann: 1 on a, at most 0.25 on b.
        let open = pool.open(1);
        assert_eq!(open[0], ("ann".to_owned(), vec![1]));
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
        pool.add_ranked(0, vec![sum(&w, "ann", "a", 1.0, now)], 5);
        assert!(pool.open(1).iter().all(|(_, unread)| unread == &vec![1]));
        pool.add_ranked(1, vec![sum(&w, "bob", "b", 2.0, now)], 5);
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
        rankings: Vec<Vec<PersonItem>>,
        rows_read: std::cell::Cell<usize>,
        point_reads: std::cell::Cell<usize>,
    }

    impl Sums for Memory {
        async fn ranked(
            &self,
            n: usize,
            offset: u64,
            limit: u64,
        ) -> EvidenceResult<Vec<PersonItem>> {
            let rows: Vec<PersonItem> = self.rankings[n]
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .cloned()
                .collect();
            self.rows_read.set(self.rows_read.get() + rows.len());
            Ok(rows)
        }

        async fn sums(&self, n: usize, people: &[String]) -> EvidenceResult<Vec<PersonItem>> {
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
                for (n, need) in needs.iter().enumerate() {
                    if rng.gen_bool(0.6) {
                        let score = rng.gen_range(0.0f64..1.0).powi(4) * top;
                        rankings[n].push(sum(&w, &format!("p{p}"), &need.item, score, now));
                    }
                }
            }
            for ranking in &mut rankings {
                ranking.sort_by(|a, b| b.normalized.total_cmp(&a.normalized));
            }
            let mut everyone: HashMap<String, Vec<Option<&PersonItem>>> = HashMap::new();
            for (n, ranking) in rankings.iter().enumerate() {
                for s in ranking {
                    everyone
                        .entry(s.person.clone())
                        .or_insert_with(|| vec![None; needs.len()])[n] = Some(s);
                }
            }
            let mut expected: Vec<Standing> = everyone
                .iter()
                .map(|(p, sums)| Standing::of(&w, &needs, p, sums.iter().copied(), now))
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
