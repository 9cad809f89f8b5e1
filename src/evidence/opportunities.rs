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
//! Candidates are found without reading everyone: each need's ranking (people by their sum
//! for the item, an index) is read a stretch at a time, and the people it names are bounded
//! above and below until the page is settled (see `candidate_pool`). The page's evidence
//! rows are then read in one batch, and its people's identities concurrently.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use super::candidate_pool::{progress, Pool, Standing, Sum, Sums};
use super::people::Person;
use super::scoring::{score, Proof};
use super::service::{item_ref, Evidence, Options};
use super::{EvidenceError, EvidenceResult};
use crate::competency::Tagger;
use crate::store::evidence::{EvidenceRow, RankedSum};
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
        let mut pool = Pool::new(w, needs, opts.now_millis);
        pool.search(
            wanted,
            &StoreSums {
                evidence: self,
                tenant,
                needs,
            },
        )
        .await?;
        let more = pool.more_than(wanted);
        let ranked = pool.ranked();
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
                let of_need = o
                    .needs
                    .iter()
                    .map(|need| sums.iter().find(|s| s.item == need.item).map(Sum::from));
                let standing = Standing::of(
                    self.weights(),
                    &o.needs,
                    &person.id,
                    of_need,
                    opts.now_millis,
                );
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

/// A candidates search's sums, from the store.
struct StoreSums<'a> {
    evidence: &'a Evidence,
    tenant: TenantId,
    needs: &'a [Need],
}

impl Sums for StoreSums<'_> {
    async fn ranked(&self, n: usize, offset: u64, limit: u64) -> EvidenceResult<Vec<RankedSum>> {
        let item = &self.needs[n].item;
        let store = &self.evidence.store().evidence;
        Ok(store.ranked_sums(self.tenant, item, offset, limit).await?)
    }

    async fn sums(&self, n: usize, people: &[String]) -> EvidenceResult<Vec<RankedSum>> {
        let items = std::slice::from_ref(&self.needs[n].item);
        let store = &self.evidence.store().evidence;
        let sums = store.person_sums(self.tenant, people, items).await?;
        Ok(sums.into_iter().map(RankedSum::from).collect())
    }
}
