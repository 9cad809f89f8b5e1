//! Opportunities — projects, assignments and jobs, each needing some items at some level —
//! and the career-marketplace answers on them: the people who fit an opportunity best, and
//! the open opportunities a person fits best, each explained need by need with the proofs
//! behind the scores.
//!
//! A person's fit is the mean, over the needs, of how far their score goes towards the
//! score the target level starts at (1 when the level is reached; for a level-1 need, any
//! positive score). Scores decay with age, so the fit already weighs recency; ties go to
//! more needs met, then to the most recent evidence.
//!
//! Candidates are found without reading everyone: for each need the store ranks people by
//! their sum (an index), the best `k` of each need are read, and everyone they name has
//! their sums for every need read too (one batched read per round), so each person seen
//! has an exact fit. Someone not seen has at most the `k`-th score on every need — so when
//! the page's last exact fit is at least that bound the page is exact, and otherwise `k`
//! grows (reading only the next stretch of each list). The page's evidence rows are then
//! read in one batch, and its people's identities concurrently.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use super::people::Person;
use super::scoring::{score, Proof};
use super::service::{item_ref, Evidence, Options};
use super::{EvidenceError, EvidenceResult};
use crate::competency::Tagger;
use crate::store::evidence::{EvidenceRow, PersonItem};
use crate::store::opportunities::OpportunityRecord;
use crate::store::TenantId;
use crate::xapi::agent::agent_of_ifi;
use crate::xapi::Violation;

const DAY_MILLIS: i64 = 86_400_000;

/// The kinds of opportunity.
pub const KINDS: [&str; 3] = ["project", "assignment", "job"];
/// The states of an opportunity.
pub const STATUSES: [&str; 2] = ["open", "closed"];

/// An item an opportunity needs, and the level.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Need {
    pub item: String,
    pub level: u8,
}

/// An opportunity as the API shows and stores it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Opportunity {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub needs: Vec<Need>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When it was last written.
    #[serde(default)]
    pub updated: String,
}

/// A need the person meets, with the proofs of their score.
#[derive(Debug, Serialize)]
pub struct Met {
    pub item: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub level: u8,
    pub target: u8,
    pub score: f64,
    pub proofs: Vec<Proof>,
}

/// A need the person falls short of.
#[derive(Debug, Serialize)]
pub struct Short {
    pub item: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub level: u8,
    pub target: u8,
    /// target − level.
    pub gap: u8,
    pub score: f64,
    /// The score the target level starts at.
    pub target_score: f64,
    /// The proofs of what they have so far.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub proofs: Vec<Proof>,
}

/// How one person stands against one opportunity.
#[derive(Debug, Serialize)]
pub struct Fit {
    /// 0–1: the mean of each need's progress towards its target score.
    pub fit: f64,
    pub met: Vec<Met>,
    pub gaps: Vec<Short>,
    /// Days since their newest evidence for any need (absent without any).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recency_days: Option<i64>,
    pub explanation: String,
}

#[derive(Debug, Serialize)]
pub struct Candidate {
    pub rank: u64,
    pub person: String,
    /// One of the person's identities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(flatten)]
    pub fit: Fit,
}

