//! Copying a whole MongoDB store out and in. Statements page by `seq`; every other
//! collection by `_id`. The resume token is that value as extended JSON.

use async_trait::async_trait;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Bson, Document as BsonDocument};

use super::accounts::{credential_of, tenant_of};
use super::competency::framework_of;
use super::connectors::dead_letter_of;
use super::documents::{document_row, to_document};
use super::statements::{index_of, statement_document, StatementFields};
use super::{backend, binary, collect, get_bytes, get_i64, get_str, MongoStore};
use crate::store::activity_map::Equivalence;
use crate::store::competency::RuleRecord;
use crate::store::opportunities::OpportunityRecord;
use crate::store::people::LinkedIdentity;
use crate::store::transfer::{ExportPage, Record, RecordKind, StatementRecord, TransferStore};
use crate::store::{AttachmentData, DocumentScope, StoreResult};

fn collection(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Tenants => "tenants",
        RecordKind::Credentials => "credentials",
        RecordKind::Attachments => "attachments",
        RecordKind::Statements => "statements",
        RecordKind::Activities => "activities",
        RecordKind::AgentNames => "agent_names",
        RecordKind::Documents => "documents",
        RecordKind::Frameworks => "frameworks",
        RecordKind::TaggingRules => "tagging_rules",
        RecordKind::Alignments => "activity_alignments",
        RecordKind::TaggingRevisions => "tagging_revisions",
        RecordKind::PersonIdentities => "person_identities",
        RecordKind::Equivalences => "activity_equivalences",
        RecordKind::Connectors => "connectors",
        RecordKind::DeadLetters => "dead_letters",
        RecordKind::PrivacyAudit => "privacy_audit",
        RecordKind::RetentionPolicies => "retention_policies",
        RecordKind::Opportunities => "opportunities",
    }
}

/// The field pages follow.
fn order_field(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Statements => "seq",
        _ => "_id",
    }
}

fn record_of(kind: RecordKind, d: &BsonDocument) -> StoreResult<Record> {
    Ok(match kind {
        RecordKind::Tenants => Record::Tenant(tenant_of(d)?),
        RecordKind::Credentials => Record::Credential {
            credential: credential_of(d)?,
            created_millis: get_i64(d, "created")?,
        },
        RecordKind::Attachments => Record::Attachment {
            tenant: get_i64(d, "tenant")?,
            data: AttachmentData {
                sha2: get_str(d, "sha2")?,
                content_type: get_str(d, "content_type")?,
                content: get_bytes(d, "content")?,
            },
        },
        RecordKind::Statements => Record::Statement(StatementRecord {
            tenant: get_i64(d, "tenant")?,
            id: get_str(d, "id")?,
            stored_millis: get_i64(d, "stored")?,
            voided: d.get_bool("voided").map_err(backend)?,
            voiding: d.get_bool("voiding").map_err(backend)?,
            fingerprint: get_bytes(d, "fingerprint")?.to_vec(),
            body: get_str(d, "statement")?,
            index: index_of(d)?,
            tags: d.get_str("tags").ok().map(str::to_owned),
        }),
        RecordKind::Activities => Record::Activity {
            tenant: get_i64(d, "tenant")?,
            id: get_str(d, "id")?,
            definition: get_str(d, "definition")?,
        },
        RecordKind::AgentNames => Record::AgentName {
            tenant: get_i64(d, "tenant")?,
            ifi: get_str(d, "ifi")?,
            name: get_str(d, "name")?,
        },
        RecordKind::Frameworks => Record::Framework {
            tenant: get_i64(d, "tenant")?,
            framework: framework_of(d)?,
        },
        RecordKind::TaggingRules => Record::TaggingRule {
            tenant: get_i64(d, "tenant")?,
            rule: RuleRecord {
                id: get_str(d, "id")?,
                body: get_str(d, "body")?,
                updated_millis: get_i64(d, "updated")?,
            },
        },
        RecordKind::Alignments => Record::Alignment {
            tenant: get_i64(d, "tenant")?,
            activity_id: get_str(d, "activity_id")?,
            alignments: get_str(d, "alignments")?,
            updated_millis: get_i64(d, "updated")?,
        },
        RecordKind::TaggingRevisions => Record::TaggingRevision {
            tenant: get_i64(d, "_id")?,
            revision: get_i64(d, "revision")?,
        },
        RecordKind::PersonIdentities => Record::PersonIdentity {
            tenant: get_i64(d, "tenant")?,
            identity: LinkedIdentity {
                ifi: get_str(d, "ifi")?,
                person: get_str(d, "person")?,
                agent: get_str(d, "agent")?,
            },
            updated_millis: get_i64(d, "updated")?,
        },
        RecordKind::Equivalences => Record::Equivalence {
            tenant: get_i64(d, "tenant")?,
            equivalence: Equivalence {
                alias: get_str(d, "alias")?,
                canonical: get_str(d, "canonical")?,
                source: get_str(d, "source")?,
            },
        },
        RecordKind::Connectors => Record::Connector {
            tenant: get_i64(d, "tenant")?,
            id: get_str(d, "id")?,
            config: get_str(d, "config")?,
            state: d.get_str("state").ok().map(str::to_owned),
            updated_millis: get_i64(d, "updated")?,
        },
        RecordKind::Opportunities => Record::Opportunity {
            tenant: get_i64(d, "tenant")?,
            opportunity: OpportunityRecord {
                id: get_str(d, "id")?,
                status: get_str(d, "status")?,
                body: get_str(d, "body")?,
                updated_millis: get_i64(d, "updated")?,
            },
        },
        RecordKind::DeadLetters => Record::DeadLetter {
            tenant: get_i64(d, "tenant")?,
            connector: get_str(d, "connector")?,
            letter: dead_letter_of(d)?,
        },
        RecordKind::PrivacyAudit => Record::AuditRecord {
            tenant: get_i64(d, "tenant")?,
            id: get_str(d, "id")?,
            at_millis: get_i64(d, "at")?,
            record: get_str(d, "record")?,
        },
        RecordKind::RetentionPolicies => Record::RetentionPolicy {
            tenant: get_i64(d, "tenant")?,
            id: get_str(d, "id")?,
            policy: get_str(d, "policy")?,
            updated_millis: get_i64(d, "updated")?,
        },
        RecordKind::Documents => {
            let kind = get_i64(d, "kind")?;
            let scope = DocumentScope::from_key(
                kind,
                &get_str(d, "activity_id")?,
                &get_str(d, "agent")?,
                &get_str(d, "registration")?,
            )
            .ok_or_else(|| backend(anyhow::anyhow!("unknown document kind {kind}")))?;
            Record::Document {
                tenant: get_i64(d, "tenant")?,
                scope,
                id: get_str(d, "doc_id")?,
                document: to_document(d)?,
            }
        }
    })
}

