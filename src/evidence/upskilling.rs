//! Upskilling needs for HR: per item a role needs, how many people are below its target
//! level, the total gap in levels, how coverage moved over the last 90 and 365 days, and
//! the activities that most often closed the gap for others.
//!
//! How it stays fast on a large tenant: nothing reads profiles. Each item's figures come
//! from a walk of a person's evidence rows for it in time order: their running score gives
//! their level now, then (90 and 365 days ago), the activities they did while still below
//! the target, and whether they went on to reach it. Over everyone, the store keeps what
//! those walks add up to as evidence is applied (`OpportunityStore::level_figures`: on
//! SQLite, per-item aggregates by level that the evidence thread updates for each person
//! and item it touches), so an answer is a few index reads; a store without them (MongoDB)
//! and a team's figures walk the rows of the items at the asking, one pass for all of them,
//! and keep the result until the tenant's evidence changes (the store's evidence version)
//! or for a minute at most. The recommendations reuse the same figures.
//!
//! Without `team`, the people are everyone with evidence in the tenant (lrsgate does not
//! assign roles to people; the role says what to measure against); with it, the team's
//! members.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::service::{item_ref, Evidence, ItemRef};
use super::weights::EvidenceWeights;
use super::{EvidenceError, EvidenceResult};
use crate::competency::ItemKind;
use crate::store::opportunities::TimelineRow;
use crate::store::TenantId;

const DAY_MILLIS: i64 = 86_400_000;

/// How long computed figures are kept at most.
const KEEP: Duration = Duration::from_secs(60);
/// The most entries kept; past it the cache starts over.
const MAX_ENTRIES: usize = 4096;
/// Closers listed per item.
const CLOSERS: usize = 5;

/// What people did with one activity while below an item's target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Closer {
    pub activity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// People who did it while below the target.
    pub learners: u64,
    /// Of those, the people who then reached the target.
    pub reached: u64,
    /// reached ÷ learners.
    pub success_rate: f64,
}

/// An item's figures over the people who have evidence for it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ItemFigures {
    /// The level now of each person with evidence for the item.
    pub levels: HashMap<String, u8>,
    pub reached_90: u64,
    pub reached_365: u64,
    /// Every activity done while below the target, with its counts (`name` unset).
    pub closers: Vec<Closer>,
}

/// An item's figures against a target level, however they were found: from the store's
/// aggregates, or by walking the rows (`figures`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TargetFigures {
    /// People with evidence for the item.
    pub people: u64,
    /// People at level `l` or above now, at `l - 1`, for `l` from 1 to the target.
    pub at_least: Vec<u64>,
    pub reached_90: u64,
    pub reached_365: u64,
    /// Every activity done while below the target, with its counts (`name` unset).
    pub closers: Vec<Closer>,
}

impl ItemFigures {
    fn for_target(&self, target: u8) -> TargetFigures {
        TargetFigures {
            people: self.levels.len() as u64,
            at_least: (1..=target)
                .map(|l| self.levels.values().filter(|v| **v >= l).count() as u64)
                .collect(),
            reached_90: self.reached_90,
            reached_365: self.reached_365,
            closers: self.closers.clone(),
        }
    }
}

/// Walks the rows of one item (by person, then time) against a target level.
pub fn figures(
    rows: &[&TimelineRow],
    target: u8,
    weights: &EvidenceWeights,
    now_millis: i64,
) -> ItemFigures {
    let reaches =
        |normalized: f64, at: i64| weights.level(weights.score_at(normalized, at)) >= target;
    let (t90, t365) = (now_millis - 90 * DAY_MILLIS, now_millis - 365 * DAY_MILLIS);
    let mut out = ItemFigures::default();
    let mut counts: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut start = 0;
    while start < rows.len() {
        let person = &rows[start].person;
        let end = start
            + rows[start..]
                .iter()
                .take_while(|r| &r.person == person)
                .count();
        let (mut sum, mut sum_90, mut sum_365) = (0.0, 0.0, 0.0);
        let mut reached = false;
        let mut while_below: BTreeSet<&str> = BTreeSet::new();
        for row in &rows[start..end] {
            if !reached && !row.activity.is_empty() {
                while_below.insert(&row.activity);
            }
            sum += row.normalized;
            if row.at_millis <= t90 {
                sum_90 += row.normalized;
            }
            if row.at_millis <= t365 {
                sum_365 += row.normalized;
            }
            if !reached && reaches(sum, row.at_millis) {
                reached = true;
            }
        }
        out.levels.insert(
            person.clone(),
            weights.level(weights.score_at(sum, now_millis)),
        );
        out.reached_90 += u64::from(reaches(sum_90, t90));
        out.reached_365 += u64::from(reaches(sum_365, t365));
        for activity in while_below {
            let c = counts.entry(activity).or_default();
            c.0 += 1;
            c.1 += u64::from(reached);
        }
        start = end;
    }
    out.closers = counts
        .into_iter()
        .map(|(activity, (learners, reached))| Closer {
            activity: activity.to_owned(),
            name: None,
            learners,
            reached,
            success_rate: reached as f64 / learners.max(1) as f64,
        })
        .collect();
    out
}

