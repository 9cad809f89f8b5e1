//! The storage contract of privacy operations: everything held about a person (for an
//! export), erasing a person, deleting statements by age (retention policies), and the
//! audit records both leave. Also the backend-neutral rules both backends apply: which
//! statements a person appears in, how a statement that only mentions them is
//! pseudonymised, and which statements a retention policy covers.
//!
//! Erasure, per the issue that asked for it: statements whose actor is one of the person's
//! identities are removed with everything derived from them (index rows, tags, evidence,
//! activity statistics, attachments no other statement uses, a forwarder's dead letters);
//! statements that only mention the person keep their place with every identity of the
//! person replaced by one pseudonymous account, in the body and in every index key, so no
//! query by an old identifier finds them. Documents keyed by the person's identities,
//! their names in the Agents resource, their linked identities and team memberships go.

use std::collections::HashSet;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::evidence::Team;
use super::{Document, DocumentScope, StoreResult, TenantId};
use crate::xapi::agent::{ifi_key, IFI_PROPERTIES};
use crate::xapi::{IndexKey, IndexKind};

/// The home page of the accounts erased people are replaced by: a reserved name (RFC
/// 2606), so no real system's accounts can collide with it.
pub const PSEUDONYM_HOME: &str = "https://lrsgate.invalid/erased";

/// A person as the store finds them: the IFI keys of every identity, and every person id
/// they are known by (their linked person, and each identity's own).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonKeys {
    pub ifis: Vec<String>,
    pub people: Vec<String>,
}

/// A statement a person appears in, as held.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldStatement {
    pub body: Value,
    pub voided: bool,
    pub stored_millis: i64,
    /// Its competency tags (a JSON array), if any.
    pub tags: Option<Value>,
}

/// One page of a person's statements, in storage order.
#[derive(Debug, Clone, Default)]
pub struct HeldPage {
    pub statements: Vec<HeldStatement>,
    /// Where the next page starts; `None` after the last.
    pub next: Option<i64>,
}

/// A State or Agent Profile document keyed by one of a person's identities.
#[derive(Debug, Clone)]
pub struct HeldDocument {
    pub scope: DocumentScope,
    pub id: String,
    pub document: Document,
}

/// What an erasure does: whose identities go, and what replaces them where they are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErasePlan {
    pub ifis: Vec<String>,
    pub people: Vec<String>,
    /// The `name` of the pseudonymous account (see [`pseudonym`]).
    pub pseudonym: String,
    /// The audit record written when the erasure completes (its counts filled in then).
    pub audit: AuditRecord,
}

/// What an erasure removed or changed (or, in a dry run, would): counts only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EraseCounts {
    /// Statements whose actor was the person, removed.
    pub statements_deleted: u64,
    /// Statements that only mention the person, kept with a pseudonymous account.
    pub statements_pseudonymised: u64,
    /// Attachment contents no remaining statement uses, removed.
    pub attachments_deleted: u64,
    /// State and Agent Profile documents of the person's identities.
    pub documents_deleted: u64,
    /// Names of the person's identities in the Agents resource.
    pub agent_names_deleted: u64,
    /// Linked identities of the person.
    pub identities_deleted: u64,
    /// Memberships of the person's identities in teams.
    pub team_memberships_deleted: u64,
    /// A forwarder's dead letters of removed statements.
    pub dead_letters_deleted: u64,
}

/// What a retention run removed (or, in a dry run, would).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionCounts {
    pub statements_deleted: u64,
    pub attachments_deleted: u64,
    pub dead_letters_deleted: u64,
}

impl std::ops::AddAssign for RetentionCounts {
    fn add_assign(&mut self, o: Self) {
        self.statements_deleted += o.statements_deleted;
        self.attachments_deleted += o.attachments_deleted;
        self.dead_letters_deleted += o.dead_letters_deleted;
    }
}

/// A record of a privacy operation: who asked (a credential key, `operator`, `cli` or
/// `retention`), when, and counts. It never holds personal data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Time-ordered: pages of records follow it.
    pub id: String,
    /// `erase` or `retention`.
    pub action: String,
    pub by: String,
    pub at_millis: i64,
    /// The retention policy applied, for `retention`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    pub counts: Value,
}

impl AuditRecord {
    /// A new record made now, its counts still empty.
    pub fn new(action: &str, by: &str, policy: Option<String>) -> Self {
        let at_millis = chrono::Utc::now().timestamp_millis();
        let id = format!(
            "{at_millis:013}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        AuditRecord {
            id,
            action: action.to_owned(),
            by: by.to_owned(),
            at_millis,
            policy,
            counts: json!({}),
        }
    }
}

/// A tenant's retention policy: statements stored more than `older_than_days` ago go,
/// optionally only those with this verb and/or an object activity id with this prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    pub id: String,
    pub older_than_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_prefix: Option<String>,
}

