//! What the HTTP surface, ingest and the CLI ask of competencies: each tenant's compiled
//! tagger (recompiled when the tenant's tagging revision moves, checked at most once a
//! second, so a change made through another gateway applies within a second), the
//! management of frameworks, rules and the catalog with their validation, and the tags of
//! statements, which the ingest pipeline asks for.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::case;
use super::model::{default_framework, Framework, FrameworkValidator};
use super::rules::Rule;
use super::tagger::{preferred_text, ActivityFacts, Alignment, Tag, Tagger, TextSettings};
use super::{CompetencyError, CompetencyResult};
use crate::store::competency::{FrameworkRecord, RuleRecord};
use crate::store::{Store, StoreError, TenantId};
use crate::xapi::json::at;
use crate::xapi::validate::Violation;

/// How stale a gateway's view of another gateway's tagging changes may be.
const REVISION_CHECK: Duration = Duration::from_secs(1);

struct Compiled {
    revision: i64,
    checked: Instant,
    tagger: Arc<Tagger>,
}

pub struct Competencies {
    store: Store,
    validator: FrameworkValidator,
    text: TextSettings,
    /// Whether ingest tags statements (retagging works either way).
    at_ingest: bool,
    compiled: RwLock<HashMap<TenantId, Compiled>>,
}

/// A framework version as listed.
#[derive(Debug, Clone, Serialize)]
pub struct FrameworkSummary {
    pub id: String,
    pub iri: String,
    pub version: String,
    pub title: String,
    pub active: bool,
    pub items: usize,
    pub created: String,
    pub updated: String,
}

/// A framework version with its content.
#[derive(Debug, Clone, Serialize)]
pub struct FrameworkView {
    #[serde(flatten)]
    pub summary: FrameworkSummary,
    pub framework: Framework,
}

/// A statement's tag as the API shows it: the item's name and kind resolved.
#[derive(Debug, Clone, Serialize)]
pub struct TagView {
    pub item: String,
    pub name: Option<String>,
    pub kind: Option<super::ItemKind>,
    pub framework: String,
    pub confidence: f64,
    pub method: super::Method,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

fn parse_stored(record: &FrameworkRecord) -> CompetencyResult<Framework> {
    serde_json::from_str(&record.body).map_err(|e| CompetencyError::from(anyhow::Error::from(e)))
}

fn summary_of(record: &FrameworkRecord, framework: &Framework) -> FrameworkSummary {
    FrameworkSummary {
        id: record.id.clone(),
        iri: record.iri.clone(),
        version: record.version.clone(),
        title: framework.title.clone(),
        active: record.active,
        items: framework.items.len(),
        created: crate::xapi::time::format_millis(record.created_millis),
        updated: crate::xapi::time::format_millis(record.updated_millis),
    }
}

impl Competencies {
    /// `text` tunes the text method; `at_ingest` says whether ingest tags statements.
    pub fn new(store: Store, text: TextSettings, at_ingest: bool) -> anyhow::Result<Self> {
        Ok(Competencies {
            store,
            validator: FrameworkValidator::new()?,
            text,
            at_ingest,
            compiled: RwLock::new(HashMap::new()),
        })
    }

    /// Whether ingest tags the statements it stores.
    pub fn tags_at_ingest(&self) -> bool {
        self.at_ingest
    }

    /// The tenant's tagger, current to within [`REVISION_CHECK`] (at once for changes
    /// made through this gateway). A tenant never configured gets the default framework.
    pub async fn tagger(&self, tenant: TenantId) -> CompetencyResult<Arc<Tagger>> {
        if let Some(fresh) = self.cached(tenant, |c| c.checked.elapsed() < REVISION_CHECK) {
            return Ok(fresh);
        }
        let mut revision = self.store.competencies.tagging_revision(tenant).await?;
        if let Some(same) = self.cached(tenant, |c| c.revision == revision) {
            self.touch(tenant);
            return Ok(same);
        }
        if revision == 0 {
            self.install_default(tenant).await?;
            revision = self.store.competencies.tagging_revision(tenant).await?;
        }
        let tagger = Arc::new(self.compile(tenant).await?);
        if let Ok(mut map) = self.compiled.write() {
            map.insert(
                tenant,
                Compiled {
                    revision,
                    checked: Instant::now(),
                    tagger: tagger.clone(),
                },
            );
        }
        Ok(tagger)
    }

