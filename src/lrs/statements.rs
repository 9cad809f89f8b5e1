//! Storing and reading statements: validation, attachments and signatures, voiding, and
//! paged queries with `more` tokens that any instance can continue.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::Lrs;
use super::{LrsError, LrsResult};
use crate::auth::Principal;
use crate::evidence::teams::seen_teams;
use crate::evidence::{EvidenceItem, FeedEvent};
use crate::store::{AttachmentData, Cursor, StatementQuery, StoredStatement, TenantId};
use crate::xapi::signature::{self, SIGNATURE_CONTENT_TYPE, SIGNATURE_USAGE};
use crate::xapi::statement::{index_keys, prepare, Assigned};
use crate::xapi::Violation;
use crate::xapi::{StatementFormat, XapiVersion};

/// Everything a `more` link must remember to serve the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageToken {
    pub query: StatementQuery,
    pub cursor: Cursor,
    pub format: Format,
    pub attachments: bool,
}

/// Serializable mirror of [`StatementFormat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    Exact,
    Ids,
    Canonical,
}

impl From<StatementFormat> for Format {
    fn from(f: StatementFormat) -> Self {
        match f {
            StatementFormat::Exact => Format::Exact,
            StatementFormat::Ids => Format::Ids,
            StatementFormat::Canonical => Format::Canonical,
        }
    }
}

impl From<Format> for StatementFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Exact => StatementFormat::Exact,
            Format::Ids => StatementFormat::Ids,
            Format::Canonical => StatementFormat::Canonical,
        }
    }
}

impl PageToken {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(raw: &str) -> LrsResult<Self> {
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| {
                Violation::new(
                    "more",
                    "more-token",
                    "the `more` token is not one this LRS issued",
                )
            })?)
    }
}

/// One page of statements with the attachments they reference (when asked for).
pub struct StatementsPage {
    pub statements: Vec<Value>,
    pub more: Option<PageToken>,
    pub attachments: Vec<AttachmentData>,
}

