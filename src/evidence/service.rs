//! The skill-evidence answers: profiles, experts, adjacent skills, the activities that
//! build a skill, and a person's gaps against a role. Every score is the sum of the
//! contributions of the statements listed with it (see `scoring`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::people::{People, Person};
use super::scoring::{lift, score, Scored};
use super::EvidenceWeights;
use super::{EvidenceError, EvidenceResult};
use crate::competency::{Competencies, ItemKind, Tagger};
use crate::store::evidence::{ActivityStats, EvidenceRow, PersonItem};
use crate::store::{Store, TenantId};
use crate::xapi::agent::agent_of_ifi;
use crate::xapi::Violation;

/// An item as answers name it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemRef {
    pub iri: String,
    /// Absent when no active framework has the item any more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<ItemKind>,
}

/// What the answer was computed with, so a reader can redo the arithmetic.
#[derive(Debug, Clone, Serialize)]
pub struct Basis {
    /// The moment scores are decayed to.
    pub at: String,
    pub half_life_days: f64,
    pub level_from: [f64; 4],
}

/// Parameters shared by the answers.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub now_millis: i64,
    /// Proofs listed per score (the rest are summed).
    pub proofs: usize,
}

#[derive(Debug, Serialize)]
pub struct ItemScore {
    pub item: ItemRef,
    #[serde(flatten)]
    pub scored: Scored,
}

#[derive(Debug, Serialize)]
pub struct Profile {
    pub person: Person,
    pub basis: Basis,
    /// Highest score first.
    pub competencies: Vec<ItemScore>,
}

#[derive(Debug, Serialize)]
pub struct Expert {
    pub rank: u64,
    pub person: Person,
    #[serde(flatten)]
    pub scored: Scored,
}

#[derive(Debug, Serialize)]
pub struct Experts {
    pub item: ItemRef,
    pub basis: Basis,
    pub experts: Vec<Expert>,
    /// The offset of the next page, when there may be one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct CoOccurring {
    pub item: ItemRef,
    /// People with evidence for both.
    pub people_both: u64,
    /// People with evidence for this one.
    pub people: u64,
    /// people_both × population ÷ (people with the asked item × people).
    pub lift: f64,
    /// people_both ÷ people with the asked item.
    pub confidence: f64,
}

