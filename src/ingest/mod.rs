//! The one ingest pipeline. Every statement — put or posted over HTTP, brought in by a
//! connector, or read back by a retag — goes through the same stages:
//!
//! 1. **validate**: the JSON Schemas and the rules a schema cannot state, unique ids in
//!    the batch, attachments and signatures ([`attachments`]);
//! 2. **assign**: the properties the LRS sets before anything reads the statement (its id
//!    when the client gave none, and the authority of the credential); then the
//!    **equivalence** stage ([`equivalence`]): activity ids with a row in the tenant's
//!    activity-equivalence table count as their canonical ids for stages 3 and 4 (the
//!    statement is stored with the ids as sent);
//! 3. **tag**: the framework items each statement is evidence for ([`Competencies`]);
//! 4. **derive**: the evidence items of those tags and the teams the statement names;
//! 5. **prepare**: the xAPI model's stored form and index keys (this consumes the body,
//!    which is why the stages that read it come first);
//! 6. **store**: one atomic write of the batch with its derived data, then the evidence
//!    stream hears of it.
//!
//! Retagging runs the equivalence stage and stages 3 and 4 over stored statements and replaces what they derived.

pub mod attachments;
pub mod equivalence;
pub mod jobs;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use serde_json::Value;

use crate::competency::{Competencies, CompetencyError, Tag};
use crate::evidence::teams::seen_teams;
use crate::evidence::{evidence_of, EvidenceItem, EvidenceWeights, Feed, FeedEvent, People};
use crate::metrics;
use crate::store::competency::Retagged;
use crate::store::{AttachmentData, NewStatement, Store, StoreError, TenantId};
use crate::xapi::statement::{assign_id, index_keys, prepare, referenced_id, Assigned};
use crate::xapi::PreparedStatement;
use crate::xapi::{Validator, Violation, XapiVersion};
use equivalence::{ActivityMap, Rewrites};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A statement or attachment that breaks a rule; names the field.
    #[error("{0}")]
    Invalid(#[from] Violation),
    #[error(transparent)]
    Competency(#[from] CompetencyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type IngestResult<T> = Result<T, IngestError>;

/// Who sends a batch: the tenant it goes to, the authority the LRS records for it, the
/// xAPI version it speaks, and whether its activity definitions and agent names may
/// update the Activities and Agents resources (the `define` scope).
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub tenant: TenantId,
    pub authority: &'a Value,
    pub version: XapiVersion,
    pub may_define: bool,
}

/// How derived data is made: evidence weights, and whether ingest records evidence at all
/// (retagging always does).
#[derive(Debug, Clone)]
pub struct Derivation {
    pub weights: EvidenceWeights,
    pub record_evidence: bool,
}

pub struct Ingest {
    store: Store,
    validator: Arc<Validator>,
    competencies: Arc<Competencies>,
    derivation: Derivation,
    people: People,
    feed: Feed,
    activity_map: ActivityMap,
}

/// Statements on their way through the stages, with what has been derived for each.
struct Batch {
    bodies: Vec<Value>,
    ids: Vec<String>,
    tags: Vec<Vec<Tag>>,
    evidence: Vec<Vec<EvidenceItem>>,
}

impl Ingest {
    pub fn new(
        store: Store,
        validator: Arc<Validator>,
        competencies: Arc<Competencies>,
        derivation: Derivation,
        people: People,
        feed: Feed,
    ) -> Self {
        Ingest {
            activity_map: ActivityMap::new(store.clone()),
            store,
            validator,
            competencies,
            derivation,
            people,
            feed,
        }
    }

    /// The tenants' activity-equivalence tables, whose writes go through here so the
    /// equivalence stage sees them at once.
    pub fn activity_map(&self) -> &ActivityMap {
        &self.activity_map
    }

    /// Validates and stores statements (one PUT/POST body, or one connector batch) with
    /// the attachment parts that came with them. Returns the statement ids in order. All
    /// or nothing. `batch` says whether errors point into an array (`/3/verb/id`).
    ///
    /// Every batch's outcome is counted here for `/metrics`: statements stored and the
    /// batch's size, or the rule a refused batch broke.
    pub async fn statements(
        &self,
        source: Source<'_>,
        statements: Vec<Value>,
        parts: Vec<AttachmentData>,
        batch: bool,
    ) -> IngestResult<Vec<String>> {
        let outcome = self.store_batch(source, statements, parts, batch).await;
        match &outcome {
            Ok(ids) => metrics::statements_ingested(ids.len()),
            Err(IngestError::Invalid(v)) => metrics::validation_failed(v.rule),
            Err(IngestError::Store(StoreError::Invalid(v))) => metrics::validation_failed(v.rule),
            Err(_) => {}
        }
        outcome
    }

    /// The stages of [`statements`](Self::statements).
    async fn store_batch(
        &self,
        source: Source<'_>,
        statements: Vec<Value>,
        mut parts: Vec<AttachmentData>,
        batch: bool,
    ) -> IngestResult<Vec<String>> {
        self.validate(source.version, &statements, batch)?;
        attachments::check(&statements, &mut parts, batch)?;
        let mut work = assign(statements, source.authority);
        let rewrites = if self.competencies.tags_at_ingest() {
            self.activity_map
                .canonicalize(source.tenant, &mut work.bodies)
                .await?
        } else {
            Rewrites::default()
        };
        work.tags = if self.competencies.tags_at_ingest() {
            self.tag(source.tenant, &work.bodies).await?
        } else {
            vec![Vec::new(); work.bodies.len()]
        };
        if self.derivation.record_evidence {
            self.derive_evidence(&mut work);
        }
        rewrites.undo(&mut work.bodies);
        let records = self.prepare(source, work).await?;
        let ids = records.iter().map(|r| r.statement.id.clone()).collect();
        let announced: Vec<EvidenceItem> = if self.feed.listened() {
            records.iter().flat_map(|r| r.evidence.clone()).collect()
        } else {
            Vec::new()
        };
        self.store
            .statements
            .insert_statements(source.tenant, records, parts)
            .await?;
        self.announce(source.tenant, announced).await;
        Ok(ids)
    }

    /// The tag stage, timed for `/metrics`.
    async fn tag(&self, tenant: TenantId, bodies: &[Value]) -> IngestResult<Vec<Vec<Tag>>> {
        let started = Instant::now();
        let tags = self.competencies.tag_statements(tenant, bodies).await?;
        metrics::tagging_took(started.elapsed());
        Ok(tags)
    }

    /// Schemas and rules per statement, and ids unique within the batch.
    fn validate(
        &self,
        version: XapiVersion,
        statements: &[Value],
        batch: bool,
    ) -> IngestResult<()> {
        let mut seen = HashSet::new();
        for (i, s) in statements.iter().enumerate() {
            let prefix = if batch {
                format!("/{i}")
            } else {
                String::new()
            };
            self.validator
                .statement(version, s)
                .map_err(|v| v.under(&prefix))?;
            if let Some(id) = s.get("id").and_then(Value::as_str) {
                if !seen.insert(id.to_ascii_lowercase()) {
                    return Err(Violation::new(
                        format!("{prefix}/id"),
                        "unique-id",
                        format!("statement id {id} appears twice in the batch"),
                    )
                    .into());
                }
            }
        }
        Ok(())
    }

    /// Evidence of each statement's tags. A statement's `timestamp` or `stored` dates its
    /// evidence; one without either (not stored yet) is dated now.
    fn derive_evidence(&self, work: &mut Batch) {
        let now = chrono::Utc::now().timestamp_millis();
        work.evidence = work
            .bodies
            .iter()
            .zip(&work.ids)
            .zip(&work.tags)
            .map(|((body, id), tags)| {
                // An untagged statement is evidence of nothing: skip reading it.
                if tags.is_empty() {
                    Vec::new()
                } else {
                    evidence_of(body, id, tags, &self.derivation.weights, now)
                }
            })
            .collect();
    }

    /// The xAPI model's stored form of each statement with its derived data. A
    /// StatementRef inherits the index keys of the statements it leads to, so filters also
    /// find statements about a matching statement.
    async fn prepare(&self, source: Source<'_>, work: Batch) -> IngestResult<Vec<NewStatement>> {
        let assigned = Assigned {
            authority: source.authority,
            version: source.version,
        };
        let Batch {
            bodies,
            tags,
            mut evidence,
            ..
        } = work;
        evidence.resize_with(bodies.len(), Vec::new);
        let mut records = Vec::with_capacity(bodies.len());
        for ((body, tags), evidence) in bodies.into_iter().zip(tags).zip(evidence) {
            let teams = seen_teams(&body);
            let mut statement = prepare(body, &assigned);
            if !source.may_define {
                // Stored as sent, but without `define` the Activities and Agents resources
                // are not updated from it.
                statement.activities.clear();
                statement.agent_names.clear();
            }
            self.inherit_targets(source.tenant, &mut statement).await?;
            records.push(NewStatement {
                statement,
                tags,
                evidence,
                teams,
            });
        }
        Ok(records)
    }

    /// A StatementRef inherits the index keys of the statement it targets, and of the one
    /// that one targets, and so on: the rule applies recursively (1.0.3 Communication
    /// 2.1.3.s3, IEEE 9274.1.1 4.1.6.1). Chains are followed to a bounded depth.
    async fn inherit_targets(
        &self,
        tenant: TenantId,
        statement: &mut PreparedStatement,
    ) -> IngestResult<()> {
        const MAX_DEPTH: usize = 16;
        let mut next = statement.references.clone();
        for _ in 0..MAX_DEPTH {
            let Some(target) = next.take() else { break };
            let Some(stored) = self.store.statements.statement(tenant, &target).await? else {
                break;
            };
            statement.inherit_index(&index_keys(&stored.body));
            next = referenced_id(&stored.body);
        }
        Ok(())
    }

    /// Tells stream subscribers about stored evidence, on the people it now counts for.
    async fn announce(&self, tenant: TenantId, evidence: Vec<EvidenceItem>) {
        if evidence.is_empty() {
            return;
        }
        let ifis: Vec<String> = evidence.iter().map(|e| e.identity.clone()).collect();
        let people = match self.people.people_of(tenant, &ifis).await {
            Ok(people) => people,
            Err(e) => {
                tracing::warn!(error = %e, "resolving people for the evidence stream");
                return;
            }
        };
        let events = evidence
            .iter()
            .map(|e| {
                let person = people.get(&e.identity).cloned().unwrap_or_default();
                FeedEvent::new(tenant, person, e)
            })
            .collect();
        self.feed.publish(events);
    }

    /// Recomputes the tags and evidence of every non-voided statement of the tenant, page
    /// by page, through the tag and derive stages; `progress` hears (statements seen,
    /// statements whose tags changed) after each page. Evidence is rewritten for every
    /// statement, so changed weights take effect too.
    pub async fn retag(
        &self,
        tenant: TenantId,
        mut progress: impl FnMut(u64, u64),
    ) -> IngestResult<(u64, u64)> {
        const PAGE: usize = 500;
        let (mut seen, mut changed) = (0_u64, 0_u64);
        let mut after = None;
        loop {
            let page = self
                .store
                .competencies
                .retag_page(tenant, after, PAGE)
                .await?;
            let mut bodies = page
                .statements
                .iter()
                .map(|s| serde_json::from_str::<Value>(&s.body))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| StoreError::Backend(e.into()))?;
            // These bodies are only read, so the rewrites need no undoing.
            let _rewrites = self.activity_map.canonicalize(tenant, &mut bodies).await?;
            let mut work = Batch {
                tags: self.tag(tenant, &bodies).await?,
                ids: page.statements.iter().map(|s| s.id.clone()).collect(),
                bodies,
                evidence: Vec::new(),
            };
            self.derive_evidence(&mut work);
            seen += work.bodies.len() as u64;
            let retagged: Vec<Retagged> = page
                .statements
                .into_iter()
                .zip(work.tags)
                .zip(work.evidence)
                .map(|((old, tags), evidence)| {
                    changed += u64::from(old.tags != tags);
                    Retagged {
                        id: old.id,
                        tags,
                        evidence,
                    }
                })
                .collect();
            if !retagged.is_empty() {
                self.store
                    .competencies
                    .replace_tags(tenant, retagged)
                    .await?;
            }
            progress(seen, changed);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok((seen, changed)),
            }
        }
    }
}

/// The assign stage: every statement gets its id (kept when the client gave one) and the
/// authority of its source, as they will be stored.
fn assign(mut statements: Vec<Value>, authority: &Value) -> Batch {
    let ids = statements
        .iter_mut()
        .map(|s| assign_id(s, authority))
        .collect();
    Batch {
        bodies: statements,
        ids,
        tags: Vec::new(),
        evidence: Vec::new(),
    }
}
