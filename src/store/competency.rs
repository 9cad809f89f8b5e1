//! The storage contract of competency frameworks, tagging rules, the activity catalog and
//! statement tags. Every change to frameworks or rules bumps the tenant's tagging revision,
//! which is how gateways learn that their compiled tagger is stale.

use std::collections::HashMap;

use async_trait::async_trait;

use serde::{Deserialize, Serialize};

use super::evidence::EvidenceItem;
use super::{StoreError, StoreResult, TenantId};

/// How a tag was found, strongest kind of evidence first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The statement names the item itself (object or context activity).
    Explicit,
    /// The activity's catalog entry or definition extension aligns it with the item.
    Catalog,
    /// A tagging rule matched.
    Rule,
    /// The activity's name or description matched the item's words.
    Text,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Explicit => "explicit",
            Method::Catalog => "catalog",
            Method::Rule => "rule",
            Method::Text => "text",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [
            Method::Explicit,
            Method::Catalog,
            Method::Rule,
            Method::Text,
        ]
        .into_iter()
        .find(|m| m.name() == name)
    }
}

/// One tag of a statement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    pub item: String,
    pub framework: String,
    pub confidence: f64,
    pub method: Method,
    /// The rule's id, for `rule` tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What matched: the context slot, the catalog source, or the terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// An alignment of an activity with an item, kept in the activity catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alignment {
    pub item: String,
    #[serde(default = "default_alignment_confidence")]
    pub confidence: f64,
    /// Where it came from, e.g. `linkedin-learning` or `manual`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

pub fn default_alignment_confidence() -> f64 {
    0.9
}

/// Tags as backends keep them: a JSON array, `None` for none.
pub fn tags_json(tags: &[Tag]) -> StoreResult<Option<String>> {
    if tags.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(tags)
        .map(Some)
        .map_err(|e| StoreError::Backend(e.into()))
}

/// Tags back from [`tags_json`].
pub fn parse_tags(text: Option<&str>) -> StoreResult<Vec<Tag>> {
    text.map_or(Ok(Vec::new()), |t| {
        serde_json::from_str(t).map_err(|e| StoreError::Backend(e.into()))
    })
}

/// One stored version of a framework.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameworkRecord {
    /// Server-assigned id of this version.
    pub id: String,
    pub iri: String,
    pub version: String,
    pub active: bool,
    /// The framework as JSON text (the schema's shape).
    pub body: String,
    pub created_millis: i64,
    pub updated_millis: i64,
}

/// A tagging rule as stored: its id and JSON text.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRecord {
    pub id: String,
    pub body: String,
    pub updated_millis: i64,
}

/// A statement's tags, and the position to continue a retag from.
#[derive(Debug, Clone, PartialEq)]
pub struct TaggedStatement {
    pub id: String,
    /// The statement as stored.
    pub body: String,
    pub tags: Vec<Tag>,
}

/// A statement's new tags and the evidence they give.
#[derive(Debug, Clone, PartialEq)]
pub struct Retagged {
    pub id: String,
    pub tags: Vec<Tag>,
    pub evidence: Vec<EvidenceItem>,
}

/// A page of statements for retagging, in storage order.
pub struct RetagPage {
    pub statements: Vec<TaggedStatement>,
    /// Where the next page starts; `None` after the last.
    pub next: Option<String>,
}

#[async_trait]
pub trait CompetencyStore: Send + Sync {
    /// Increases on every framework or rule change; 0 for a tenant never configured.
    async fn tagging_revision(&self, tenant: TenantId) -> StoreResult<i64>;

    /// Adds a framework version; `Conflict` when its IRI and version exist.
    async fn insert_framework(&self, tenant: TenantId, record: FrameworkRecord) -> StoreResult<()>;
    /// Every stored framework version, oldest first.
    async fn frameworks(&self, tenant: TenantId) -> StoreResult<Vec<FrameworkRecord>>;
    async fn framework(&self, tenant: TenantId, id: &str) -> StoreResult<Option<FrameworkRecord>>;
    /// Whether the framework exists.
    async fn set_framework_active(
        &self,
        tenant: TenantId,
        id: &str,
        active: bool,
    ) -> StoreResult<bool>;
    async fn delete_framework(&self, tenant: TenantId, id: &str) -> StoreResult<bool>;

    /// Creates or replaces a rule; whether it was new.
    async fn put_rule(&self, tenant: TenantId, rule: RuleRecord) -> StoreResult<bool>;
    /// Every rule, by id.
    async fn rules(&self, tenant: TenantId) -> StoreResult<Vec<RuleRecord>>;
    async fn delete_rule(&self, tenant: TenantId, id: &str) -> StoreResult<bool>;

    /// Sets the catalog alignments of an activity (an empty list removes its entry).
    async fn put_alignments(
        &self,
        tenant: TenantId,
        activity_id: &str,
        alignments: Vec<Alignment>,
    ) -> StoreResult<()>;
    /// The alignments of those of `activity_ids` the catalog has.
    async fn alignments(
        &self,
        tenant: TenantId,
        activity_ids: &[String],
    ) -> StoreResult<HashMap<String, Vec<Alignment>>>;
    /// A page of the catalog, by activity id, after `after`.
    async fn catalog(
        &self,
        tenant: TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<(String, Vec<Alignment>)>>;

    /// The tags of a statement; `None` when the tenant has no such statement.
    async fn statement_tags(&self, tenant: TenantId, id: &str) -> StoreResult<Option<Vec<Tag>>>;
    /// A page of non-voided statements with their tags, for retagging.
    async fn retag_page(
        &self,
        tenant: TenantId,
        after: Option<String>,
        limit: usize,
    ) -> StoreResult<RetagPage>;
    /// Replaces the tags and evidence of statements; voided ones are left alone.
    async fn replace_tags(&self, tenant: TenantId, retagged: Vec<Retagged>) -> StoreResult<()>;
}
