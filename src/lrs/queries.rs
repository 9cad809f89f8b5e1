//! Reading statements as the Statements resource states it: a single statement, the first
//! page of a filtered query, or the page a `more` token continues to, always within what
//! the caller may read (with `statements/read/mine`, only what its own authority stored).

use serde_json::Value;

use super::statements::{PageToken, StatementsPage};
use super::{Lrs, LrsError, LrsResult};
use crate::auth::{Principal, StatementReads};
use crate::store::{AttachmentData, Cursor, StatementQuery};
use crate::xapi::statement::authority_key;
use crate::xapi::StatementFormat;

/// The filters of a statement query, already parsed.
#[derive(Debug, Clone, Default)]
pub struct StatementFilter {
    /// The IFI key of the `agent` parameter.
    pub agent: Option<String>,
    pub verb: Option<String>,
    pub activity: Option<String>,
    pub registration: Option<String>,
    pub related_agents: bool,
    pub related_activities: bool,
    /// Exclusive lower bound on `stored`, in Unix milliseconds.
    pub since_millis: Option<i64>,
    /// Inclusive upper bound on `stored`, in Unix milliseconds.
    pub until_millis: Option<i64>,
    pub ascending: bool,
    /// Page size, already capped.
    pub limit: u32,
}

/// How the statements of an answer are to be shown.
#[derive(Debug, Clone, Copy)]
pub struct Shown {
    pub format: StatementFormat,
    /// Whether the answer carries the attachments' contents (multipart/mixed).
    pub attachments: bool,
}

/// A page of statements and how to show it.
pub struct FoundPage {
    pub page: StatementsPage,
    pub shown: Shown,
}

/// One statement as stored.
pub struct FoundStatement {
    pub body: Value,
    pub stored_millis: i64,
    /// The attachments' contents, when asked for.
    pub attachments: Vec<AttachmentData>,
}

/// The authority key a caller's reads are restricted to, if any (`statements/read/mine`).
fn own_authority(principal: &Principal) -> Option<String> {
    (principal.scopes.statement_reads() == Some(StatementReads::Mine))
        .then(|| authority_key(&principal.authority))
}

impl Lrs {
    /// Up to when (Unix milliseconds) every stored statement is visible to queries.
    pub async fn consistent_through(&self) -> LrsResult<i64> {
        Ok(self.store.statements.consistent_through().await?)
    }

    /// A statement by `statementId` (`voided` false) or `voidedStatementId` (true), if the
    /// caller may read it.
    pub async fn read_statement(
        &self,
        principal: &Principal,
        id: &str,
        voided: bool,
        attachments: bool,
    ) -> LrsResult<FoundStatement> {
        let found = self.statement(principal.tenant, id, voided).await?;
        let theirs = found.body.get("authority").map(authority_key);
        if own_authority(principal).is_some_and(|own| theirs.as_ref() != Some(&own)) {
            return Err(LrsError::NotFound(format!("no statement {id}")));
        }
        let attachments = if attachments {
            self.attachments_of(principal.tenant, std::slice::from_ref(&found.body))
                .await?
        } else {
            Vec::new()
        };
        Ok(FoundStatement {
            body: found.body,
            stored_millis: found.stored_millis,
            attachments,
        })
    }

    /// The first page of the statements matching `filter` that the caller may read.
    pub async fn find_statements(
        &self,
        principal: &Principal,
        filter: StatementFilter,
        shown: Shown,
    ) -> LrsResult<FoundPage> {
        let query = StatementQuery {
            agent: filter.agent,
            verb: filter.verb,
            activity: filter.activity,
            registration: filter.registration,
            related_agents: filter.related_agents,
            related_activities: filter.related_activities,
            since_millis: filter.since_millis,
            until_millis: filter.until_millis,
            ascending: filter.ascending,
            limit: filter.limit,
            authority: own_authority(principal),
        };
        let token = PageToken {
            query,
            cursor: Cursor {
                after: None,
                bound: 0,
            },
            format: shown.format.into(),
            attachments: shown.attachments,
        };
        let page = self.query_statements(principal.tenant, token, true).await?;
        Ok(FoundPage { page, shown })
    }

    /// The page a `more` token continues to, shown as the first page was.
    pub async fn more_statements(&self, principal: &Principal, more: &str) -> LrsResult<FoundPage> {
        let mut token = PageToken::decode(more)?;
        // The restriction comes from the caller, never from a token it could edit.
        if let Some(own) = own_authority(principal) {
            token.query.authority = Some(own);
        }
        let shown = Shown {
            format: token.format.into(),
            attachments: token.attachments,
        };
        let page = self
            .query_statements(principal.tenant, token, false)
            .await?;
        Ok(FoundPage { page, shown })
    }
}