/// Tenant, item, target level, team, and the day the figures are computed for.
type Key = (TenantId, String, u8, Option<String>, i64);
/// When figures were computed, on which evidence version.
type Entry = (Instant, i64, Arc<TargetFigures>);

/// Figures computed lately, by tenant, item, target level and team.
#[derive(Default)]
pub struct FigureCache {
    entries: Mutex<HashMap<Key, Entry>>,
    people: Mutex<HashMap<TenantId, (Instant, i64, u64)>>,
}

impl FigureCache {
    fn get(&self, key: &Key, version: i64) -> Option<Arc<TargetFigures>> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(at, v, _)| *v == version && at.elapsed() < KEEP)
            .map(|(_, _, f)| f.clone())
    }

    fn put(&self, key: Key, version: i64, figures: Arc<TargetFigures>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), version, figures));
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Coverage {
    /// Fraction of the people at or above the target now.
    pub now: f64,
    /// … 90 days ago (their evidence up to then, decayed to then).
    pub days_90: f64,
    /// … 365 days ago.
    pub days_365: f64,
}

#[derive(Debug, Serialize)]
pub struct UpskillingItem {
    pub item: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub target: u8,
    /// People below the target level now.
    pub below: u64,
    /// Σ (target − level) over the people below it.
    pub gap: u64,
    pub coverage: Coverage,
    /// The activities that most often closed the gap: most people who reached the target
    /// after doing it while below, then best success rate.
    pub closers: Vec<Closer>,
}

#[derive(Debug, Serialize)]
pub struct Upskilling {
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The people measured.
    pub people: u64,
    /// The moment levels are computed at.
    pub at: String,
    pub items: Vec<UpskillingItem>,
    #[serde(skip)]
    pub next_offset: Option<u64>,
}

impl Evidence {
    fn cache(&self) -> &FigureCache {
        &self.figures
    }