impl MongoStore {
    /// The documents for a page of statements: `seq` values continue after those stored,
    /// and the counter's `stored` catches up with the newest copied.
    async fn statement_documents(&self, records: &[Record]) -> StoreResult<Vec<BsonDocument>> {
        let statements: Vec<&StatementRecord> = records
            .iter()
            .filter_map(|r| match r {
                Record::Statement(s) => Some(s),
                _ => None,
            })
            .collect();
        let newest = statements
            .iter()
            .map(|s| s.stored_millis)
            .max()
            .unwrap_or(0);
        let (first_seq, _) = self.allocate(statements.len() as i64, newest).await?;
        let batch = ObjectId::new();
        Ok(statements
            .iter()
            .enumerate()
            .map(|(n, s)| {
                let fields = StatementFields {
                    tenant: s.tenant,
                    id: &s.id,
                    stored: s.stored_millis,
                    voided: s.voided,
                    voiding: s.voiding,
                    fingerprint: s.fingerprint.clone(),
                    body: &s.body,
                    index: &s.index,
                    tags: s.tags.as_deref(),
                };
                statement_document(fields, first_seq + n as i64, batch)
            })
            .collect())
    }
}

impl MongoStore {
    /// Tenants replace those with their ids; new ids come after the highest copied.
    async fn import_tenants(&self, records: &[Record]) -> StoreResult<()> {
        for record in records {
            let Record::Tenant(t) = record else { continue };
            self.coll("tenants")
                .replace_one(
                    doc! {"_id": t.id},
                    doc! {"_id": t.id, "name": &t.name, "created": t.created_millis},
                )
                .upsert(true)
                .await?;
            self.coll("counters")
                .update_one(doc! {"_id": "tenants"}, doc! {"$max": {"seq": t.id}})
                .await?;
        }
        Ok(())
    }
}

