//! Connectors: what the gateway fetches from other services (course catalogs, completion
//! reports, talk feeds) and what it sends on (forwarding to other LRSs). Each source has
//! one module with its `Config` and its `run`; [`ConnectorConfig`] dispatches on the
//! `kind` of a stored configuration. Everything a connector brings in goes through the
//! one ingest pipeline (`lrs.ingest`), so it is validated, tagged and scored like any
//! statement a client posts.

pub mod csv_import;
pub mod forward;
pub mod linkedin;
pub mod retry;
pub mod runtime;
pub mod talks;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ingest::IngestError;
use crate::lrs::Lrs;
use crate::store::{StoreError, TenantId};
use retry::CallError;

/// A connector's configuration, by kind (`{"kind": "…", …}` in JSON and TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ConnectorConfig {
    Forward(forward::Config),
    LinkedinLearning(linkedin::Config),
    TalkFeed(talks::Config),
}

impl ConnectorConfig {
    /// One run of the connector: fetch or send what is new since its saved state.
    pub async fn run(&self, ctx: &RunContext) -> Result<RunOutcome, ConnectorError> {
        match self {
            ConnectorConfig::Forward(c) => forward::run(ctx, c).await,
            ConnectorConfig::LinkedinLearning(c) => linkedin::run(ctx, c).await,
            ConnectorConfig::TalkFeed(c) => talks::run(ctx, c).await,
        }
    }
}

/// What a run works with: the tenant and connector it runs for, the LRS it reads from and
/// writes to, and the HTTP client (timeouts set) for the other side.
#[derive(Clone)]
pub struct RunContext {
    pub tenant: TenantId,
    /// The connector's id.
    pub connector: String,
    pub lrs: Lrs,
    pub http: reqwest::Client,
    /// The authority recorded on statements the connector stores (an Agent naming it).
    pub authority: Value,
}

/// The stored state of a connector is `{"state": …, "status": …}`: the connector's own
/// state under `state` (what [`RunContext::state`] reads and [`RunContext::save_state`]
/// writes) and the runtime's [`runtime::Status`] under `status`.
const OWN_STATE: &str = "state";

impl RunContext {
    async fn state_document(&self) -> Result<serde_json::Map<String, Value>, ConnectorError> {
        let saved = self
            .lrs
            .store
            .connectors
            .connector_state(self.tenant, &self.connector)
            .await?;
        Ok(match saved {
            Some(Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        })
    }

    /// The connector's saved state, or the default for its first run.
    pub async fn state<T: DeserializeOwned + Default>(&self) -> Result<T, ConnectorError> {
        match self.state_document().await?.remove(OWN_STATE) {
            Some(value) if !value.is_null() => serde_json::from_value(value)
                .map_err(|e| ConnectorError::State(format!("saved state unreadable: {e}"))),
            _ => Ok(T::default()),
        }
    }

    /// Saves the connector's state durably: a run that stops after this resumes here.
    pub async fn save_state<T: Serialize>(&self, state: &T) -> Result<(), ConnectorError> {
        let value = serde_json::to_value(state)
            .map_err(|e| ConnectorError::State(format!("state not serialisable: {e}")))?;
        let mut document = self.state_document().await?;
        document.insert(OWN_STATE.into(), value);
        self.lrs
            .store
            .connectors
            .put_connector_state(self.tenant, &self.connector, Value::Object(document))
            .await?;
        Ok(())
    }
}

impl ConnectorConfig {
    /// Sends a forwarder's dead letters with these ids again (all of them when `ids` is
    /// empty); `None` for a kind that keeps no dead letters.
    pub async fn replay(
        &self,
        ctx: &RunContext,
        ids: &[String],
    ) -> Result<Option<RunOutcome>, ConnectorError> {
        match self {
            ConnectorConfig::Forward(c) => forward::replay(ctx, c, ids).await.map(Some),
            _ => Ok(None),
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunOutcome {
    /// Records read from the other side (or statements considered, for a forwarder).
    pub read: u64,
    /// Statements stored (or delivered, for a forwarder).
    pub stored: u64,
    /// Records skipped, each with why; a malformed record never stops a run.
    pub rejected: Vec<Rejected>,
}

/// A record a run could not use.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    /// Where it was: a line number, a report's URN, a statement id.
    pub record: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The configuration cannot work (a field is missing or wrong).
    #[error("configuration: {0}")]
    Config(String),
    #[error("state: {0}")]
    State(String),
    /// The other side answered something the connector cannot read.
    #[error("{0}")]
    Payload(String),
}