    /// The figures of `items` (with their target levels) over everyone, or over `people`
    /// of `team`. Over everyone they come from the aggregates the store keeps up to date
    /// as evidence is applied, when it keeps them (SQLite); otherwise from a walk of the
    /// items' rows, kept until the evidence version changes.
    pub(super) async fn item_figures(
        &self,
        tenant: TenantId,
        items: &[(String, u8)],
        team: Option<(&str, &[String])>,
        now_millis: i64,
    ) -> EvidenceResult<HashMap<String, Arc<TargetFigures>>> {
        if team.is_none() {
            let then = [now_millis - 90 * DAY_MILLIS, now_millis - 365 * DAY_MILLIS];
            let kept = self
                .store()
                .opportunities
                .level_figures(tenant, &self.weights().scale(), items, now_millis, &then)
                .await?;
            if let Some(kept) = kept {
                return Ok(items
                    .iter()
                    .zip(kept)
                    .map(|((item, _), f)| {
                        let closers = f
                            .closers
                            .into_iter()
                            .map(|(activity, learners, reached)| Closer {
                                activity,
                                name: None,
                                learners,
                                reached,
                                success_rate: reached as f64 / learners.max(1) as f64,
                            })
                            .collect();
                        let figures = TargetFigures {
                            people: f.people,
                            at_least: f.at_least,
                            reached_90: f.reached_then.first().copied().unwrap_or(0),
                            reached_365: f.reached_then.get(1).copied().unwrap_or(0),
                            closers,
                        };
                        (item.clone(), Arc::new(figures))
                    })
                    .collect());
            }
        }
        let version = self.store().opportunities.evidence_version(tenant).await?;
        let team_id = team.map(|(id, _)| id.to_owned());
        let day = now_millis.div_euclid(DAY_MILLIS);
        let mut out = HashMap::new();
        let mut missing = Vec::new();
        for (item, target) in items {
            let key = (tenant, item.clone(), *target, team_id.clone(), day);
            match self.cache().get(&key, version) {
                Some(f) => {
                    out.insert(item.clone(), f);
                }
                None => missing.push((item.clone(), *target)),
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let wanted: Vec<String> = missing.iter().map(|(i, _)| i.clone()).collect();
        let rows = self
            .store()
            .opportunities
            .timelines(tenant, &wanted, team.map(|(_, people)| people))
            .await?;
        for (item, target) in missing {
            let mine: Vec<&TimelineRow> = rows.iter().filter(|r| r.item == item).collect();
            let f = Arc::new(figures(&mine, target, self.weights(), now_millis).for_target(target));
            self.cache().put(
                (tenant, item.clone(), target, team_id.clone(), day),
                version,
                f.clone(),
            );
            out.insert(item, f);
        }
        Ok(out)
    }

    /// Only the closers of `items` (with their target levels) over everyone, in the order
    /// of `items`: (activity, learners, reached). From the kept aggregates when the store
    /// has them, else from the figures.
    pub(super) async fn item_closers(
        &self,
        tenant: TenantId,
        items: &[(String, u8)],
        now_millis: i64,
    ) -> EvidenceResult<Vec<Vec<(String, u64, u64)>>> {
        let scale = self.weights().scale();
        let kept = self
            .store()
            .opportunities
            .level_closers(tenant, &scale, items)
            .await?;
        if let Some(kept) = kept {
            return Ok(kept);
        }
        let mut figures = self.item_figures(tenant, items, None, now_millis).await?;
        Ok(items
            .iter()
            .map(|(item, _)| {
                figures.remove(item).map_or_else(Vec::new, |f| {
                    f.closers
                        .iter()
                        .map(|c| (c.activity.clone(), c.learners, c.reached))
                        .collect()
                })
            })
            .collect())
    }

    /// People with evidence in the tenant, cached like the figures.
    async fn population(&self, tenant: TenantId) -> EvidenceResult<u64> {
        let version = self.store().opportunities.evidence_version(tenant).await?;
        if let Ok(people) = self.cache().people.lock() {
            if let Some((at, v, n)) = people.get(&tenant) {
                if *v == version && at.elapsed() < KEEP {
                    return Ok(*n);
                }
            }
        }
        let n = self.store().opportunities.evidence_people(tenant).await?;
        if let Ok(mut people) = self.cache().people.lock() {
            people.insert(tenant, (Instant::now(), version, n));
        }
        Ok(n)
    }

    /// A role's upskilling needs over the tenant or a team, items `offset..offset+limit`.
    pub async fn upskilling(
        &self,
        tenant: TenantId,
        role: &str,
        team: Option<&str>,
        offset: u64,
        limit: u64,
        now_millis: i64,
    ) -> EvidenceResult<Upskilling> {
        let tagger = self.tagger(tenant).await?;
        let known = tagger
            .role(role)
            .ok_or_else(|| {
                EvidenceError::NotFound(format!("no role {role} in an active framework"))
            })?
            .clone();
        let members: Option<Vec<String>> = match team {
            Some(id) => {
                let mut people: Vec<String> =
                    self.team_people(tenant, id).await?.into_iter().collect();
                people.sort();
                Some(people)
            }
            None => None,
        };
        let people = match &members {
            Some(m) => m.len() as u64,
            None => self.population(tenant).await?,
        };
        let page: Vec<(String, u8)> = known
            .needs
            .iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|n| (n.item.clone(), n.level))
            .collect();
        let more = (offset + limit) < known.needs.len() as u64;
        let figures = self
            .item_figures(tenant, &page, team.zip(members.as_deref()), now_millis)
            .await?;
        let mut items = Vec::with_capacity(page.len());
        for (item, target) in page {
            let f = figures.get(&item).cloned().unwrap_or_default();
            let at_least = |level: u8| {
                f.at_least
                    .get(usize::from(level).saturating_sub(1))
                    .copied()
                    .unwrap_or(0)
            };
            let at_level = at_least(target);
            let below = people.saturating_sub(at_level);
            // Someone with evidence at level l < target is short by target − l: once for
            // each level above theirs up to the target.
            let with_evidence_below: u64 = (1..=target)
                .map(|l| f.people.saturating_sub(at_least(l)))
                .sum();
            let without_evidence = people.saturating_sub(f.people);
            let share = |n: u64| n as f64 / people.max(1) as f64;
            let mut closers: Vec<Closer> = f
                .closers
                .iter()
                .filter(|c| c.reached > 0)
                .cloned()
                .collect();
            sort_closers(&mut closers);
            closers.truncate(CLOSERS);
            self.name_closers(tenant, &mut closers).await?;
            items.push(UpskillingItem {
                name: item_ref(&tagger, &item).name,
                item,
                target,
                below,
                gap: with_evidence_below + without_evidence * u64::from(target),
                coverage: Coverage {
                    now: share(at_level),
                    days_90: share(f.reached_90),
                    days_365: share(f.reached_365),
                },
                closers,
            });
        }
        let role_ref = ItemRef {
            iri: known.iri,
            name: Some(known.name),
            kind: Some(ItemKind::Role),
        };
        Ok(Upskilling {
            role: role_ref.iri,
            role_name: role_ref.name,
            team: team.map(str::to_owned),
            people,
            at: crate::xapi::time::format_millis(now_millis),
            items,
            next_offset: more.then_some(offset + limit),
        })
    }

    pub(super) async fn name_closers(
        &self,
        tenant: TenantId,
        closers: &mut [Closer],
    ) -> EvidenceResult<()> {
        for c in closers {
            c.name = self.activity_name(tenant, &c.activity).await?;
        }
        Ok(())
    }

    /// An activity's name from its stored definition.
    pub(super) async fn activity_name(
        &self,
        tenant: TenantId,
        activity: &str,
    ) -> EvidenceResult<Option<String>> {
        let definition = self
            .store()
            .actors
            .activity_definition(tenant, activity)
            .await?;
        Ok(definition
            .as_ref()
            .and_then(|d| crate::competency::tagger::preferred_text(d.get("name")))
            .map(str::to_owned))
    }
}

/// Most people who reached the target first, then best success rate, then most learners.
pub fn sort_closers(closers: &mut [Closer]) {
    closers.sort_by(|a, b| {
        b.reached
            .cmp(&a.reached)
            .then(b.success_rate.total_cmp(&a.success_rate))
            .then(b.learners.cmp(&a.learners))
            .then_with(|| a.activity.cmp(&b.activity))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::weights::EPOCH_MILLIS;

    fn row(person: &str, activity: &str, day: i64, value: f64, w: &EvidenceWeights) -> TimelineRow {
        let at = EPOCH_MILLIS + day * DAY_MILLIS;
        TimelineRow {
            person: person.into(),
            item: "urn:i".into(),
            activity: activity.into(),
            at_millis: at,
            normalized: w.normalized(value, at),
        }
    }

    /// Target level 2 starts at score 1.0. Ann does a (0.6) then b (0.9): she reaches it
    /// with b, so a and b were both done while below and both count as closers for her.
    /// Bo does a (0.6) only and stays below. Cy did a two years ago and b last week.
    #[test]
    fn closers_count_what_was_done_before_reaching_the_target() {
        let w = EvidenceWeights::default();
        let now_day = 1000;
        let rows = [
            row("ann", "a", now_day - 10, 0.6, &w),
            row("ann", "b", now_day - 5, 0.9, &w),
            row("ann", "c", now_day - 1, 0.6, &w),
            row("bo", "a", now_day - 3, 0.6, &w),
        ];
        let refs: Vec<&TimelineRow> = rows.iter().collect();
        let f = figures(&refs, 2, &w, EPOCH_MILLIS + now_day * DAY_MILLIS);
        assert_eq!(f.levels["ann"], 2);
        assert_eq!(f.levels["bo"], 1);
        let find = |a: &str| f.closers.iter().find(|c| c.activity == a).cloned();
        let a = find("a").unwrap();
        assert_eq!((a.learners, a.reached), (2, 1));
        let b = find("b").unwrap();
        assert_eq!((b.learners, b.reached), (1, 1));
        assert!(find("c").is_none(), "done after reaching the target");
        assert_eq!((f.reached_90, f.reached_365), (0, 0));
    }
}