/// The stored form of any record but a statement or a tenant.
fn row_of(record: &Record) -> Option<BsonDocument> {
    Some(match record {
        Record::Credential {
            credential: c,
            created_millis,
        } => doc! {
            "_id": &c.key,
            "tenant": c.tenant,
            "secret_hash": &c.secret_hash,
            "name": &c.name,
            "authority": c.authority.to_string(),
            "scopes": &c.scopes,
            "created": created_millis,
        },
        Record::Attachment { tenant, data } => doc! {
            "tenant": tenant,
            "sha2": &data.sha2,
            "content_type": &data.content_type,
            "content": binary(data.content.to_vec()),
        },
        Record::Activity {
            tenant,
            id,
            definition,
        } => doc! {"tenant": tenant, "id": id, "definition": definition},
        Record::AgentName { tenant, ifi, name } => {
            doc! {"tenant": tenant, "ifi": ifi, "name": name}
        }
        Record::Document {
            tenant,
            scope,
            id,
            document,
        } => document_row(*tenant, scope, id, document),
        Record::Framework {
            tenant,
            framework: f,
        } => doc! {
            "_id": &f.id, "tenant": tenant, "iri": &f.iri, "version": &f.version,
            "active": f.active, "body": &f.body,
            "created": f.created_millis, "updated": f.updated_millis,
        },
        Record::TaggingRule { tenant, rule } => doc! {
            "tenant": tenant, "id": &rule.id, "body": &rule.body, "updated": rule.updated_millis,
        },
        Record::Alignment {
            tenant,
            activity_id,
            alignments,
            updated_millis,
        } => doc! {
            "tenant": tenant, "activity_id": activity_id, "alignments": alignments,
            "updated": updated_millis,
        },
        Record::TaggingRevision { tenant, revision } => {
            doc! {"_id": tenant, "revision": revision}
        }
        Record::PersonIdentity {
            tenant,
            identity: i,
            updated_millis,
        } => doc! {
            "tenant": tenant, "ifi": &i.ifi, "person": &i.person, "agent": &i.agent,
            "updated": updated_millis,
        },
        Record::Equivalence {
            tenant,
            equivalence: e,
        } => doc! {
            "tenant": tenant, "alias": &e.alias, "canonical": &e.canonical, "source": &e.source,
        },
        Record::Connector {
            tenant,
            id,
            config,
            state,
            updated_millis,
        } => {
            let mut row = doc! {
                "tenant": tenant, "id": id, "config": config, "updated": updated_millis,
            };
            if let Some(state) = state {
                row.insert("state", state);
            }
            row
        }
        Record::DeadLetter {
            tenant,
            connector,
            letter: l,
        } => doc! {
            "tenant": tenant, "connector": connector, "statement_id": &l.statement_id,
            "error": &l.error, "attempts": i64::from(l.attempts), "failed": l.failed_millis,
        },
        Record::AuditRecord {
            tenant,
            id,
            at_millis,
            record,
        } => doc! {"tenant": tenant, "id": id, "at": at_millis, "record": record},
        Record::RetentionPolicy {
            tenant,
            id,
            policy,
            updated_millis,
        } => doc! {"tenant": tenant, "id": id, "policy": policy, "updated": updated_millis},
        Record::Opportunity {
            tenant,
            opportunity: o,
        } => doc! {
            "tenant": tenant, "id": &o.id, "status": &o.status, "body": &o.body,
            "updated": o.updated_millis,
        },
        Record::Statement(_) | Record::Tenant(_) => return None,
    })
}

#[async_trait]
impl TransferStore for MongoStore {
    async fn export(
        &self,
        kind: RecordKind,
        after: Option<String>,
        limit: usize,
    ) -> StoreResult<ExportPage> {
        let field = order_field(kind);
        let mut filter = BsonDocument::new();
        if let Some(token) = after {
            let value: serde_json::Value = serde_json::from_str(&token).map_err(backend)?;
            let last = Bson::try_from(value).map_err(backend)?;
            filter.insert(field, doc! {"$gt": last});
        }
        let cursor = self
            .coll(collection(kind))
            .find(filter)
            .sort(doc! {field: 1})
            .limit(limit as i64)
            .await?;
        let docs = collect(cursor).await?;
        let records = docs
            .iter()
            .map(|d| record_of(kind, d))
            .collect::<StoreResult<Vec<_>>>()?;
        let next = match docs.last() {
            Some(d) if docs.len() == limit => {
                let last = d
                    .get(field)
                    .ok_or_else(|| backend(anyhow::anyhow!("a record has no `{field}`")))?;
                Some(last.clone().into_relaxed_extjson().to_string())
            }
            _ => None,
        };
        Ok(ExportPage { records, next })
    }

    async fn import(&self, records: Vec<Record>) -> StoreResult<()> {
        let Some(kind) = records.first().map(Record::kind) else {
            return Ok(());
        };
        if records.iter().any(|r| r.kind() != kind) {
            return Err(backend(anyhow::anyhow!(
                "an import page mixes kinds of record"
            )));
        }
        let docs = match kind {
            RecordKind::Tenants => return self.import_tenants(&records).await,
            RecordKind::Statements => self.statement_documents(&records).await?,
            _ => records.iter().filter_map(row_of).collect(),
        };
        self.coll(collection(kind)).insert_many(docs).await?;
        Ok(())
    }

    async fn count(&self, kind: RecordKind) -> StoreResult<u64> {
        Ok(self.coll(collection(kind)).count_documents(doc! {}).await?)
    }
}
