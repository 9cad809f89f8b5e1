//! Whole-store copying, for `lrsgate migrate`: every backend exports its records in pages
//! and imports them as they were (statement order, `stored` times, voided flags, ETags and
//! update times kept), in a backend-neutral shape.

use async_trait::async_trait;
use sha2::{Digest as _, Sha256};

use super::activity_map::Equivalence;
use super::competency::{FrameworkRecord, RuleRecord};
use super::connectors::DeadLetter;
use super::opportunities::OpportunityRecord;
use super::people::LinkedIdentity;
use super::{AttachmentData, Credential, Document, DocumentScope, StoreResult, Tenant, TenantId};
use crate::xapi::{IndexKey, IndexKind};

/// The kinds of record, in the order they are copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Tenants,
    Credentials,
    Attachments,
    Statements,
    Activities,
    AgentNames,
    Documents,
    Frameworks,
    TaggingRules,
    Alignments,
    TaggingRevisions,
    PersonIdentities,
    Equivalences,
    Connectors,
    DeadLetters,
    PrivacyAudit,
    RetentionPolicies,
    Opportunities,
}

impl RecordKind {
    pub const ALL: [RecordKind; 18] = [
        RecordKind::Tenants,
        RecordKind::Credentials,
        RecordKind::Attachments,
        RecordKind::Statements,
        RecordKind::Activities,
        RecordKind::AgentNames,
        RecordKind::Documents,
        RecordKind::Frameworks,
        RecordKind::TaggingRules,
        RecordKind::Alignments,
        RecordKind::TaggingRevisions,
        RecordKind::PersonIdentities,
        RecordKind::Equivalences,
        RecordKind::Connectors,
        RecordKind::DeadLetters,
        RecordKind::PrivacyAudit,
        RecordKind::RetentionPolicies,
        RecordKind::Opportunities,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Tenants => "tenants",
            RecordKind::Credentials => "credentials",
            RecordKind::Attachments => "attachments",
            RecordKind::Statements => "statements",
            RecordKind::Activities => "activities",
            RecordKind::AgentNames => "agent names",
            RecordKind::Documents => "documents",
            RecordKind::Frameworks => "frameworks",
            RecordKind::TaggingRules => "tagging rules",
            RecordKind::Alignments => "catalog",
            RecordKind::TaggingRevisions => "revisions",
            RecordKind::PersonIdentities => "linked identities",
            RecordKind::Equivalences => "activity equivalences",
            RecordKind::Connectors => "connectors",
            RecordKind::DeadLetters => "dead letters",
            RecordKind::PrivacyAudit => "privacy audit records",
            RecordKind::RetentionPolicies => "retention policies",
            RecordKind::Opportunities => "opportunities",
        }
    }

    /// Records per page: attachments and documents can be large.
    pub fn page_size(self) -> usize {
        match self {
            RecordKind::Attachments => 32,
            RecordKind::Documents | RecordKind::Frameworks => 256,
            _ => 1000,
        }
    }
}

