//! Storing statements (through the ingest pipeline) and reading them: single statements,
//! voided ones, and paged queries with `more` tokens that any instance can continue.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Lrs;
use super::{LrsError, LrsResult};
use crate::auth::Principal;
use crate::ingest::Source;
use crate::store::{
    AttachmentData, Cursor, StatementQuery, StatementText, StoredStatement, TenantId,
};
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
    pub statements: PageStatements,
    pub more: Option<PageToken>,
    pub attachments: Vec<AttachmentData>,
}

/// A page's statements: parsed, to be formatted or sent with their attachments, or as
/// the store keeps them when they are shown exactly as stored and alone.
pub enum PageStatements {
    Parsed(Vec<Value>),
    Stored(Vec<StatementText>),
}

impl Lrs {
    /// Stores statements (one PUT/POST body) through the ingest pipeline, as sent by
    /// `principal`. Returns the statement ids in request order. All or nothing.
    pub async fn store_statements(
        &self,
        principal: &Principal,
        version: XapiVersion,
        statements: Vec<Value>,
        parts: Vec<AttachmentData>,
        batch: bool,
    ) -> LrsResult<Vec<String>> {
        let source = Source {
            tenant: principal.tenant,
            authority: &principal.authority,
            version,
            may_define: principal.scopes.can_define(),
        };
        Ok(self
            .ingest
            .statements(source, statements, parts, batch)
            .await?)
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
        if token.format == Format::Exact && !token.attachments {
            let page = self
                .store
                .statements
                .query_statement_texts(tenant, &token.query, cursor)
                .await?;
            return Ok(StatementsPage {
                statements: PageStatements::Stored(page.statements),
                more: page.next.map(|cursor| PageToken { cursor, ..token }),
                attachments: Vec::new(),
            });
        }
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
            statements: PageStatements::Parsed(page.statements),
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
