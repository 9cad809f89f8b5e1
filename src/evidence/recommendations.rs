//! Personal recommendations: a ranked playlist of activities, from every source the tenant
//! has (the catalog's entries from the LMS, LinkedIn Learning, talk feeds…, and the
//! activities others' evidence shows build a skill), for a person's gaps.
//!
//! The gaps are the needs of a role (`role`) the person is below, and adjacent skills:
//! items the framework relates to the person's three strongest items, aimed at level 2
//! when the person is below it. An activity the person already did — any statement of
//! theirs about it, whatever the verb, or any of their evidence — is left out.
//!
//! score = Σ over the gaps it addresses of gap (levels) × alignment confidence ×
//! (0.5 + 0.5 × the share of learners who did it while below that target and then reached
//! it); evidence-derived activities count with confidence 1.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures_util::future::{try_join4, try_join_all};
use serde::Serialize;
use serde_json::Value;

use super::people::Person;
use super::scoring::score;
use super::service::{Evidence, Options};
use super::{EvidenceError, EvidenceResult};
use crate::competency::Tagger;
use crate::store::evidence::EvidenceRow;
use crate::store::{StatementQuery, TenantId};
use crate::xapi::agent::{agent_of_ifi, ifi_key};

/// The level adjacent skills are aimed at.
pub const ADJACENT_LEVEL: u8 = 2;
/// How many of the person's strongest items adjacent skills are drawn from.
const STRENGTHS: usize = 3;
/// Statements of one identity read to know what the person did.
const DONE_PAGES: usize = 20;
const DONE_PAGE: u32 = 500;