    fn cached(&self, tenant: TenantId, usable: impl Fn(&Compiled) -> bool) -> Option<Arc<Tagger>> {
        let map = self.compiled.read().ok()?;
        map.get(&tenant)
            .filter(|c| usable(c))
            .map(|c| c.tagger.clone())
    }

    fn touch(&self, tenant: TenantId) {
        if let Some(c) = self
            .compiled
            .write()
            .ok()
            .as_mut()
            .and_then(|m| m.get_mut(&tenant))
        {
            c.checked = Instant::now();
        }
    }

    /// Forgets the tenant's tagger after a change made here.
    fn invalidate(&self, tenant: TenantId) {
        if let Ok(mut map) = self.compiled.write() {
            map.remove(&tenant);
        }
    }

    async fn install_default(&self, tenant: TenantId) -> CompetencyResult<()> {
        let framework = default_framework()?;
        match self.insert(tenant, framework, true).await {
            // Another gateway installed it first.
            Ok(_) | Err(CompetencyError::Store(StoreError::Conflict(_))) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn compile(&self, tenant: TenantId) -> CompetencyResult<Tagger> {
        let frameworks = self
            .store
            .competencies
            .frameworks(tenant)
            .await?
            .iter()
            .filter(|r| r.active)
            .map(parse_stored)
            .collect::<CompetencyResult<Vec<_>>>()?;
        let rules = self
            .store
            .competencies
            .rules(tenant)
            .await?
            .iter()
            .filter_map(|r| {
                let parsed = serde_json::from_str::<Value>(&r.body)
                    .ok()
                    .and_then(|v| Rule::parse(&v).ok());
                if parsed.is_none() {
                    tracing::warn!(tenant, rule = %r.id, "a stored tagging rule no longer parses; skipped");
                }
                parsed
            })
            .collect();
        Ok(Tagger::new(&frameworks, rules, self.text))
    }

    /// The tags of each statement, with the catalog's alignments and stored activity
    /// definitions looked up once for the batch.
    pub async fn tag_statements(
        &self,
        tenant: TenantId,
        statements: &[Value],
    ) -> CompetencyResult<Vec<Vec<Tag>>> {
        let tagger = self.tagger(tenant).await?;
        let mut object_ids: Vec<String> = statements
            .iter()
            .filter_map(|s| object_activity_id(s).map(str::to_owned))
            .collect();
        object_ids.sort_unstable();
        object_ids.dedup();
        let alignments = self
            .store
            .competencies
            .alignments(tenant, &object_ids)
            .await?;
        // Stored definitions of the activities whose statements carry no text, once each.
        let mut stored: HashMap<&str, Option<Value>> = HashMap::new();
        for statement in statements.iter().filter(|s| !has_text(s)) {
            if let Some(id) = object_activity_id(statement) {
                if !stored.contains_key(id) {
                    let definition = self.store.actors.activity_definition(tenant, id).await?;
                    stored.insert(id, definition);
                }
            }
        }
        let mut out = Vec::with_capacity(statements.len());
        for statement in statements {
            let id = object_activity_id(statement);
            let facts = ActivityFacts {
                alignments: id
                    .and_then(|id| alignments.get(id))
                    .map_or(&[][..], Vec::as_slice),
                stored_definition: id
                    .filter(|_| !has_text(statement))
                    .and_then(|id| stored.get(id))
                    .and_then(Option::as_ref),
            };
            out.push(tagger.tag(statement, &facts));
        }
        Ok(out)
    }

    /// A statement's tags with item names; `NotFound` when the tenant has no such statement.
    pub async fn statement_tags(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> CompetencyResult<Vec<TagView>> {
        let tags = self
            .store
            .competencies
            .statement_tags(tenant, &id.to_ascii_lowercase())
            .await?
            .ok_or_else(|| CompetencyError::NotFound(format!("no statement {id}")))?;
        let tagger = self.tagger(tenant).await?;
        Ok(tags
            .into_iter()
            .map(|t| {
                let known = tagger.item(&t.item);
                TagView {
                    name: known.map(|k| k.name.clone()),
                    kind: known.map(|k| k.kind),
                    item: t.item,
                    framework: t.framework,
                    confidence: t.confidence,
                    method: t.method,
                    rule: t.rule,
                    detail: t.detail,
                }
            })
            .collect())
    }

    // --- frameworks ---

    /// Validates and stores a framework version: our JSON, or an IMS CASE package.
    pub async fn create_framework(
        &self,
        tenant: TenantId,
        body: &Value,
        active: bool,
    ) -> CompetencyResult<FrameworkView> {
        let framework = if case::is_case_package(body) {
            let converted = case::import(body).map_err(CompetencyError::Invalid)?;
            let as_json = serde_json::to_value(&converted)
                .map_err(|e| CompetencyError::from(anyhow::Error::from(e)))?;
            self.validator
                .parse(&as_json)
                .map_err(CompetencyError::Invalid)?
        } else {
            self.validator
                .parse(body)
                .map_err(CompetencyError::Invalid)?
        };
        // Make sure a new tenant's default framework is in before its first own one.
        self.tagger(tenant).await?;
        self.insert(tenant, framework, active).await
    }

    async fn insert(
        &self,
        tenant: TenantId,
        framework: Framework,
        active: bool,
    ) -> CompetencyResult<FrameworkView> {
        let now = chrono::Utc::now().timestamp_millis();
        let record = FrameworkRecord {
            id: uuid::Uuid::new_v4().to_string(),
            iri: framework.iri.clone(),
            version: framework.version.clone(),
            active,
            body: serde_json::to_string(&framework)
                .map_err(|e| CompetencyError::from(anyhow::Error::from(e)))?,
            created_millis: now,
            updated_millis: now,
        };
        self.store
            .competencies
            .insert_framework(tenant, record.clone())
            .await?;
        self.invalidate(tenant);
        Ok(FrameworkView {
            summary: summary_of(&record, &framework),
            framework,
        })
    }

    pub async fn frameworks(&self, tenant: TenantId) -> CompetencyResult<Vec<FrameworkSummary>> {
        self.tagger(tenant).await?;
        self.store
            .competencies
            .frameworks(tenant)
            .await?
            .iter()
            .map(|r| Ok(summary_of(r, &parse_stored(r)?)))
            .collect()
    }

    pub async fn framework(&self, tenant: TenantId, id: &str) -> CompetencyResult<FrameworkView> {
        let record = self
            .store
            .competencies
            .framework(tenant, id)
            .await?
            .ok_or_else(|| CompetencyError::NotFound(format!("no framework {id}")))?;
        let framework = parse_stored(&record)?;
        Ok(FrameworkView {
            summary: summary_of(&record, &framework),
            framework,
        })
    }

    pub async fn set_framework_active(
        &self,
        tenant: TenantId,
        id: &str,
        active: bool,
    ) -> CompetencyResult<FrameworkView> {
        if !self
            .store
            .competencies
            .set_framework_active(tenant, id, active)
            .await?
        {
            return Err(CompetencyError::NotFound(format!("no framework {id}")));
        }
        self.invalidate(tenant);
        self.framework(tenant, id).await
    }

    pub async fn delete_framework(&self, tenant: TenantId, id: &str) -> CompetencyResult<()> {
        if !self.store.competencies.delete_framework(tenant, id).await? {
            return Err(CompetencyError::NotFound(format!("no framework {id}")));
        }
        self.invalidate(tenant);
        Ok(())
    }

    // --- rules ---

    /// Creates or replaces a rule after checking it names only known items; whether new.
    pub async fn put_rule(&self, tenant: TenantId, body: &Value) -> CompetencyResult<(Rule, bool)> {
        let rule = Rule::parse(body).map_err(CompetencyError::Invalid)?;
        self.check_items(tenant, rule.items.iter(), "/items")
            .await?;
        let record = RuleRecord {
            id: rule.id.clone(),
            body: serde_json::to_string(&rule)
                .map_err(|e| CompetencyError::from(anyhow::Error::from(e)))?,
            updated_millis: chrono::Utc::now().timestamp_millis(),
        };
        let created = self.store.competencies.put_rule(tenant, record).await?;
        self.invalidate(tenant);
        Ok((rule, created))
    }

    pub async fn rules(&self, tenant: TenantId) -> CompetencyResult<Vec<Value>> {
        self.store
            .competencies
            .rules(tenant)
            .await?
            .iter()
            .map(|r| {
                serde_json::from_str(&r.body)
                    .map_err(|e| CompetencyError::from(anyhow::Error::from(e)))
            })
            .collect()
    }

    pub async fn rule(&self, tenant: TenantId, id: &str) -> CompetencyResult<Value> {
        let rules = self.store.competencies.rules(tenant).await?;
        let found = rules
            .iter()
            .find(|r| r.id == id)
            .ok_or_else(|| CompetencyError::NotFound(format!("no tagging rule {id}")))?;
        serde_json::from_str(&found.body).map_err(|e| CompetencyError::from(anyhow::Error::from(e)))
    }

    pub async fn delete_rule(&self, tenant: TenantId, id: &str) -> CompetencyResult<()> {
        if !self.store.competencies.delete_rule(tenant, id).await? {
            return Err(CompetencyError::NotFound(format!("no tagging rule {id}")));
        }
        self.invalidate(tenant);
        Ok(())
    }

    // --- catalog ---

    pub async fn put_alignments(
        &self,
        tenant: TenantId,
        activity_id: &str,
        alignments: Vec<Alignment>,
    ) -> CompetencyResult<()> {
        for (i, a) in alignments.iter().enumerate() {
            if !(0.0..=1.0).contains(&a.confidence) {
                return Err(Violation::new(
                    format!("/alignments/{i}/confidence"),
                    "confidence-range",
                    "confidence is between 0 and 1",
                )
                .into());
            }
        }
        self.check_items(tenant, alignments.iter().map(|a| &a.item), "/alignments")
            .await?;
        self.store
            .competencies
            .put_alignments(tenant, activity_id, alignments)
            .await?;
        Ok(())
    }

    pub async fn alignments(
        &self,
        tenant: TenantId,
        activity_id: &str,
    ) -> CompetencyResult<Vec<Alignment>> {
        let mut found = self
            .store
            .competencies
            .alignments(tenant, &[activity_id.to_owned()])
            .await?;
        found.remove(activity_id).ok_or_else(|| {
            CompetencyError::NotFound(format!("activity {activity_id} has no catalog entry"))
        })
    }

    pub async fn catalog(
        &self,
        tenant: TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> CompetencyResult<Vec<(String, Vec<Alignment>)>> {
        Ok(self
            .store
            .competencies
            .catalog(tenant, after, limit)
            .await?)
    }

    /// `Invalid` naming the first item no active framework has.
    async fn check_items<'a>(
        &self,
        tenant: TenantId,
        items: impl Iterator<Item = &'a String>,
        pointer: &str,
    ) -> CompetencyResult<()> {
        let tagger = self.tagger(tenant).await?;
        for (i, item) in items.enumerate() {
            if tagger.item(item).is_none() {
                return Err(CompetencyError::Invalid(Violation::new(
                    format!("{pointer}/{i}"),
                    "known-item",
                    format!("`{item}` is not a taggable item of an active framework"),
                )));
            }
        }
        Ok(())
    }
}

/// The object's id when the object is an Activity.
pub fn object_activity_id(statement: &Value) -> Option<&str> {
    let object = statement.get("object")?;
    let is_activity = object
        .get("objectType")
        .and_then(Value::as_str)
        .is_none_or(|t| t == "Activity");
    is_activity.then(|| object.get("id").and_then(Value::as_str))?
}

/// Whether the statement's own definition has a name or description to match.
fn has_text(statement: &Value) -> bool {
    let definition = at(statement, "/object/definition");
    ["name", "description"]
        .iter()
        .any(|k| preferred_text(definition.and_then(|d| d.get(*k))).is_some())
}