/// A statement with everything stored about it.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementRecord {
    pub tenant: TenantId,
    pub id: String,
    pub stored_millis: i64,
    pub voided: bool,
    pub voiding: bool,
    pub fingerprint: Vec<u8>,
    /// The statement as stored (the `format=exact` text).
    pub body: String,
    /// Its index keys, normalized by [`normalize_index`].
    pub index: Vec<IndexKey>,
    /// Its tags as stored (a JSON array), if any.
    pub tags: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Record {
    Tenant(Tenant),
    Credential {
        credential: Credential,
        created_millis: i64,
    },
    Attachment {
        tenant: TenantId,
        data: AttachmentData,
    },
    Statement(StatementRecord),
    Activity {
        tenant: TenantId,
        id: String,
        /// The merged definition as stored (JSON text).
        definition: String,
    },
    AgentName {
        tenant: TenantId,
        ifi: String,
        name: String,
    },
    Document {
        tenant: TenantId,
        scope: DocumentScope,
        id: String,
        document: Document,
    },
    Framework {
        tenant: TenantId,
        framework: FrameworkRecord,
    },
    TaggingRule {
        tenant: TenantId,
        rule: RuleRecord,
    },
    Alignment {
        tenant: TenantId,
        activity_id: String,
        /// The alignments as stored (a JSON array).
        alignments: String,
        updated_millis: i64,
    },
    TaggingRevision {
        tenant: TenantId,
        revision: i64,
    },
    PersonIdentity {
        tenant: TenantId,
        identity: LinkedIdentity,
        updated_millis: i64,
    },
    Equivalence {
        tenant: TenantId,
        equivalence: Equivalence,
    },
    /// A connector's configuration and run state (JSON text, as stored); its lease is
    /// not copied.
    Connector {
        tenant: TenantId,
        id: String,
        config: String,
        state: Option<String>,
        updated_millis: i64,
    },
    DeadLetter {
        tenant: TenantId,
        connector: String,
        letter: DeadLetter,
    },
    /// An erasure's or retention run's audit record (JSON text, as stored).
    AuditRecord {
        tenant: TenantId,
        id: String,
        at_millis: i64,
        record: String,
    },
    /// A retention policy (JSON text, as stored).
    RetentionPolicy {
        tenant: TenantId,
        id: String,
        policy: String,
        updated_millis: i64,
    },
    Opportunity {
        tenant: TenantId,
        opportunity: OpportunityRecord,
    },
}

impl Record {
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Tenant(_) => RecordKind::Tenants,
            Record::Credential { .. } => RecordKind::Credentials,
            Record::Attachment { .. } => RecordKind::Attachments,
            Record::Statement(_) => RecordKind::Statements,
            Record::Activity { .. } => RecordKind::Activities,
            Record::AgentName { .. } => RecordKind::AgentNames,
            Record::Document { .. } => RecordKind::Documents,
            Record::Framework { .. } => RecordKind::Frameworks,
            Record::TaggingRule { .. } => RecordKind::TaggingRules,
            Record::Alignment { .. } => RecordKind::Alignments,
            Record::TaggingRevision { .. } => RecordKind::TaggingRevisions,
            Record::PersonIdentity { .. } => RecordKind::PersonIdentities,
            Record::Equivalence { .. } => RecordKind::Equivalences,
            Record::Connector { .. } => RecordKind::Connectors,
            Record::DeadLetter { .. } => RecordKind::DeadLetters,
            Record::AuditRecord { .. } => RecordKind::PrivacyAudit,
            Record::RetentionPolicy { .. } => RecordKind::RetentionPolicies,
            Record::Opportunity { .. } => RecordKind::Opportunities,
        }
    }
}

/// One page of an export, and where the next one starts (an opaque token of the backend's).
pub struct ExportPage {
    pub records: Vec<Record>,
    pub next: Option<String>,
}

#[async_trait]
pub trait TransferStore: Send + Sync {
    /// Records of one kind, up to `limit`, after the point `after` names. Statements come in
    /// storage order.
    async fn export(
        &self,
        kind: RecordKind,
        after: Option<String>,
        limit: usize,
    ) -> StoreResult<ExportPage>;

    /// Stores records (all of one kind) exactly as they are, statements after everything
    /// stored so far. Meant for an empty store: nothing is compared with what is there,
    /// except that a tenant replaces the one with its id (every store starts with the
    /// default tenant).
    async fn import(&self, records: Vec<Record>) -> StoreResult<()>;

    /// How many records of the kind are stored.
    async fn count(&self, kind: RecordKind) -> StoreResult<u64>;
}