impl RetentionPolicy {
    /// Whether the policy covers a statement (its age is checked by the store, on `stored`).
    pub fn covers(&self, body: &Value) -> bool {
        let verb_ok = self
            .verb
            .as_deref()
            .is_none_or(|verb| body.pointer("/verb/id").and_then(Value::as_str) == Some(verb));
        let activity_ok = self.activity_prefix.as_deref().is_none_or(|prefix| {
            let object = body.get("object");
            let is_activity = object
                .and_then(|o| o.get("objectType"))
                .and_then(Value::as_str)
                .is_none_or(|t| t == "Activity");
            is_activity
                && object
                    .and_then(|o| o.get("id"))
                    .and_then(Value::as_str)
                    .is_some_and(|id| id.starts_with(prefix))
        });
        verb_ok && activity_ok
    }
}

#[async_trait]
pub trait PrivacyStore: Send + Sync {
    /// A page of the statements (voided or not) an index row ties to any of the IFIs:
    /// where they are actor, object, in the context or authority, or inherited through
    /// a StatementRef. Callers keep those whose body names the person.
    async fn person_statements(
        &self,
        tenant: TenantId,
        ifis: &[String],
        after: Option<i64>,
        limit: usize,
    ) -> StoreResult<HeldPage>;

    /// State and Agent Profile documents keyed by any of the IFIs.
    async fn person_documents(
        &self,
        tenant: TenantId,
        ifis: &[String],
    ) -> StoreResult<Vec<HeldDocument>>;

    /// Teams with any of the IFIs as a member.
    async fn person_teams(&self, tenant: TenantId, ifis: &[String]) -> StoreResult<Vec<Team>>;

    /// Erases a person (see the module's comment), all or nothing where the backend has
    /// transactions and resumably where it does not; with `dry_run`, only counts. A real
    /// run stores `plan.audit` with the counts.
    async fn erase_person(
        &self,
        tenant: TenantId,
        plan: ErasePlan,
        dry_run: bool,
    ) -> StoreResult<EraseCounts>;

    /// Completes erasures interrupted on a backend without transactions; how many.
    async fn resume_erasures(&self) -> StoreResult<u64>;

    /// Deletes the statements a policy covers that were stored at or before
    /// `cutoff_millis` (with their derived data); with `dry_run`, only counts.
    async fn apply_retention(
        &self,
        tenant: TenantId,
        policy: &RetentionPolicy,
        cutoff_millis: i64,
        dry_run: bool,
    ) -> StoreResult<RetentionCounts>;