#[derive(Debug, Serialize)]
pub struct Related {
    pub item: ItemRef,
    /// The framework relation (`parent` and `child` for the hierarchy).
    pub relation: String,
    /// Whether the asked item states the relation (`outgoing`) or the other one does.
    pub direction: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Adjacent {
    pub item: ItemRef,
    /// People with any evidence.
    pub population: u64,
    /// People with evidence for the asked item.
    pub people: u64,
    /// Highest lift first.
    pub co_occurring: Vec<CoOccurring>,
    pub related: Vec<Related>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActivityView {
    pub activity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub learners: u64,
    pub statements: u64,
    /// completions ÷ statements.
    pub completion_rate: f64,
    /// successes ÷ (successes + failures); absent when no statement says either.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_rate: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average_score: Option<f64>,
    pub completions: u64,
    pub successes: u64,
    pub failures: u64,
}

#[derive(Debug, Serialize)]
pub struct Activities {
    pub item: ItemRef,
    /// Most learners first, then highest success and completion rates.
    pub activities: Vec<ActivityView>,
}

#[derive(Debug, Serialize)]
pub struct Gap {
    pub item: ItemRef,
    pub target_level: u8,
    pub level: u8,
    pub score: f64,
    /// The score the target level starts at.
    pub target_score: f64,
    pub gap: bool,
    /// For gaps: activities that build the item which the person has not done.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub recommendations: Vec<ActivityView>,
}

#[derive(Debug, Serialize)]
pub struct Gaps {
    pub person: Person,
    pub role: ItemRef,
    pub basis: Basis,
    pub needs: Vec<Gap>,
}

/// Recommendations listed per gap.
const RECOMMENDATIONS: usize = 5;

#[derive(Clone)]
pub struct Evidence {
    store: Store,
    competencies: Arc<Competencies>,
    people: People,
    /// How evidence is weighed, decays and makes levels.
    weights: EvidenceWeights,
    /// Upskilling figures computed lately (see `upskilling`).
    pub(super) figures: Arc<super::upskilling::FigureCache>,
}

impl Evidence {
    pub fn new(
        store: Store,
        competencies: Arc<Competencies>,
        people: People,
        weights: EvidenceWeights,
    ) -> Self {
        Evidence {
            store,
            competencies,
            people,
            weights,
            figures: Arc::default(),
        }
    }

    pub fn weights(&self) -> &EvidenceWeights {
        &self.weights
    }

    pub(super) fn store(&self) -> &Store {
        &self.store
    }

    pub fn basis(&self, now_millis: i64) -> Basis {
        let w = self.weights();
        Basis {
            at: crate::xapi::time::format_millis(now_millis),
            half_life_days: w.half_life_days,
            level_from: w.level_from,
        }
    }

    pub async fn tagger(&self, tenant: TenantId) -> EvidenceResult<Arc<Tagger>> {
        Ok(self.competencies.tagger(tenant).await?)
    }

    /// The person an agent is, or a person by id: linked identities, else the identities
    /// their evidence came from.
    pub async fn person(
        &self,
        tenant: TenantId,
        agent: Option<&Value>,
        id: Option<&str>,
    ) -> EvidenceResult<Person> {
        match (agent, id) {
            (Some(agent), None) => self.people.person(tenant, agent).await,
            (None, Some(id)) => match self.people.person_by_id(tenant, id).await {
                Err(EvidenceError::NotFound(_)) => {
                    let rows = self
                        .store
                        .evidence
                        .person_evidence(tenant, id, None)
                        .await?;
                    if rows.is_empty() {
                        return Err(EvidenceError::NotFound(format!(
                            "no evidence for person {id}"
                        )));
                    }
                    Ok(person_from_rows(id, &rows))
                }
                other => other,
            },
            _ => Err(Violation::new(
                "agent",
                "person-selector",
                "give exactly one of `agent` (an xAPI Agent as JSON) or `person` (a person id)",
            )
            .into()),
        }
    }

    /// The people of these ids, with their identities (linked ones, else from `rows`).
    async fn person_with(
        &self,
        tenant: TenantId,
        id: &str,
        rows: &[EvidenceRow],
    ) -> EvidenceResult<Person> {
        match self.people.person_by_id(tenant, id).await {
            Err(EvidenceError::NotFound(_)) => Ok(person_from_rows(id, rows)),
            other => other,
        }
    }

    /// Every item a person has evidence for, highest score first.
    pub async fn profile(
        &self,
        tenant: TenantId,
        person: Person,
        opts: Options,
    ) -> EvidenceResult<Profile> {
        let tagger = self.tagger(tenant).await?;
        let rows = self
            .store
            .evidence
            .person_evidence(tenant, &person.id, None)
            .await?;
        let competencies = self.item_scores(&tagger, &rows, opts);
        Ok(Profile {
            person,
            basis: self.basis(opts.now_millis),
            competencies,
        })
    }

    fn item_scores(&self, tagger: &Tagger, rows: &[EvidenceRow], opts: Options) -> Vec<ItemScore> {
        let mut by_item: BTreeMap<&str, Vec<&EvidenceRow>> = BTreeMap::new();
        for row in rows {
            by_item.entry(&row.item.item).or_default().push(row);
        }
        let mut scores: Vec<ItemScore> = by_item
            .into_iter()
            .filter_map(|(item, rows)| {
                let scored = score(
                    rows.iter().map(|r| &r.item),
                    self.weights(),
                    opts.now_millis,
                    opts.proofs,
                )?;
                Some(ItemScore {
                    item: item_ref(tagger, item),
                    scored,
                })
            })
            .collect();
        scores.sort_by(|a, b| b.scored.score.total_cmp(&a.scored.score));
        scores
    }

    /// People ranked by their score for an item (only positive scores).
    pub async fn experts(
        &self,
        tenant: TenantId,
        item: &str,
        offset: u64,
        limit: u64,
        opts: Options,
    ) -> EvidenceResult<Experts> {
        let tagger = self.tagger(tenant).await?;
        let ranked = self
            .store
            .evidence
            .ranked(tenant, item, offset, limit)
            .await?;
        let full = ranked.len() as u64 == limit;
        let ranked: Vec<PersonItem> = ranked
            .into_iter()
            .take_while(|entry| entry.normalized > 0.0)
            .collect();
        // One read for every expert's rows, then their people, concurrently.
        let people: Vec<String> = ranked.iter().map(|e| e.person.clone()).collect();
        let all_rows = self
            .store
            .evidence
            .people_evidence(tenant, &people, &[item.to_owned()])
            .await?;
        let mut rows_of: HashMap<String, Vec<EvidenceRow>> = HashMap::new();
        for row in all_rows {
            rows_of.entry(row.person.clone()).or_default().push(row);
        }
        let rows_for = |person: &str| rows_of.get(person).map_or(&[][..], Vec::as_slice);
        let persons = futures_util::future::try_join_all(
            ranked
                .iter()
                .map(|entry| self.person_with(tenant, &entry.person, rows_for(&entry.person))),
        )
        .await?;
        let mut experts = Vec::new();
        for (n, (entry, person)) in ranked.iter().zip(persons).enumerate() {
            let Some(scored) = score(
                rows_for(&entry.person).iter().map(|r| &r.item),
                self.weights(),
                opts.now_millis,
                opts.proofs,
            ) else {
                continue;
            };
            experts.push(Expert {
                rank: offset + n as u64 + 1,
                person,
                scored,
            });
        }
        Ok(Experts {
            item: item_ref(&tagger, item),
            basis: self.basis(opts.now_millis),
            next_offset: (full && experts.len() as u64 == limit).then_some(offset + limit),
            experts,
        })
    }

    /// Items that go with this one: by co-occurrence in people's evidence, and by the
    /// framework's relations.
    pub async fn adjacent(
        &self,
        tenant: TenantId,
        item: &str,
        min_people: u64,
    ) -> EvidenceResult<Adjacent> {
        let tagger = self.tagger(tenant).await?;
        let co = self.store.evidence.co_occurrence(tenant, item).await?;
        let holders: HashMap<&str, u64> =
            co.per_item.iter().map(|(i, n)| (i.as_str(), *n)).collect();
        let people = holders.get(item).copied().unwrap_or(0);
        let mut co_occurring: Vec<CoOccurring> = co
            .with_item
            .iter()
            .filter(|(_, both)| *both >= min_people.max(1))
            .map(|(other, both)| {
                let n = holders.get(other.as_str()).copied().unwrap_or(*both);
                CoOccurring {
                    item: item_ref(&tagger, other),
                    people_both: *both,
                    people: n,
                    lift: lift(*both, people, n, co.people),
                    confidence: *both as f64 / people.max(1) as f64,
                }
            })
            .collect();
        co_occurring.sort_by(|a, b| {
            b.lift
                .total_cmp(&a.lift)
                .then(b.people_both.cmp(&a.people_both))
                .then_with(|| a.item.iri.cmp(&b.item.iri))
        });
        Ok(Adjacent {
            item: item_ref(&tagger, item),
            population: co.people,
            people,
            co_occurring,
            related: related(&tagger, item),
        })
    }

    /// The activities that are evidence for an item.
    pub async fn activities(
        &self,
        tenant: TenantId,
        item: &str,
        limit: usize,
    ) -> EvidenceResult<Activities> {
        let tagger = self.tagger(tenant).await?;
        let stats = self.store.evidence.activity_stats(tenant, item).await?;
        let mut activities = ranked_activities(stats);
        activities.truncate(limit);
        self.name_activities(tenant, &mut activities).await?;
        Ok(Activities {
            item: item_ref(&tagger, item),
            activities,
        })
    }

    async fn name_activities(
        &self,
        tenant: TenantId,
        activities: &mut [ActivityView],
    ) -> EvidenceResult<()> {
        for a in activities {
            let definition = self
                .store
                .actors
                .activity_definition(tenant, &a.activity)
                .await?;
            a.name = definition
                .as_ref()
                .and_then(|d| crate::competency::tagger::preferred_text(d.get("name")))
                .map(str::to_owned);
        }
        Ok(())
    }

    /// A person's standing against each need of a role, with activities for the gaps.
    pub async fn gaps(
        &self,
        tenant: TenantId,
        person: Person,
        role: &str,
        opts: Options,
    ) -> EvidenceResult<Gaps> {
        let tagger = self.tagger(tenant).await?;
        let known = tagger
            .role(role)
            .ok_or_else(|| {
                EvidenceError::NotFound(format!("no role {role} in an active framework"))
            })?
            .clone();
        let rows = self
            .store
            .evidence
            .person_evidence(tenant, &person.id, None)
            .await?;
        let done: HashSet<&str> = rows.iter().map(|r| r.item.activity.as_str()).collect();
        let scores = self.item_scores(&tagger, &rows, opts);
        let mut needs = Vec::new();
        for need in &known.needs {
            let scored = scores.iter().find(|s| s.item.iri == need.item);
            let (score, level) = scored.map_or((0.0, 0), |s| (s.scored.score, s.scored.level));
            let gap = level < need.level;
            let recommendations = if gap {
                let stats = self
                    .store
                    .evidence
                    .activity_stats(tenant, &need.item)
                    .await?;
                let mut fresh: Vec<ActivityView> = ranked_activities(stats)
                    .into_iter()
                    .filter(|a| !done.contains(a.activity.as_str()))
                    .take(RECOMMENDATIONS)
                    .collect();
                self.name_activities(tenant, &mut fresh).await?;
                fresh
            } else {
                Vec::new()
            };
            needs.push(Gap {
                item: item_ref(&tagger, &need.item),
                target_level: need.level,
                level,
                score,
                target_score: self.weights().level_start(need.level),
                gap,
                recommendations,
            });
        }
        Ok(Gaps {
            person,
            role: ItemRef {
                iri: known.iri,
                name: Some(known.name),
                kind: Some(ItemKind::Role),
            },
            basis: self.basis(opts.now_millis),
            needs,
        })
    }
}

/// A person known only from their evidence: the identities it came from.
fn person_from_rows(id: &str, rows: &[EvidenceRow]) -> Person {
    let identities: BTreeSet<&str> = rows.iter().map(|r| r.item.identity.as_str()).collect();
    Person {
        id: id.to_owned(),
        identities: identities.into_iter().filter_map(agent_of_ifi).collect(),
    }
}

pub fn item_ref(tagger: &Tagger, iri: &str) -> ItemRef {
    let known = tagger.item(iri);
    ItemRef {
        iri: iri.to_owned(),
        name: known.map(|k| k.name.clone()),
        kind: known.map(|k| k.kind),
    }
}

/// Activities with their rates, most learners first, then best success and completion.
pub fn ranked_activities(stats: Vec<ActivityStats>) -> Vec<ActivityView> {
    let mut views: Vec<ActivityView> = stats
        .into_iter()
        .map(|s| {
            let decided = s.successes + s.failures;
            ActivityView {
                completion_rate: s.completions as f64 / s.statements.max(1) as f64,
                success_rate: (decided > 0).then(|| s.successes as f64 / decided as f64),
                average_score: (s.scored > 0).then(|| s.score_sum / s.scored as f64),
                activity: s.activity,
                name: None,
                learners: s.learners,
                statements: s.statements,
                completions: s.completions,
                successes: s.successes,
                failures: s.failures,
            }
        })
        .collect();
    views.sort_by(|a, b| {
        b.learners
            .cmp(&a.learners)
            .then(
                b.success_rate
                    .unwrap_or(0.0)
                    .total_cmp(&a.success_rate.unwrap_or(0.0)),
            )
            .then(b.completion_rate.total_cmp(&a.completion_rate))
            .then_with(|| a.activity.cmp(&b.activity))
    });
    views
}

/// The framework's relations of an item, both ways, and its place in the hierarchy.
fn related(tagger: &Tagger, iri: &str) -> Vec<Related> {
    let mut out = Vec::new();
    let mut push = |other: &str, relation: String, direction| {
        if other != iri && tagger.item(other).is_some() {
            out.push(Related {
                item: item_ref(tagger, other),
                relation,
                direction,
            });
        }
    };
    if let Some(item) = tagger.item(iri) {
        for r in &item.relations {
            push(&r.target, relation_name(r.kind), "outgoing");
        }
        if let Some(parent) = &item.parent {
            push(parent, "parent".into(), "outgoing");
        }
    }
    for other in tagger.items() {
        for r in other.relations.iter().filter(|r| r.target == iri) {
            push(&other.iri, relation_name(r.kind), "incoming");
        }
        if other.parent.as_deref() == Some(iri) {
            push(&other.iri, "child".into(), "outgoing");
        }
    }
    out
}

fn relation_name(kind: crate::competency::model::RelationType) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