/// One gap an activity addresses.
#[derive(Debug, Clone, Serialize)]
pub struct ForGap {
    pub item: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// target − level.
    pub gap: u8,
    pub level: u8,
    pub target: u8,
    /// `role`, or `adjacent` (with the strength it is adjacent to).
    pub why: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjacent_to: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Helped {
    /// People who did it while below the target of a gap it addresses.
    pub learners: u64,
    /// Of those, the people who then reached it.
    pub reached: u64,
}

#[derive(Debug, Serialize)]
pub struct Recommendation {
    pub activity: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where it is known from: the catalog entry's source (`linkedin-learning`,
    /// `talk-feed`, `manual`…), else `statements` (others' evidence).
    #[serde(serialize_with = "source_or_statements")]
    pub source: Option<String>,
    #[serde(rename = "for")]
    pub for_gaps: Vec<ForGap>,
    pub reason: String,
    pub helped: Helped,
    pub score: f64,
}

#[derive(Debug, Serialize)]
pub struct Recommendations {
    /// The agent asked about (one identity of the person when asked by id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<Value>,
    pub person: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub items: Vec<Recommendation>,
}

/// An activity on its way to being recommended.
#[derive(Default)]
struct Pick {
    /// By gap item: the alignment confidence.
    gaps: BTreeMap<String, f64>,
    source: Option<String>,
}

fn source_or_statements<S: serde::Serializer>(
    source: &Option<String>,
    out: S,
) -> Result<S::Ok, S::Error> {
    out.serialize_str(source.as_deref().unwrap_or("statements"))
}

impl Evidence {
    /// The activities that would close a person's gaps, best first, at most `limit`.
    pub async fn recommendations(
        &self,
        tenant: TenantId,
        person: Person,
        agent: Option<Value>,
        role: Option<&str>,
        limit: usize,
        opts: Options,
    ) -> EvidenceResult<Recommendations> {
        let tagger = self.tagger(tenant).await?;
        let rows = self
            .store()
            .evidence
            .person_evidence(tenant, &person.id, None)
            .await?;
        let levels = levels_of(self, &rows, opts);
        let gaps = gaps_of(&tagger, role, &levels)?;
        let items: Vec<String> = gaps.iter().map(|g| g.item.clone()).collect();
        let targets: Vec<(String, u8)> = gaps.iter().map(|g| (g.item.clone(), g.target)).collect();
        // The catalog's entries, others' activities per gap item, what the person did and
        // who each activity helped are read concurrently.
        let stats_of = try_join_all(
            items
                .iter()
                .map(|item| self.store().evidence.activity_stats(tenant, item)),
        );
        let (catalog, stats, done, closers) = try_join4(
            async {
                Ok(self
                    .store()
                    .opportunities
                    .catalog_for_items(tenant, &items)
                    .await?)
            },
            async { Ok(stats_of.await?) },
            self.done_activities(tenant, &person, &rows),
            self.item_closers(tenant, &targets, opts.now_millis),
        )
        .await?;
        let mut picks: BTreeMap<String, Pick> = BTreeMap::new();
        for (activity, alignment) in catalog {
            let pick = picks.entry(activity).or_default();
            pick.gaps.insert(alignment.item, alignment.confidence);
            if pick.source.is_none() {
                pick.source = Some(alignment.source.unwrap_or_else(|| "catalog".into()));
            }
        }
        for (item, stats) in items.iter().zip(stats) {
            for stats in stats {
                picks
                    .entry(stats.activity)
                    .or_default()
                    .gaps
                    .entry(item.clone())
                    .or_insert(1.0);
            }
        }
        picks.retain(|activity, _| !done.contains(activity));
        let by_item: HashMap<&str, &ForGap> = gaps.iter().map(|g| (g.item.as_str(), g)).collect();
        // Each item's closers by activity, looked up once per pick and gap.
        let closers: HashMap<(&str, &str), (u64, u64)> = items
            .iter()
            .zip(&closers)
            .flat_map(|(item, closers)| {
                closers.iter().map(move |(activity, learners, reached)| {
                    ((item.as_str(), activity.as_str()), (*learners, *reached))
                })
            })
            .collect();
        let mut out: Vec<Recommendation> = picks
            .into_iter()
            .map(|(activity, pick)| {
                let mut helped = Helped::default();
                let mut total = 0.0;
                let mut for_gaps = Vec::new();
                for (item, confidence) in &pick.gaps {
                    let Some(gap) = by_item.get(item.as_str()) else {
                        continue;
                    };
                    let (learners, reached) = closers
                        .get(&(item.as_str(), activity.as_str()))
                        .copied()
                        .unwrap_or((0, 0));
                    helped.learners += learners;
                    helped.reached += reached;
                    let rate = reached as f64 / learners.max(1) as f64;
                    total += f64::from(gap.gap) * confidence * (0.5 + 0.5 * rate);
                    for_gaps.push((*gap).clone());
                }
                Recommendation {
                    reason: String::new(),
                    source: pick.source,
                    activity,
                    name: None,
                    for_gaps,
                    helped,
                    score: total,
                }
            })
            .filter(|r| !r.for_gaps.is_empty())
            .collect();
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.helped.reached.cmp(&a.helped.reached))
                .then_with(|| a.activity.cmp(&b.activity))
        });
        out.truncate(limit);
        // Only what is shown is explained.
        for r in &mut out {
            r.for_gaps
                .sort_by(|a, b| b.gap.cmp(&a.gap).then_with(|| a.item.cmp(&b.item)));
            r.reason = reason(&tagger, &r.for_gaps, &r.helped, r.source.as_deref());
        }
        let names =
            try_join_all(out.iter().map(|r| self.activity_name(tenant, &r.activity))).await?;
        for (r, name) in out.iter_mut().zip(names) {
            r.name = name;
        }
        Ok(Recommendations {
            // The asked agent by its identifier only, as the person's identities are shown.
            agent: agent
                .as_ref()
                .and_then(ifi_key)
                .and_then(|key| agent_of_ifi(&key))
                .or_else(|| person.identities.first().cloned()),
            person: person.id,
            role: role.map(str::to_owned),
            items: out,
        })
    }

    /// Every activity the person has done: the objects of their statements (each identity,
    /// any verb) and the activities of their evidence.
    async fn done_activities(
        &self,
        tenant: TenantId,
        person: &Person,
        rows: &[EvidenceRow],
    ) -> EvidenceResult<HashSet<String>> {
        let mut done: HashSet<String> = rows.iter().map(|r| r.item.activity.clone()).collect();
        for identity in &person.identities {
            let Some(ifi) = ifi_key(identity) else {
                continue;
            };
            let query = StatementQuery {
                agent: Some(ifi),
                limit: DONE_PAGE,
                ..StatementQuery::default()
            };
            let mut cursor = None;
            for _ in 0..DONE_PAGES {
                let page = self
                    .store()
                    .statements
                    .query_statements(tenant, &query, cursor)
                    .await?;
                for s in &page.statements {
                    let object = s.get("object");
                    let is_activity = object
                        .and_then(|o| o.get("objectType"))
                        .is_none_or(|t| t == "Activity");
                    if let Some(id) = object.and_then(|o| o.get("id")).and_then(Value::as_str) {
                        if is_activity {
                            done.insert(id.to_owned());
                        }
                    }
                }
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        Ok(done)
    }
}

/// The person's level in each item with evidence, with its score.
fn levels_of(
    evidence: &Evidence,
    rows: &[EvidenceRow],
    opts: Options,
) -> HashMap<String, (u8, f64)> {
    let mut by_item: HashMap<&str, Vec<&EvidenceRow>> = HashMap::new();
    for r in rows {
        by_item.entry(&r.item.item).or_default().push(r);
    }
    by_item
        .into_iter()
        .filter_map(|(item, rows)| {
            let s = score(
                rows.iter().map(|r| &r.item),
                evidence.weights(),
                opts.now_millis,
                0,
            )?;
            Some((item.to_owned(), (s.level, s.score)))
        })
        .collect()
}

/// The role's needs the person is below, then the adjacent skills of their strengths.
fn gaps_of(
    tagger: &Tagger,
    role: Option<&str>,
    levels: &HashMap<String, (u8, f64)>,
) -> EvidenceResult<Vec<ForGap>> {
    let level = |item: &str| levels.get(item).map_or(0, |(l, _)| *l);
    let name = |item: &str| tagger.item(item).map(|k| k.name.clone());
    let mut gaps: Vec<ForGap> = Vec::new();
    if let Some(role) = role {
        let known = tagger.role(role).ok_or_else(|| {
            EvidenceError::NotFound(format!("no role {role} in an active framework"))
        })?;
        for need in &known.needs {
            let have = level(&need.item);
            if have < need.level {
                gaps.push(ForGap {
                    item: need.item.clone(),
                    name: name(&need.item),
                    gap: need.level - have,
                    level: have,
                    target: need.level,
                    why: "role",
                    adjacent_to: None,
                });
            }
        }
    }
    let mut strengths: Vec<(&String, f64)> = levels
        .iter()
        .filter(|(_, (l, _))| *l >= 1)
        .map(|(i, (_, s))| (i, *s))
        .collect();
    strengths.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    for (strength, _) in strengths.into_iter().take(STRENGTHS) {
        for other in related(tagger, strength) {
            let have = level(&other);
            if have >= ADJACENT_LEVEL || gaps.iter().any(|g| g.item == other) {
                continue;
            }
            gaps.push(ForGap {
                name: name(&other),
                item: other,
                gap: ADJACENT_LEVEL - have,
                level: have,
                target: ADJACENT_LEVEL,
                why: "adjacent",
                adjacent_to: Some(strength.clone()),
            });
        }
    }
    Ok(gaps)
}

/// The items the framework relates to `iri`, either way (no roles or clusters).
fn related(tagger: &Tagger, iri: &str) -> Vec<String> {
    use crate::competency::ItemKind;
    let mut out: Vec<String> = Vec::new();
    let mut push = |other: &str| {
        let fits = tagger
            .item(other)
            .is_some_and(|k| !matches!(k.kind, ItemKind::Role | ItemKind::Cluster));
        if other != iri && fits && !out.iter().any(|o| o == other) {
            out.push(other.to_owned());
        }
    };
    if let Some(item) = tagger.item(iri) {
        for r in &item.relations {
            push(&r.target);
        }
    }
    for other in tagger.items() {
        if other.relations.iter().any(|r| r.target == iri) {
            push(&other.iri);
        }
    }
    out.sort();
    out
}

fn reason(tagger: &Tagger, gaps: &[ForGap], helped: &Helped, source: Option<&str>) -> String {
    let label = |iri: &str| {
        tagger
            .item(iri)
            .map_or_else(|| iri.to_owned(), |k| k.name.clone())
    };
    let parts: Vec<String> = gaps
        .iter()
        .map(|g| match &g.adjacent_to {
            Some(strength) => format!(
                "{} (adjacent to your {}; you are at level {}, aim {})",
                label(&g.item),
                label(strength),
                g.level,
                g.target
            ),
            None => format!(
                "{} (you are at level {}, the role needs {})",
                label(&g.item),
                g.level,
                g.target
            ),
        })
        .collect();
    let mut text = format!("Builds {}", parts.join("; "));
    if helped.learners > 0 {
        text.push_str(&format!(
            ". {} of {} people who took it while below the target then reached it",
            helped.reached, helped.learners
        ));
    }
    match source {
        Some(s) => text.push_str(&format!(". From the catalog ({s})")),
        None => text.push_str(". Others' evidence shows it builds these skills"),
    }
    text.push('.');
    text
}
