//! Copying a whole SQLite store out and in. Pages follow each table's primary key; the
//! resume token is that key as a JSON array.

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, Row};
use serde_json::Value;

use super::keys::{index_keys_json, parse_index_keys, write_keys, Rows};
use super::{backend, SqliteStore};
use crate::store::activity_map::Equivalence;
use crate::store::competency::{FrameworkRecord, RuleRecord};
use crate::store::connectors::DeadLetter;
use crate::store::opportunities::OpportunityRecord;
use crate::store::people::LinkedIdentity;
use crate::store::transfer::{
    normalize_index, ExportPage, Record, RecordKind, StatementRecord, TransferStore,
};
use crate::store::{AttachmentData, Credential, Document, DocumentScope, StoreResult, Tenant};

/// Where a kind's records live: the table, its primary key and the columns read.
struct Source {
    table: &'static str,
    key: &'static [&'static str],
    columns: &'static str,
}

fn source(kind: RecordKind) -> Source {
    match kind {
        RecordKind::Tenants => Source {
            table: "tenants",
            key: &["id"],
            columns: "id, name, created_ms",
        },
        RecordKind::Credentials => Source {
            table: "credentials",
            key: &["key"],
            columns: "key, tenant, secret_hash, name, authority, created_ms, scopes",
        },
        RecordKind::Attachments => Source {
            table: "attachments",
            key: &["tenant", "sha2"],
            columns: "tenant, sha2, content_type, content",
        },
        RecordKind::Statements => Source {
            table: "statements",
            key: &["seq"],
            columns: "seq, tenant, id, stored_ms, voided, voiding, fingerprint, body, index_keys, tags",
        },
        RecordKind::Activities => Source {
            table: "activities",
            key: &["tenant", "id"],
            columns: "tenant, id, definition",
        },
        RecordKind::AgentNames => Source {
            table: "agent_names",
            key: &["tenant", "ifi", "name"],
            columns: "tenant, ifi, name",
        },
        RecordKind::Frameworks => Source {
            table: "frameworks",
            key: &["tenant", "id"],
            columns: "tenant, id, iri, version, active, body, created_ms, updated_ms",
        },
        RecordKind::TaggingRules => Source {
            table: "tagging_rules",
            key: &["tenant", "id"],
            columns: "tenant, id, body, updated_ms",
        },
        RecordKind::Alignments => Source {
            table: "activity_alignments",
            key: &["tenant", "activity_id"],
            columns: "tenant, activity_id, alignments, updated_ms",
        },
        RecordKind::TaggingRevisions => Source {
            table: "tagging_revisions",
            key: &["tenant"],
            columns: "tenant, revision",
        },
        RecordKind::PersonIdentities => Source {
            table: "person_identities",
            key: &["tenant", "ifi"],
            columns: "tenant, ifi, person, agent, updated_ms",
        },
        RecordKind::Equivalences => Source {
            table: "activity_equivalences",
            key: &["tenant", "alias"],
            columns: "tenant, alias, canonical, source",
        },
        RecordKind::Connectors => Source {
            table: "connectors",
            key: &["tenant", "id"],
            columns: "tenant, id, config, state, updated_ms",
        },
        RecordKind::Opportunities => Source {
            table: "opportunities",
            key: &["tenant", "id"],
            columns: "tenant, id, status, body, updated_ms",
        },
        RecordKind::DeadLetters => Source {
            table: "dead_letters",
            key: &["tenant", "connector", "statement_id"],
            columns: "tenant, connector, statement_id, error, attempts, failed_ms",
        },
        RecordKind::PrivacyAudit => Source {
            table: "privacy_audit",
            key: &["tenant", "id"],
            columns: "tenant, id, at_ms, record",
        },
        RecordKind::RetentionPolicies => Source {
            table: "retention_policies",
            key: &["tenant", "id"],
            columns: "tenant, id, policy, updated_ms",
        },
        RecordKind::Documents => Source {
            table: "documents",
            key: &["tenant", "kind", "activity_id", "agent", "registration", "doc_id"],
            columns: "tenant, kind, activity_id, agent, registration, doc_id, content_type, content, etag, updated_ms",
        },
    }
}