/// Sorted, without repeats, and without a related key that a direct key of the same
/// value already covers (a `related_*` query finds both kinds): how every backend reports
/// a statement's index keys, whichever way it keeps them.
pub fn normalize_index(mut keys: Vec<IndexKey>) -> Vec<IndexKey> {
    keys.sort();
    keys.dedup();
    let direct = |kind, key: &str| {
        keys.binary_search(&IndexKey {
            kind,
            key: key.to_owned(),
        })
        .is_ok()
    };
    let redundant: Vec<bool> = keys
        .iter()
        .map(|k| match k.kind {
            IndexKind::AgentRelated => direct(IndexKind::Agent, &k.key),
            IndexKind::ActivityRelated => direct(IndexKind::Activity, &k.key),
            _ => false,
        })
        .collect();
    keys.into_iter()
        .zip(redundant)
        .filter_map(|(k, r)| (!r).then_some(k))
        .collect()
}

/// A count and an order-independent checksum of a kind's records (the XOR of a SHA-256
/// per record), so two stores can be compared whatever order they list records in.
/// Statements also hash their position, so their order is compared too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    pub checksum: [u8; 32],
}

impl Tally {
    pub fn add(&mut self, record: &Record) {
        let mut h = FieldHasher::default();
        match record {
            Record::Tenant(t) => {
                h.tag(b'T');
                h.int(t.id);
                h.str(&t.name);
                h.int(t.created_millis);
            }
            Record::Credential {
                credential: c,
                created_millis,
            } => {
                h.tag(b'C');
                h.int(c.tenant);
                h.str(&c.key);
                h.str(&c.secret_hash);
                h.str(&c.name);
                h.str(&c.authority.to_string());
                h.str(&c.scopes);
                h.int(*created_millis);
            }
            Record::Attachment { tenant, data } => {
                h.tag(b'A');
                h.int(*tenant);
                h.str(&data.sha2);
                h.str(&data.content_type);
                h.bytes(&data.content);
            }
            Record::Statement(s) => {
                h.tag(b'S');
                h.int(self.count as i64);
                h.int(s.tenant);
                h.str(&s.id);
                h.int(s.stored_millis);
                h.int(i64::from(s.voided));
                h.int(i64::from(s.voiding));
                h.bytes(&s.fingerprint);
                h.str(&s.body);
                for k in &s.index {
                    h.int(k.kind.code());
                    h.str(&k.key);
                }
                h.str(s.tags.as_deref().unwrap_or_default());
            }
            Record::Activity {
                tenant,
                id,
                definition,
            } => {
                h.tag(b'V');
                h.int(*tenant);
                h.str(id);
                h.str(definition);
            }
            Record::AgentName { tenant, ifi, name } => {
                h.tag(b'N');
                h.int(*tenant);
                h.str(ifi);
                h.str(name);
            }
            Record::Document {
                tenant,
                scope,
                id,
                document: d,
            } => {
                let (kind, activity_id, agent, registration) = scope.key();
                h.tag(b'D');
                h.int(*tenant);
                h.int(kind);
                h.str(activity_id);
                h.str(agent);
                h.str(registration);
                h.str(id);
                h.str(&d.content_type);
                h.bytes(&d.content);
                h.str(&d.etag);
                h.int(d.updated_millis);
            }
            Record::Framework {
                tenant,
                framework: f,
            } => {
                h.tag(b'F');
                h.int(*tenant);
                for text in [&f.id, &f.iri, &f.version, &f.body] {
                    h.str(text);
                }
                h.int(i64::from(f.active));
                h.int(f.created_millis);
                h.int(f.updated_millis);
            }
            Record::TaggingRule { tenant, rule } => {
                h.tag(b'R');
                h.int(*tenant);
                h.str(&rule.id);
                h.str(&rule.body);
                h.int(rule.updated_millis);
            }
            Record::Alignment {
                tenant,
                activity_id,
                alignments,
                updated_millis,
            } => {
                h.tag(b'L');
                h.int(*tenant);
                h.str(activity_id);
                h.str(alignments);
                h.int(*updated_millis);
            }
            Record::TaggingRevision { tenant, revision } => {
                h.tag(b'G');
                h.int(*tenant);
                h.int(*revision);
            }
            Record::PersonIdentity {
                tenant,
                identity: i,
                updated_millis,
            } => {
                h.tag(b'P');
                h.int(*tenant);
                h.str(&i.ifi);
                h.str(&i.person);
                h.str(&i.agent);
                h.int(*updated_millis);
            }
            Record::Equivalence {
                tenant,
                equivalence: e,
            } => {
                h.tag(b'Q');
                h.int(*tenant);
                h.str(&e.alias);
                h.str(&e.canonical);
                h.str(&e.source);
            }
            Record::Connector {
                tenant,
                id,
                config,
                state,
                updated_millis,
            } => {
                h.tag(b'K');
                h.int(*tenant);
                h.str(id);
                h.str(config);
                h.int(i64::from(state.is_some()));
                h.str(state.as_deref().unwrap_or_default());
                h.int(*updated_millis);
            }
            Record::DeadLetter {
                tenant,
                connector,
                letter: l,
            } => {
                h.tag(b'X');
                h.int(*tenant);
                h.str(connector);
                h.str(&l.statement_id);
                h.str(&l.error);
                h.int(i64::from(l.attempts));
                h.int(l.failed_millis);
            }
            Record::AuditRecord {
                tenant,
                id,
                at_millis,
                record,
            } => {
                h.tag(b'Y');
                h.int(*tenant);
                h.str(id);
                h.int(*at_millis);
                h.str(record);
            }
            Record::RetentionPolicy {
                tenant,
                id,
                policy,
                updated_millis,
            } => {
                h.tag(b'Z');
                h.int(*tenant);
                h.str(id);
                h.str(policy);
                h.int(*updated_millis);
            }
            Record::Opportunity {
                tenant,
                opportunity: o,
            } => {
                h.tag(b'O');
                h.int(*tenant);
                h.str(&o.id);
                h.str(&o.status);
                h.str(&o.body);
                h.int(o.updated_millis);
            }
        }
        let digest = h.0.finalize();
        for (acc, b) in self.checksum.iter_mut().zip(digest) {
            *acc ^= b;
        }
        self.count += 1;
    }