    async fn add_audit(&self, tenant: TenantId, record: AuditRecord) -> StoreResult<()>;
    /// A tenant's audit records after `after` (an id), oldest first.
    async fn audit_records(
        &self,
        tenant: TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<AuditRecord>>;

    /// A tenant's retention policies, by id.
    async fn retention_policies(&self, tenant: TenantId) -> StoreResult<Vec<RetentionPolicy>>;
    /// Every tenant's retention policies, for the scheduled job.
    async fn all_retention_policies(&self) -> StoreResult<Vec<(TenantId, RetentionPolicy)>>;
    /// Creates or replaces a policy; whether it was new.
    async fn put_retention_policy(
        &self,
        tenant: TenantId,
        policy: RetentionPolicy,
    ) -> StoreResult<bool>;
    /// Whether it existed.
    async fn delete_retention_policy(&self, tenant: TenantId, id: &str) -> StoreResult<bool>;
}

/// The pseudonymous Agent an erased person's mentions become.
pub fn pseudonym(name: &str) -> Value {
    json!({"objectType": "Agent", "account": {"homePage": PSEUDONYM_HOME, "name": name}})
}

/// The IFI key of [`pseudonym`].
pub fn pseudonym_key(name: &str) -> String {
    format!("account:{PSEUDONYM_HOME}|{name}")
}

/// Whether the statement's actor is one of the identities (then erasure removes it).
pub fn actor_is(body: &Value, ifis: &HashSet<&str>) -> bool {
    body.get("actor")
        .and_then(ifi_key)
        .is_some_and(|k| ifis.contains(k.as_str()))
}

/// Whether any agent object anywhere in the statement is one of the identities.
pub fn mentions(body: &Value, ifis: &HashSet<&str>) -> bool {
    match body {
        Value::Object(obj) => {
            let is_agent = IFI_PROPERTIES.iter().any(|p| obj.contains_key(*p));
            (is_agent && ifi_key(body).is_some_and(|k| ifis.contains(k.as_str())))
                || obj.values().any(|v| mentions(v, ifis))
        }
        Value::Array(items) => items.iter().any(|v| mentions(v, ifis)),
        _ => false,
    }
}

/// Replaces every agent object of one of the identities, wherever it is in the statement,
/// by the pseudonymous account (names go too); whether anything changed.
pub fn pseudonymise(body: &mut Value, ifis: &HashSet<&str>, name: &str) -> bool {
    match body {
        Value::Object(obj) => {
            let is_agent = IFI_PROPERTIES.iter().any(|p| obj.contains_key(*p));
            if is_agent {
                let key = ifi_key(&Value::Object(obj.clone()));
                if key.is_some_and(|k| ifis.contains(k.as_str())) {
                    let mut out = Map::new();
                    // A Group keeps being one (its members are replaced one by one).
                    let kind = obj.get("objectType").cloned();
                    out.insert("objectType".into(), kind.unwrap_or_else(|| json!("Agent")));
                    out.insert(
                        "account".into(),
                        json!({"homePage": PSEUDONYM_HOME, "name": name}),
                    );
                    if let Some(members) = obj.get_mut("member") {
                        pseudonymise(members, ifis, name);
                        out.insert("member".into(), members.take());
                    }
                    *obj = out;
                    return true;
                }
            }
            let mut changed = false;
            for v in obj.values_mut() {
                changed |= pseudonymise(v, ifis, name);
            }
            changed
        }
        Value::Array(items) => {
            let mut changed = false;
            for v in items {
                changed |= pseudonymise(v, ifis, name);
            }
            changed
        }
        _ => false,
    }
}

/// A statement's index keys with every key of the identities replaced by the pseudonym's
/// (an authority of several members keeps the others), in normal form.
pub fn pseudonymise_index(keys: &[IndexKey], ifis: &HashSet<&str>, name: &str) -> Vec<IndexKey> {
    let replacement = pseudonym_key(name);
    let mut out: Vec<IndexKey> = keys
        .iter()
        .map(|k| {
            let key = match k.kind {
                IndexKind::Agent | IndexKind::AgentRelated if ifis.contains(k.key.as_str()) => {
                    replacement.clone()
                }
                IndexKind::Authority => {
                    let mut parts: Vec<String> = k
                        .key
                        .split(" + ")
                        .map(|p| {
                            if ifis.contains(p) {
                                replacement.clone()
                            } else {
                                p.to_owned()
                            }
                        })
                        .collect();
                    parts.sort();
                    parts.join(" + ")
                }
                _ => k.key.clone(),
            };
            IndexKey { kind: k.kind, key }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The SHA-256 hashes of the attachments a statement declares (and its SubStatement's).
pub fn attachment_hashes(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for list in [body.get("attachments"), body.pointer("/object/attachments")]
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
    {
        for a in list {
            if let Some(sha) = a.get("sha2").and_then(Value::as_str) {
                out.push(sha.to_owned());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ifis() -> HashSet<&'static str> {
        HashSet::from(["mbox:mailto:ann@example.com"])
    }

    #[test]
    fn every_mention_becomes_the_pseudonym_and_nothing_else_changes() {
        let mut body = json!({
            "actor": {"mbox": "mailto:bob@example.com", "name": "Bob"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
            "object": {"id": "http://example.com/session"},
            "context": {
                "instructor": {"mbox": "mailto:ANN@example.com", "name": "Ann"},
                "team": {"objectType": "Group", "mbox": "mailto:team@example.com",
                         "member": [{"mbox": "mailto:ann@example.com"}, {"mbox": "mailto:cy@example.com"}]}
            }
        });
        assert!(mentions(&body, &ifis()));
        assert!(!actor_is(&body, &ifis()));
        assert!(pseudonymise(&mut body, &ifis(), "p1"));
        assert!(!mentions(&body, &ifis()));
        assert_eq!(body["context"]["instructor"], pseudonym("p1"));
        assert_eq!(body["context"]["team"]["member"][0], pseudonym("p1"));
        assert_eq!(
            body["context"]["team"]["member"][1]["mbox"],
            "mailto:cy@example.com"
        );
        assert_eq!(body["actor"]["name"], "Bob");
        assert!(!body.to_string().to_lowercase().contains("ann"));
    }

    #[test]
    fn index_keys_of_the_person_become_the_pseudonyms() {
        let keys = vec![
            IndexKey {
                kind: IndexKind::Agent,
                key: "mbox:mailto:bob@example.com".into(),
            },
            IndexKey {
                kind: IndexKind::AgentRelated,
                key: "mbox:mailto:ann@example.com".into(),
            },
            IndexKey {
                kind: IndexKind::Authority,
                key: "mbox:mailto:ann@example.com + mbox:mailto:z@example.com".into(),
            },
        ];
        let out = pseudonymise_index(&keys, &ifis(), "p1");
        let text = format!("{out:?}");
        assert!(!text.contains("ann@"));
        assert!(out
            .iter()
            .any(|k| k.kind == IndexKind::AgentRelated && k.key == pseudonym_key("p1")));
    }

    #[test]
    fn a_policy_covers_by_verb_and_activity_prefix() {
        let p = RetentionPolicy {
            id: "p".into(),
            older_than_days: 1,
            verb: Some("http://v/a".into()),
            activity_prefix: Some("http://x/".into()),
        };
        let s = |verb: &str, object: &str| json!({"verb": {"id": verb}, "object": {"id": object}});
        assert!(p.covers(&s("http://v/a", "http://x/1")));
        assert!(!p.covers(&s("http://v/b", "http://x/1")));
        assert!(!p.covers(&s("http://v/a", "http://y/1")));
    }
}