#[derive(Debug, Serialize)]
pub struct Candidates {
    pub opportunity: String,
    pub name: String,
    pub candidates: Vec<Candidate>,
    /// The offset of the next page, when there may be one.
    #[serde(skip)]
    pub next_offset: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct PersonOpportunity {
    pub opportunity: Opportunity,
    #[serde(flatten)]
    pub fit: Fit,
}

#[derive(Debug, Serialize)]
pub struct PersonOpportunities {
    pub person: Person,
    /// Best fit first.
    pub opportunities: Vec<PersonOpportunity>,
}

/// The most people taken per need when looking for candidates.
const MAX_POOL: u64 = 1 << 20;

/// The most open opportunities weighed for one person.
const MAX_OPEN: u64 = 2000;

fn invalid(pointer: &str, rule: &'static str, message: impl Into<String>) -> EvidenceError {
    Violation::new(pointer, rule, message).into()
}

fn text_field(body: &Value, key: &str, required: bool) -> EvidenceResult<Option<String>> {
    match body.get(key) {
        None | Some(Value::Null) if !required => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
        _ => Err(invalid(
            &format!("/{key}"),
            "string",
            format!("{key} is a non-empty string"),
        )),
    }
}

fn one_of(
    body: &Value,
    key: &str,
    allowed: &[&str],
    default: Option<&str>,
) -> EvidenceResult<String> {
    match body.get(key) {
        None | Some(Value::Null) if default.is_some() => Ok(default.unwrap_or_default().to_owned()),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(s.clone()),
        _ => Err(invalid(
            &format!("/{key}"),
            "enum",
            format!("{key} is one of {}", allowed.join(", ")),
        )),
    }
}

/// The needs of a body: a non-empty array of `{item, level}`, items of an active framework,
/// levels 1–5, no item twice.
fn needs_of(body: &Value, tagger: &Tagger) -> EvidenceResult<Vec<Need>> {
    let list = body
        .get("needs")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| {
            invalid(
                "/needs",
                "needs",
                "needs is a non-empty array of {item, level}",
            )
        })?;
    let mut seen = HashSet::new();
    let mut needs = Vec::with_capacity(list.len());
    for (i, need) in list.iter().enumerate() {
        let item = need
            .get("item")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(&format!("/needs/{i}/item"), "iri", "item is an item IRI"))?;
        if tagger.item(item).is_none() {
            return Err(invalid(
                &format!("/needs/{i}/item"),
                "known-item",
                format!("no active framework has the item {item}"),
            ));
        }
        let level = need
            .get("level")
            .and_then(Value::as_f64)
            .filter(|l| l.fract() == 0.0 && (1.0..=5.0).contains(l))
            .ok_or_else(|| {
                invalid(
                    &format!("/needs/{i}/level"),
                    "level",
                    "level is a whole number 1–5",
                )
            })? as u8;
        if let Some(extra) = need
            .as_object()
            .and_then(|o| o.keys().find(|k| *k != "item" && *k != "level"))
        {
            return Err(invalid(
                &format!("/needs/{i}/{extra}"),
                "unknown-field",
                "a need has only item and level",
            ));
        }
        if !seen.insert(item.to_owned()) {
            return Err(invalid(
                &format!("/needs/{i}/item"),
                "unique-item",
                format!("{item} is needed twice"),
            ));
        }
        needs.push(Need {
            item: item.to_owned(),
            level,
        });
    }
    Ok(needs)
}

fn parse_record(record: &OpportunityRecord) -> EvidenceResult<Opportunity> {
    serde_json::from_str(&record.body)
        .map_err(|e| EvidenceError::Store(crate::store::StoreError::Backend(e.into())))
}

/// How far a score goes towards a need's target: 1 when reached.
fn progress(w: &super::EvidenceWeights, score: f64, level: u8) -> f64 {
    let target = w.level_start(level);
    if w.level(score) >= level {
        1.0
    } else if target <= 0.0 {
        0.0
    } else {
        (score / target).clamp(0.0, 1.0)
    }
}

/// A person's sums for the needs, for ranking.
#[derive(Debug, Clone)]
struct Standing {
    person: String,
    fit: f64,
    met: usize,
    last_millis: i64,
}