fn parse_token(token: &str) -> StoreResult<Vec<SqlValue>> {
    let values: Vec<Value> = serde_json::from_str(token).map_err(backend)?;
    values
        .into_iter()
        .map(|v| match v {
            Value::Number(n) => n
                .as_i64()
                .map(SqlValue::Integer)
                .ok_or_else(|| backend(anyhow::anyhow!("bad resume token {token}"))),
            Value::String(s) => Ok(SqlValue::Text(s)),
            _ => Err(backend(anyhow::anyhow!("bad resume token {token}"))),
        })
        .collect()
}

fn token_of(row: &Row<'_>, width: usize) -> rusqlite::Result<String> {
    let mut key = Vec::with_capacity(width);
    for i in 0..width {
        key.push(match row.get::<_, SqlValue>(i)? {
            SqlValue::Integer(n) => Value::from(n),
            SqlValue::Text(s) => Value::from(s),
            other => Value::from(format!("{other:?}")),
        });
    }
    Ok(Value::Array(key).to_string())
}

/// A record from a row of `source(kind).columns` (the key columns come first, and the
/// statement's `seq` is not part of the record).
fn record_of(kind: RecordKind, r: &Row<'_>) -> StoreResult<Record> {
    Ok(match kind {
        RecordKind::Tenants => Record::Tenant(Tenant {
            id: r.get(0)?,
            name: r.get(1)?,
            created_millis: r.get(2)?,
        }),
        RecordKind::Credentials => Record::Credential {
            credential: Credential {
                key: r.get(0)?,
                tenant: r.get(1)?,
                secret_hash: r.get(2)?,
                name: r.get(3)?,
                authority: serde_json::from_str(&r.get::<_, String>(4)?).map_err(backend)?,
                scopes: r.get(6)?,
            },
            created_millis: r.get(5)?,
        },
        RecordKind::Attachments => Record::Attachment {
            tenant: r.get(0)?,
            data: AttachmentData {
                sha2: r.get(1)?,
                content_type: r.get(2)?,
                content: r.get::<_, Vec<u8>>(3)?.into(),
            },
        },
        RecordKind::Statements => Record::Statement(StatementRecord {
            tenant: r.get(1)?,
            id: r.get(2)?,
            stored_millis: r.get(3)?,
            voided: r.get(4)?,
            voiding: r.get(5)?,
            fingerprint: r.get(6)?,
            body: r.get(7)?,
            index: normalize_index(parse_index_keys(&r.get::<_, String>(8)?)?),
            tags: r.get(9)?,
        }),
        RecordKind::Activities => Record::Activity {
            tenant: r.get(0)?,
            id: r.get(1)?,
            definition: r.get(2)?,
        },
        RecordKind::Frameworks => Record::Framework {
            tenant: r.get(0)?,
            framework: FrameworkRecord {
                id: r.get(1)?,
                iri: r.get(2)?,
                version: r.get(3)?,
                active: r.get(4)?,
                body: r.get(5)?,
                created_millis: r.get(6)?,
                updated_millis: r.get(7)?,
            },
        },
        RecordKind::TaggingRules => Record::TaggingRule {
            tenant: r.get(0)?,
            rule: RuleRecord {
                id: r.get(1)?,
                body: r.get(2)?,
                updated_millis: r.get(3)?,
            },
        },
        RecordKind::Alignments => Record::Alignment {
            tenant: r.get(0)?,
            activity_id: r.get(1)?,
            alignments: r.get(2)?,
            updated_millis: r.get(3)?,
        },
        RecordKind::TaggingRevisions => Record::TaggingRevision {
            tenant: r.get(0)?,
            revision: r.get(1)?,
        },
        RecordKind::PersonIdentities => Record::PersonIdentity {
            tenant: r.get(0)?,
            identity: LinkedIdentity {
                ifi: r.get(1)?,
                person: r.get(2)?,
                agent: r.get(3)?,
            },
            updated_millis: r.get(4)?,
        },
        RecordKind::Equivalences => Record::Equivalence {
            tenant: r.get(0)?,
            equivalence: Equivalence {
                alias: r.get(1)?,
                canonical: r.get(2)?,
                source: r.get(3)?,
            },
        },
        RecordKind::Connectors => Record::Connector {
            tenant: r.get(0)?,
            id: r.get(1)?,
            config: r.get(2)?,
            state: r.get(3)?,
            updated_millis: r.get(4)?,
        },
        RecordKind::Opportunities => Record::Opportunity {
            tenant: r.get(0)?,
            opportunity: OpportunityRecord {
                id: r.get(1)?,
                status: r.get(2)?,
                body: r.get(3)?,
                updated_millis: r.get(4)?,
            },
        },
        RecordKind::DeadLetters => Record::DeadLetter {
            tenant: r.get(0)?,
            connector: r.get(1)?,
            letter: DeadLetter {
                statement_id: r.get(2)?,
                error: r.get(3)?,
                attempts: r.get(4)?,
                failed_millis: r.get(5)?,
            },
        },
        RecordKind::PrivacyAudit => Record::AuditRecord {
            tenant: r.get(0)?,
            id: r.get(1)?,
            at_millis: r.get(2)?,
            record: r.get(3)?,
        },
        RecordKind::RetentionPolicies => Record::RetentionPolicy {
            tenant: r.get(0)?,
            id: r.get(1)?,
            policy: r.get(2)?,
            updated_millis: r.get(3)?,
        },
        RecordKind::AgentNames => Record::AgentName {
            tenant: r.get(0)?,
            ifi: r.get(1)?,
            name: r.get(2)?,
        },
        RecordKind::Documents => {
            let (kind, activity_id, agent, registration): (i64, String, String, String) =
                (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
            Record::Document {
                tenant: r.get(0)?,
                scope: DocumentScope::from_key(kind, &activity_id, &agent, &registration)
                    .ok_or_else(|| backend(anyhow::anyhow!("unknown document kind {kind}")))?,
                id: r.get(5)?,
                document: Document {
                    content_type: r.get(6)?,
                    content: r.get::<_, Vec<u8>>(7)?.into(),
                    etag: r.get(8)?,
                    updated_millis: r.get(9)?,
                },
            }
        }
    })
}

fn export_page(
    conn: &Connection,
    kind: RecordKind,
    after: Option<String>,
    limit: usize,
) -> StoreResult<ExportPage> {
    let Source {
        table,
        key,
        columns,
    } = source(kind);
    let key_list = key.join(", ");
    let args = after.as_deref().map(parse_token).transpose()?;
    let filter = match &args {
        Some(values) if values.len() == key.len() => {
            let marks = vec!["?"; key.len()].join(", ");
            format!("WHERE ({key_list}) > ({marks})")
        }
        Some(_) => return Err(backend(anyhow::anyhow!("bad resume token"))),
        None => String::new(),
    };
    let sql = format!("SELECT {columns} FROM {table} {filter} ORDER BY {key_list} LIMIT {limit}");
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args.unwrap_or_default()))?;
    let mut records = Vec::new();
    let mut last = None;
    while let Some(row) = rows.next()? {
        records.push(record_of(kind, row)?);
        last = Some(token_of(row, key.len())?);
    }
    let next = if records.len() == limit { last } else { None };
    Ok(ExportPage { records, next })
}