    pub fn checksum_hex(&self) -> String {
        hex::encode(self.checksum)
    }
}

/// Feeds fields into SHA-256 with their lengths, so no two records hash the same input.
#[derive(Default)]
struct FieldHasher(Sha256);

impl FieldHasher {
    fn tag(&mut self, t: u8) {
        self.0.update([t]);
    }
    fn int(&mut self, v: i64) {
        self.0.update(v.to_be_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.0.update((b.len() as u64).to_be_bytes());
        self.0.update(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: IndexKind, key: &str) -> IndexKey {
        IndexKey {
            kind,
            key: key.into(),
        }
    }

    #[test]
    fn related_keys_covered_by_direct_ones_are_dropped() {
        let keys = vec![
            key(IndexKind::AgentRelated, "mbox:a"),
            key(IndexKind::Agent, "mbox:a"),
            key(IndexKind::AgentRelated, "mbox:b"),
            key(IndexKind::ActivityRelated, "x"),
            key(IndexKind::Verb, "v"),
            key(IndexKind::Verb, "v"),
        ];
        assert_eq!(
            normalize_index(keys),
            vec![
                key(IndexKind::Agent, "mbox:a"),
                key(IndexKind::AgentRelated, "mbox:b"),
                key(IndexKind::ActivityRelated, "x"),
                key(IndexKind::Verb, "v"),
            ]
        );
    }

    fn name(n: &str) -> Record {
        Record::AgentName {
            tenant: 1,
            ifi: "mbox:a".into(),
            name: n.into(),
        }
    }

    #[test]
    fn checksums_ignore_order_but_not_content() {
        let (mut a, mut b, mut c) = (Tally::default(), Tally::default(), Tally::default());
        a.add(&name("x"));
        a.add(&name("y"));
        b.add(&name("y"));
        b.add(&name("x"));
        c.add(&name("x"));
        c.add(&name("z"));
        assert_eq!(a, b);
        assert_ne!(a.checksum, c.checksum);
        assert_eq!(a.count, 2);
    }
}