impl Evidence {
    /// Creates (`id` None) or replaces an opportunity from its JSON body; whether it is new.
    pub async fn put_opportunity(
        &self,
        tenant: TenantId,
        id: Option<&str>,
        body: &Value,
    ) -> EvidenceResult<(Opportunity, bool)> {
        let fields = body
            .as_object()
            .ok_or_else(|| invalid("", "object", "an opportunity is a JSON object"))?;
        const FIELDS: [&str; 7] = [
            "id",
            "name",
            "kind",
            "needs",
            "team",
            "status",
            "description",
        ];
        if let Some(extra) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(invalid(
                &format!("/{extra}"),
                "unknown-field",
                format!("an opportunity has only {}", FIELDS.join(", ")),
            ));
        }
        let tagger = self.tagger(tenant).await?;
        let name = text_field(body, "name", true)?.unwrap_or_default();
        let kind = one_of(body, "kind", &KINDS, None)?;
        let status = one_of(body, "status", &STATUSES, Some("open"))?;
        let description = match body.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(invalid("/description", "string", "description is a string")),
        };
        let team = text_field(body, "team", false)?;
        let needs = needs_of(body, &tagger)?;
        if let Some(team) = &team {
            if self.store().evidence.team(tenant, team).await?.is_none() {
                return Err(invalid("/team", "known-team", format!("no team {team}")));
            }
        }
        let id = match (id, body.get("id")) {
            (Some(path), Some(Value::String(given))) if given != path => {
                return Err(invalid(
                    "/id",
                    "id-matches-path",
                    "the body's id differs from the path's",
                ))
            }
            (_, Some(v)) if !v.is_string() => {
                return Err(invalid("/id", "string", "id is a string"))
            }
            (Some(path), _) => path.to_owned(),
            (None, _) => uuid::Uuid::new_v4().to_string(),
        };
        let now = chrono::Utc::now().timestamp_millis();
        let opportunity = Opportunity {
            id: id.clone(),
            name,
            kind,
            needs,
            team,
            status: status.clone(),
            description,
            updated: crate::xapi::time::format_millis(now),
        };
        let body = serde_json::to_string(&opportunity)
            .map_err(|e| EvidenceError::Store(crate::store::StoreError::Backend(e.into())))?;
        let created = self
            .store()
            .opportunities
            .put_opportunity(
                tenant,
                OpportunityRecord {
                    id,
                    status,
                    body,
                    updated_millis: now,
                },
            )
            .await?;
        Ok((opportunity, created))
    }

    pub async fn opportunity(&self, tenant: TenantId, id: &str) -> EvidenceResult<Opportunity> {
        let record = self
            .store()
            .opportunities
            .opportunity(tenant, id)
            .await?
            .ok_or_else(|| EvidenceError::NotFound(format!("no opportunity {id}")))?;
        parse_record(&record)
    }

    /// Opportunities by id after `after`, of one status when given.
    pub async fn opportunities(
        &self,
        tenant: TenantId,
        status: Option<&str>,
        after: Option<&str>,
        limit: u64,
    ) -> EvidenceResult<Vec<Opportunity>> {
        self.store()
            .opportunities
            .opportunities(tenant, status, after, limit)
            .await?
            .iter()
            .map(parse_record)
            .collect()
    }

    pub async fn delete_opportunity(&self, tenant: TenantId, id: &str) -> EvidenceResult<()> {
        if !self
            .store()
            .opportunities
            .delete_opportunity(tenant, id)
            .await?
        {
            return Err(EvidenceError::NotFound(format!("no opportunity {id}")));
        }
        Ok(())
    }

    /// Ranks people's sums against the needs.
    fn standings(&self, needs: &[Need], sums: &[PersonItem], now_millis: i64) -> Vec<Standing> {
        let w = self.weights();
        let mut by_person: HashMap<&str, HashMap<&str, &PersonItem>> = HashMap::new();
        for s in sums {
            by_person
                .entry(s.person.as_str())
                .or_default()
                .insert(s.item.as_str(), s);
        }
        by_person
            .into_iter()
            .map(|(person, items)| {
                let (mut total, mut met, mut last) = (0.0, 0, i64::MIN);
                for need in needs {
                    if let Some(s) = items.get(need.item.as_str()) {
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
            })
            .collect()
    }

    /// The people who fit an opportunity best, `limit` from `offset`.
    pub async fn candidates(
        &self,
        tenant: TenantId,
        id: &str,
        offset: u64,
        limit: u64,
        opts: Options,
    ) -> EvidenceResult<Candidates> {
        let opportunity = self.opportunity(tenant, id).await?;
        let tagger = self.tagger(tenant).await?;
        let needs = &opportunity.needs;
        let w = self.weights();
        let wanted = offset + limit;
        // Sorted reads of each need's best sums, deeper each round. A person named in them
        // has an exact fit once each of their needs is known: read in that need's list, or
        // absent from a list read to its end, or else from one batched read of their sums
        // (the people still unknown in the round). Someone not seen in any list has at most
        // each list's last score read, which bounds their fit: once the page's last exact
        // fit reaches that bound, no unseen person can displace it.
        let mut k = (2 * wanted).clamp(64, MAX_POOL);
        let mut read = vec![0u64; needs.len()];
        let mut exhausted = vec![false; needs.len()];
        let mut floor = vec![0.0f64; needs.len()];
        // Everyone with a positive sum in a list read, in the order first seen.
        let mut seen: Vec<String> = Vec::new();
        let mut listed: HashMap<String, Vec<PersonItem>> = HashMap::new();
        let mut fetched: HashMap<String, Vec<PersonItem>> = HashMap::new();
        let (ranked, more) = loop {
            for (n, need) in needs.iter().enumerate() {
                if exhausted[n] {
                    continue;
                }
                let top = self
                    .store()
                    .evidence
                    .ranked(tenant, &need.item, read[n], k - read[n])
                    .await?;
                exhausted[n] = (top.len() as u64) < k - read[n];
                read[n] = k;
                floor[n] = match top.last() {
                    Some(s) if !exhausted[n] => w.score_at(s.normalized, opts.now_millis).max(0.0),
                    _ => 0.0,
                };
                for s in top {
                    let rows = listed.entry(s.person.clone()).or_default();
                    if s.normalized > 0.0 && !rows.iter().any(|r| r.normalized > 0.0) {
                        seen.push(s.person.clone());
                    }
                    rows.push(s);
                }
            }
            // Everyone whose every need is known already ranks exactly; someone still
            // unknown on a need is read only if their best case (a list's last score for
            // each need they are missing from) could reach the page as it stands.
            let complete = |p: &String| {
                fetched.contains_key(p) || {
                    let rows = listed.get(p).map_or(&[][..], Vec::as_slice);
                    needs
                        .iter()
                        .enumerate()
                        .all(|(n, need)| exhausted[n] || rows.iter().any(|r| r.item == need.item))
                }
            };
            let known: Vec<PersonItem> = seen
                .iter()
                .filter(|p| complete(p))
                .flat_map(|p| sums_of(&fetched, &listed, p))
                .cloned()
                .collect();
            let mut fits: Vec<f64> = self
                .standings(needs, &known, opts.now_millis)
                .iter()
                .map(|s| s.fit)
                .collect();
            fits.sort_by(|a, b| b.total_cmp(a));
            let page_floor = match wanted {
                0 => f64::INFINITY,
                n => fits
                    .get(n as usize - 1)
                    .copied()
                    .unwrap_or(f64::NEG_INFINITY),
            };
            let unknown: Vec<String> = seen
                .iter()
                .filter(|p| !complete(p))
                .filter(|p| {
                    let rows = listed.get(*p).map_or(&[][..], Vec::as_slice);
                    let best = needs
                        .iter()
                        .enumerate()
                        .map(|(n, need)| {
                            let score = rows
                                .iter()
                                .find(|r| r.item == need.item)
                                .map_or(floor[n], |r| w.score_at(r.normalized, opts.now_millis));
                            progress(w, score, need.level)
                        })
                        .sum::<f64>()
                        / needs.len().max(1) as f64;
                    best >= page_floor
                })
                .cloned()
                .collect();
            if !unknown.is_empty() {
                for person in &unknown {
                    fetched.insert(person.clone(), Vec::new());
                }
                let items: Vec<String> = needs.iter().map(|n| n.item.clone()).collect();
                for s in self
                    .store()
                    .evidence
                    .person_sums(tenant, &unknown, &items)
                    .await?
                {
                    if let Some(rows) = fetched.get_mut(&s.person) {
                        rows.push(s);
                    }
                }
            }
            // Those left unknown cannot reach the page; they rank below it on what is known.
            let sums: Vec<PersonItem> = seen
                .iter()
                .flat_map(|p| sums_of(&fetched, &listed, p))
                .cloned()
                .collect();
            let mut ranked: Vec<Standing> = self
                .standings(needs, &sums, opts.now_millis)
                .into_iter()
                .filter(|s| s.fit > 0.0)
                .collect();
            ranked.sort_by(|a, b| {
                b.fit
                    .total_cmp(&a.fit)
                    .then(b.met.cmp(&a.met))
                    .then(b.last_millis.cmp(&a.last_millis))
                    .then_with(|| a.person.cmp(&b.person))
            });
            let done = exhausted.iter().all(|e| *e);
            let unseen = needs
                .iter()
                .zip(&floor)
                .map(|(need, c)| progress(w, *c, need.level))
                .sum::<f64>()
                / needs.len().max(1) as f64;
            let last = match wanted {
                0 => Some(f64::INFINITY),
                n => ranked.get(n as usize - 1).map(|s| s.fit),
            };
            if done || last.is_some_and(|f| f >= unseen) || k >= MAX_POOL {
                let more = ranked.len() as u64 > wanted || (!done && unseen > 0.0);
                break (ranked, more);
            }
            k = (k * 4).min(MAX_POOL);
        };
        let page: Vec<Standing> = ranked
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect();
        // One read for the page's rows, then each person's identity, concurrently.
        let people: Vec<String> = page.iter().map(|s| s.person.clone()).collect();
        let items: Vec<String> = needs.iter().map(|n| n.item.clone()).collect();
        let all_rows = self
            .store()
            .evidence
            .people_evidence(tenant, &people, &items)
            .await?;
        let mut rows_of: HashMap<&str, Vec<EvidenceRow>> = HashMap::new();
        for row in &all_rows {
            rows_of
                .entry(row.person.as_str())
                .or_default()
                .push(row.clone());
        }
        let identities = futures_util::future::try_join_all(page.iter().map(|standing| {
            let rows = rows_of
                .get(standing.person.as_str())
                .map_or(&[][..], Vec::as_slice);
            self.identity_of(tenant, &standing.person, rows)
        }))
        .await?;
        let mut candidates = Vec::with_capacity(page.len());
        for (n, (standing, (agent, name))) in page.into_iter().zip(identities).enumerate() {
            let rows = rows_of
                .get(standing.person.as_str())
                .map_or(&[][..], Vec::as_slice);
            candidates.push(Candidate {
                rank: offset + n as u64 + 1,
                fit: self.fit(&tagger, needs, rows, opts),
                person: standing.person,
                agent,
                name,
            });
        }
        Ok(Candidates {
            opportunity: opportunity.id,
            name: opportunity.name,
            candidates,
            next_offset: more.then_some(wanted),
        })
    }

    /// One identity of a person as an Agent, and a name it was given in statements.
    async fn identity_of(
        &self,
        tenant: TenantId,
        person: &str,
        rows: &[EvidenceRow],
    ) -> EvidenceResult<(Option<Value>, Option<String>)> {
        let linked = self
            .store()
            .people
            .person_identities(tenant, person)
            .await?;
        let ifi = linked
            .first()
            .map(|l| l.ifi.clone())
            .or_else(|| rows.first().map(|r| r.item.identity.clone()));
        let Some(ifi) = ifi else {
            return Ok((None, None));
        };
        let name = self
            .store()
            .actors
            .agent_names(tenant, &ifi)
            .await?
            .into_iter()
            .next();
        Ok((agent_of_ifi(&ifi), name))
    }

    /// A person's standing against needs, from their rows for the needs' items.
    fn fit(&self, tagger: &Tagger, needs: &[Need], rows: &[EvidenceRow], opts: Options) -> Fit {
        let w = self.weights();
        let (mut met, mut gaps, mut total, mut last) = (Vec::new(), Vec::new(), 0.0, None);
        for need in needs {
            let mine: Vec<&EvidenceRow> =
                rows.iter().filter(|r| r.item.item == need.item).collect();
            let scored = score(
                mine.iter().map(|r| &r.item),
                w,
                opts.now_millis,
                opts.proofs,
            );
            if let Some(newest) = mine.iter().map(|r| r.item.at_millis).max() {
                last = Some(last.map_or(newest, |l: i64| l.max(newest)));
            }
            let (score, level, proofs) =
                scored.map_or((0.0, 0, Vec::new()), |s| (s.score, s.level, s.proofs));
            total += progress(w, score, need.level);
            let name = tagger.item(&need.item).map(|k| k.name.clone());
            if level >= need.level {
                met.push(Met {
                    item: need.item.clone(),
                    name,
                    level,
                    target: need.level,
                    score,
                    proofs,
                });
            } else {
                gaps.push(Short {
                    item: need.item.clone(),
                    name,
                    level,
                    target: need.level,
                    gap: need.level - level,
                    score,
                    target_score: w.level_start(need.level),
                    proofs,
                });
            }
        }
        let recency_days = last.map(|l| ((opts.now_millis - l) / DAY_MILLIS).max(0));
        let fit = total / needs.len().max(1) as f64;
        let explanation = explain(tagger, needs.len(), &met, &gaps, recency_days);
        Fit {
            fit,
            met,
            gaps,
            recency_days,
            explanation,
        }
    }

    /// The open opportunities a person fits best, at most `limit`.
    pub async fn person_opportunities(
        &self,
        tenant: TenantId,
        person: Person,
        limit: usize,
        opts: Options,
    ) -> EvidenceResult<PersonOpportunities> {
        let tagger = self.tagger(tenant).await?;
        let open = self
            .opportunities(tenant, Some("open"), None, MAX_OPEN)
            .await?;
        let sums = self
            .store()
            .evidence
            .person_items(tenant, std::slice::from_ref(&person.id))
            .await?;
        let mut ranked: Vec<(Standing, Opportunity)> = open
            .into_iter()
            .map(|o| {
                let standing = self
                    .standings(&o.needs, &sums, opts.now_millis)
                    .pop()
                    .unwrap_or(Standing {
                        person: person.id.clone(),
                        fit: 0.0,
                        met: 0,
                        last_millis: i64::MIN,
                    });
                (standing, o)
            })
            .collect();
        ranked.sort_by(|(a, oa), (b, ob)| {
            b.fit
                .total_cmp(&a.fit)
                .then(b.met.cmp(&a.met))
                .then_with(|| oa.id.cmp(&ob.id))
        });
        ranked.truncate(limit);
        let rows = self
            .store()
            .evidence
            .person_evidence(tenant, &person.id, None)
            .await?;
        let opportunities = ranked
            .into_iter()
            .map(|(_, o)| PersonOpportunity {
                fit: self.fit(&tagger, &o.needs, &rows, opts),
                opportunity: o,
            })
            .collect();
        Ok(PersonOpportunities {
            person,
            opportunities,
        })
    }
}

/// The sentence under a fit: which needs are met (and how), which are short and by how much,
/// and how recent the evidence is.
fn explain(
    tagger: &Tagger,
    needs: usize,
    met: &[Met],
    gaps: &[Short],
    recency_days: Option<i64>,
) -> String {
    let label = |iri: &str| item_ref(tagger, iri).name.unwrap_or_else(|| iri.to_owned());
    let mut parts = vec![format!("Meets {} of {} needs", met.len(), needs)];
    if !met.is_empty() {
        let list: Vec<String> = met
            .iter()
            .map(|m| {
                format!(
                    "{} at level {} (needs {}, {} proof{})",
                    label(&m.item),
                    m.level,
                    m.target,
                    m.proofs.len(),
                    if m.proofs.len() == 1 { "" } else { "s" }
                )
            })
            .collect();
        parts[0].push_str(&format!(": {}", list.join("; ")));
    }
    if !gaps.is_empty() {
        let list: Vec<String> = gaps
            .iter()
            .map(|g| {
                format!(
                    "{} by {} level{} (at {}, needs {})",
                    label(&g.item),
                    g.gap,
                    if g.gap == 1 { "" } else { "s" },
                    g.level,
                    g.target
                )
            })
            .collect();
        parts.push(format!("short of {}", list.join("; ")));
    }
    match recency_days {
        Some(d) => parts.push(format!("newest evidence {d} days old")),
        None => parts.push("no evidence for these needs yet".into()),
    }
    let mut text = parts.join("; ");
    text.push('.');
    text
}

/// A person's sums as read so far: those fetched for them, else those their rankings listed.
fn sums_of<'a>(
    fetched: &'a HashMap<String, Vec<PersonItem>>,
    listed: &'a HashMap<String, Vec<PersonItem>>,
    person: &str,
) -> &'a [PersonItem] {
    fetched
        .get(person)
        .or_else(|| listed.get(person))
        .map_or(&[][..], Vec::as_slice)
}