impl Lrs {
    /// Validates and stores statements (one PUT/POST body) with the attachment parts that
    /// came with them. Returns the statement ids in request order. All or nothing.
    pub async fn store_statements(
        &self,
        principal: &Principal,
        version: XapiVersion,
        statements: Vec<Value>,
        mut parts: Vec<AttachmentData>,
        batch: bool,
    ) -> LrsResult<Vec<String>> {
        let mut seen = HashSet::new();
        for (i, s) in statements.iter().enumerate() {
            let prefix = if batch {
                format!("/{i}")
            } else {
                String::new()
            };
            self.validator
                .statement(version, s)
                .map_err(|v| LrsError::Invalid(v.under(&prefix)))?;
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
        check_attachments(&statements, &mut parts, batch)?;

        let assigned = Assigned {
            authority: &principal.authority,
            version,
        };
        let tags = self
            .competencies
            .tag_at_ingest(principal.tenant, &statements)
            .await?;
        let mut prepared = Vec::with_capacity(statements.len());
        let define = principal.scopes.can_define();
        let now = chrono::Utc::now().timestamp_millis();
        for (s, tags) in statements.into_iter().zip(tags) {
            let teams = seen_teams(&s);
            let mut evidence = self.competencies.evidence_at_ingest(&s, "", &tags, now);
            let mut p = prepare(s, &assigned);
            // The id is known once `prepare` has assigned one to a statement without.
            for e in &mut evidence {
                e.statement.clone_from(&p.id);
            }
            p.evidence = evidence;
            p.tags = tags;
            p.teams = teams;
            if !define {
                // Stored as sent, but without `define` the Activities and Agents resources
                // are not updated from it.
                p.activities.clear();
                p.agent_names.clear();
            }
            if let Some(target) = p.references.clone() {
                if let Some(t) = self
                    .store
                    .statements
                    .statement(principal.tenant, &target)
                    .await?
                {
                    p.inherit_index(&index_keys(&t.body));
                }
            }
            prepared.push(p);
        }
        let ids = prepared.iter().map(|p| p.id.clone()).collect();
        let evidence: Vec<EvidenceItem> = if self.feed.listened() {
            prepared.iter().flat_map(|p| p.evidence.clone()).collect()
        } else {
            Vec::new()
        };
        self.store
            .statements
            .insert_statements(principal.tenant, prepared, parts)
            .await?;
        self.announce(principal.tenant, evidence).await;
        Ok(ids)
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

    /// A single statement by `statementId` (`voided` false) or `voidedStatementId` (true).
    pub async fn statement(
        &self,
        tenant: TenantId,
        id: &str,
        voided: bool,
    ) -> LrsResult<StoredStatement> {
        let found = self.store.statements.statement(tenant, id).await?;
        match found {
            Some(s) if s.voided == voided => Ok(s),
            Some(_) if voided => Err(LrsError::NotFound(format!("statement {id} is not voided"))),
            Some(_) => Err(LrsError::NotFound(format!(
                "statement {id} is voided; use voidedStatementId"
            ))),
            None => Err(LrsError::NotFound(format!("no statement {id}"))),
        }
    }

    /// One page of a statement query; `token` continues a previous page.
    pub async fn query_statements(
        &self,
        tenant: TenantId,
        token: PageToken,
        first: bool,
    ) -> LrsResult<StatementsPage> {
        let cursor = if first { None } else { Some(token.cursor) };
        let page = self
            .store
            .statements
            .query_statements(tenant, &token.query, cursor)
            .await?;
        let attachments = if token.attachments {
            self.attachments_of(tenant, &page.statements).await?
        } else {
            Vec::new()
        };
        let more = page.next.map(|cursor| PageToken { cursor, ..token });
        Ok(StatementsPage {
            statements: page.statements,
            more,
            attachments,
        })
    }

    /// The stored attachment contents referenced by the given statements.
    pub async fn attachments_of(
        &self,
        tenant: TenantId,
        statements: &[Value],
    ) -> LrsResult<Vec<AttachmentData>> {
        let mut hashes: Vec<String> = Vec::new();
        for s in statements {
            let listed = s
                .get("attachments")
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            for a in listed {
                if let Some(h) = a.get("sha2").and_then(Value::as_str) {
                    let h = h.to_ascii_lowercase();
                    if !hashes.contains(&h) {
                        hashes.push(h);
                    }
                }
            }
        }
        Ok(self.store.statements.attachments(tenant, &hashes).await?)
    }
}

/// Every declared attachment without a `fileUrl` needs a part with its hash; every part must
/// be declared and hash to what it claims; signature parts must hold a matching JWS.
fn check_attachments(
    statements: &[Value],
    parts: &mut Vec<AttachmentData>,
    batch: bool,
) -> LrsResult<()> {
    let mut by_hash: HashMap<String, &AttachmentData> = HashMap::new();
    for (i, p) in parts.iter().enumerate() {
        let actual = hex::encode(Sha256::digest(&p.content));
        if actual != p.sha2 {
            return Err(Violation::new(
                format!("attachment part {}", i + 1),
                "attachment-hash",
                format!(
                    "the part's content hashes to {actual}, not to the {} it declares",
                    p.sha2
                ),
            )
            .into());
        }
        by_hash.insert(p.sha2.clone(), p);
    }
    let mut declared = HashSet::new();
    for (i, s) in statements.iter().enumerate() {
        let prefix = if batch {
            format!("/{i}")
        } else {
            String::new()
        };
        for (j, a) in s
            .get("attachments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let ptr = format!("{prefix}/attachments/{j}");
            let sha2 = a
                .get("sha2")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase();
            declared.insert(sha2.clone());
            let part = by_hash.get(&sha2);
            if part.is_none() && a.get("fileUrl").is_none() {
                return Err(Violation::new(
                    format!("{ptr}/sha2"),
                    "attachment-missing",
                    "the attachment has no fileUrl and no multipart part carries its content",
                )
                .into());
            }
            if a.get("usageType").and_then(Value::as_str) == Some(SIGNATURE_USAGE) {
                if a.get("contentType").and_then(Value::as_str) != Some(SIGNATURE_CONTENT_TYPE) {
                    return Err(Violation::new(
                        format!("{ptr}/contentType"),
                        "signature",
                        "a signature attachment must have contentType application/octet-stream",
                    )
                    .into());
                }
                if let Some(part) = part {
                    signature::verify(s, &part.content, &ptr).map_err(LrsError::Invalid)?;
                }
            }
        }
    }
    if let Some(extra) = parts.iter().find(|p| !declared.contains(&p.sha2)) {
        return Err(Violation::new(
            HASH_HEADER_NAME,
            "attachment-undeclared",
            format!(
                "the part with hash {} matches no attachment of the statements",
                extra.sha2
            ),
        )
        .into());
    }
    // One stored copy per content.
    let mut unique = HashSet::new();
    parts.retain(|p| unique.insert(p.sha2.clone()));
    Ok(())
}

const HASH_HEADER_NAME: &str = "X-Experience-API-Hash";