fn import_record(conn: &Connection, record: &Record) -> StoreResult<()> {
    match record {
        Record::Tenant(t) => {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO tenants (id, name, created_ms) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![t.id, t.name, t.created_millis])?;
        }
        Record::Credential {
            credential: c,
            created_millis,
        } => {
            conn.prepare_cached(
                "INSERT INTO credentials (key, tenant, secret_hash, name, authority, scopes, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![c.key, c.tenant, c.secret_hash, c.name, c.authority.to_string(), c.scopes, created_millis])?;
        }
        Record::Attachment { tenant, data } => {
            conn.prepare_cached(
                "INSERT INTO attachments (tenant, sha2, content_type, content) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![tenant, data.sha2, data.content_type, data.content.as_ref()])?;
        }
        Record::Statement(s) => {
            conn.prepare_cached(
                "INSERT INTO statements (tenant, id, stored_ms, voided, voiding, fingerprint, body, index_keys, tags)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                s.tenant,
                s.id,
                s.stored_millis,
                s.voided,
                s.voiding,
                s.fingerprint,
                s.body,
                index_keys_json(&s.index),
                s.tags
            ])?;
            write_keys(
                conn,
                Rows::Add,
                s.tenant,
                conn.last_insert_rowid(),
                &s.index,
            )?;
        }
        Record::Activity {
            tenant,
            id,
            definition,
        } => {
            conn.prepare_cached(
                "INSERT INTO activities (tenant, id, definition) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![tenant, id, definition])?;
        }
        Record::AgentName { tenant, ifi, name } => {
            conn.prepare_cached("INSERT INTO agent_names (tenant, ifi, name) VALUES (?1, ?2, ?3)")?
                .execute(params![tenant, ifi, name])?;
        }
        Record::Framework {
            tenant,
            framework: f,
        } => {
            conn.prepare_cached(
                "INSERT INTO frameworks (tenant, id, iri, version, active, body, created_ms, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                tenant,
                f.id,
                f.iri,
                f.version,
                f.active,
                f.body,
                f.created_millis,
                f.updated_millis
            ])?;
        }
        Record::TaggingRule { tenant, rule } => {
            conn.prepare_cached(
                "INSERT INTO tagging_rules (tenant, id, body, updated_ms) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![tenant, rule.id, rule.body, rule.updated_millis])?;
        }
        Record::Alignment {
            tenant,
            activity_id,
            alignments,
            updated_millis,
        } => {
            conn.prepare_cached(
                "INSERT INTO activity_alignments (tenant, activity_id, alignments, updated_ms) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![tenant, activity_id, alignments, updated_millis])?;
        }
        Record::TaggingRevision { tenant, revision } => {
            conn.prepare_cached(
                "INSERT INTO tagging_revisions (tenant, revision) VALUES (?1, ?2)",
            )?
            .execute(params![tenant, revision])?;
        }
        Record::PersonIdentity {
            tenant,
            identity: i,
            updated_millis,
        } => {
            conn.prepare_cached(
                "INSERT INTO person_identities (tenant, ifi, person, agent, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![tenant, i.ifi, i.person, i.agent, updated_millis])?;
        }
        Record::Equivalence {
            tenant,
            equivalence: e,
        } => {
            conn.prepare_cached(
                "INSERT INTO activity_equivalences (tenant, alias, canonical, source) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![tenant, e.alias, e.canonical, e.source])?;
        }
        Record::Connector {
            tenant,
            id,
            config,
            state,
            updated_millis,
        } => {
            conn.prepare_cached(
                "INSERT INTO connectors (tenant, id, config, state, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![tenant, id, config, state, updated_millis])?;
        }
        Record::Opportunity {
            tenant,
            opportunity: o,
        } => {
            conn.prepare_cached(
                "INSERT INTO opportunities (tenant, id, status, body, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![tenant, o.id, o.status, o.body, o.updated_millis])?;
        }
        Record::DeadLetter {
            tenant,
            connector,
            letter: l,
        } => {
            conn.prepare_cached(
                "INSERT INTO dead_letters (tenant, connector, statement_id, error, attempts, failed_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![tenant, connector, l.statement_id, l.error, l.attempts, l.failed_millis])?;
        }
        Record::AuditRecord {
            tenant,
            id,
            at_millis,
            record,
        } => {
            conn.prepare_cached(
                "INSERT INTO privacy_audit (tenant, id, at_ms, record) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![tenant, id, at_millis, record])?;
        }
        Record::RetentionPolicy {
            tenant,
            id,
            policy,
            updated_millis,
        } => {
            conn.prepare_cached(
                "INSERT INTO retention_policies (tenant, id, policy, updated_ms) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![tenant, id, policy, updated_millis])?;
        }
        Record::Document {
            tenant,
            scope,
            id,
            document: d,
        } => {
            let (kind, activity_id, agent, registration) = scope.key();
            conn.prepare_cached(
                "INSERT INTO documents (tenant, kind, activity_id, agent, registration, doc_id, content_type, content, etag, updated_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                tenant,
                kind,
                activity_id,
                agent,
                registration,
                id,
                d.content_type,
                d.content.as_ref(),
                d.etag,
                d.updated_millis
            ])?;
        }
    }
    Ok(())
}

#[async_trait]
impl TransferStore for SqliteStore {
    async fn export(
        &self,
        kind: RecordKind,
        after: Option<String>,
        limit: usize,
    ) -> StoreResult<ExportPage> {
        self.read(move |conn| export_page(conn, kind, after, limit))
            .await
    }

    async fn import(&self, records: Vec<Record>) -> StoreResult<()> {
        self.inner
            .writer
            .write(move |ctx| records.iter().try_for_each(|r| import_record(ctx.conn, r)))
            .await
    }

    async fn count(&self, kind: RecordKind) -> StoreResult<u64> {
        let table = source(kind).table;
        self.read(move |conn| {
            Ok(conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
        })
        .await
    }
}
