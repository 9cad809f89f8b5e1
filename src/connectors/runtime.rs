//! Running connectors: a configured connector (id, kind's configuration, schedule, on or
//! off), the scheduler that runs those that are due, and one run with everything around
//! it — the lease that lets one gateway among many run a connector, the HTTP client, the
//! authority statements are stored under, and the status every run leaves behind.
//!
//! A connector's stored configuration is one JSON object: its `kind` and that kind's
//! fields, plus `every_minutes` (absent: it runs only when asked) and `enabled` (absent:
//! true; off, the scheduler skips it — a run asked for still happens). Its stored state is
//! `{"state": …, "status": …}`: `state` is the connector's own (high-water marks,
//! cursors; see [`RunContext::state`]), `status` is this module's [`Status`].
//!
//! A failing run never fails silently: it is logged at error level with the connector's
//! id and the error, and its status keeps the error and the count of failures in a row.
//! Errors are scrubbed of the configuration's secret values before they are logged or kept.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{ConnectorConfig, Rejected, RunContext, RunOutcome};
use crate::config::Settings;
use crate::lrs::Lrs;
use crate::store::connectors::{lease_prefix, ConnectorRecord};
use crate::store::{Store, StoreError, TenantId};

/// What a secret's value is shown as.
pub const MASK: &str = "***";
/// How long a run's lease lasts unless renewed; a gateway that dies mid-run holds the
/// connector no longer than this.
const LEASE_TTL_MILLIS: i64 = 120_000;
/// How often a running connector's lease is renewed.
const LEASE_RENEW: Duration = Duration::from_secs(30);
/// Rejected records kept in a status (the count is kept whole).
const REJECTED_KEPT: usize = 20;
/// The longest schedule interval: a year.
const MAX_EVERY_MINUTES: u64 = 525_600;

/// Whether a configuration field holds a secret, which is never shown or logged:
/// `client_secret`, `password`, `token`, `secret`, and names ending in `_secret`,
/// `_password` or `_token`.
pub fn is_secret_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "client_secret" | "password" | "token" | "secret"
    ) || ["_secret", "_password", "_token"]
        .iter()
        .any(|end| name.ends_with(end))
}

/// The configuration with every secret field's value (at any depth) replaced by `***`.
pub fn masked(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let shown = if is_secret_field(k) && !v.is_null() {
                        Value::from(MASK)
                    } else {
                        masked(v)
                    };
                    (k.clone(), shown)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(masked).collect()),
        other => other.clone(),
    }
}

/// Every secret value of a configuration, as text.
fn secret_values(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if is_secret_field(k) {
                    match v {
                        Value::String(s) if !s.is_empty() => out.push(s.clone()),
                        Value::Null | Value::String(_) => {}
                        other => out.push(other.to_string()),
                    }
                } else {
                    secret_values(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| secret_values(v, out)),
        // The password of a URL's user information (`https://user:password@host/…`).
        Value::String(s) => {
            let userinfo = s
                .split_once("://")
                .and_then(|(_, rest)| rest.split(['/', '?', '#']).next())
                .and_then(|authority| authority.rsplit_once('@'))
                .and_then(|(userinfo, _)| userinfo.split_once(':'));
            if let Some((_, password)) = userinfo.filter(|(_, p)| !p.is_empty()) {
                out.push(password.to_owned());
            }
        }
        _ => {}
    }
}

/// `text` with every secret value of `config` replaced by `***`.
pub fn scrub(text: &str, config: &Value) -> String {
    let mut secrets = Vec::new();
    secret_values(config, &mut secrets);
    // Longest first, so a secret containing another is hidden whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.iter().fold(text.to_owned(), |text, secret| {
        text.replace(secret.as_str(), MASK)
    })
}

/// A configuration sent back as it was shown: secret fields whose value is `***` keep the
/// value stored at the same place in `stored`.
pub fn unmask(new: &mut Value, stored: &Value) {
    match (new, stored) {
        (Value::Object(new), Value::Object(stored)) => {
            for (k, v) in new.iter_mut() {
                match stored.get(k) {
                    Some(old) if is_secret_field(k) && v.as_str() == Some(MASK) => {
                        *v = old.clone();
                    }
                    Some(old) => unmask(v, old),
                    None => {}
                }
            }
        }
        (Value::Array(new), Value::Array(stored)) => {
            for (v, old) in new.iter_mut().zip(stored) {
                unmask(v, old);
            }
        }
        _ => {}
    }
}

/// A connector id: 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or
/// digit (it is a URL path segment and part of a lease's name).
pub fn check_id(id: &str) -> Result<(), ConfigError> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(ConfigError {
            pointer: "id".into(),
            message: format!(
                "connector id `{id}`: use 1 to 64 letters, digits, `.`, `_` or `-`, starting with a letter or digit"
            ),
        })
    }
}

/// When a connector runs by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Minutes between the starts of two runs; `None`: only when asked.
    pub every_minutes: Option<u64>,
    pub enabled: bool,
}

impl Schedule {
    /// Reads `every_minutes` and `enabled` from a stored configuration.
    pub fn of(config: &Value) -> Result<Schedule, ConfigError> {
        let every_minutes = match config.get("every_minutes") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(n) if (1..=MAX_EVERY_MINUTES).contains(&n) => Some(n),
                _ => {
                    return Err(ConfigError {
                        pointer: "/every_minutes".into(),
                        message: format!(
                            "every_minutes must be a whole number from 1 to {MAX_EVERY_MINUTES} (or absent: run only when asked), not {v}"
                        ),
                    })
                }
            },
        };
        let enabled = match config.get("enabled") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(v) => {
                return Err(ConfigError {
                    pointer: "/enabled".into(),
                    message: format!("enabled must be true or false, not {v}"),
                })
            }
        };
        Ok(Schedule {
            every_minutes,
            enabled,
        })
    }

    /// When the next scheduled run is due, given the status: an interval after the last
    /// start, or now for a connector that never ran. `None` when it is not scheduled.
    pub fn next_run_millis(&self, status: &Status, now_millis: i64) -> Option<i64> {
        let every = self.every_minutes.filter(|_| self.enabled)?;
        let interval = i64::try_from(every).unwrap_or(i64::MAX / 60_000) * 60_000;
        Some(
            status
                .last_started_millis
                .map_or(now_millis, |s| s.saturating_add(interval)),
        )
    }
}

/// A configuration that cannot be used: where (a JSON pointer into the configuration) and
/// why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub struct ConfigError {
    pub pointer: String,
    pub message: String,
}

/// A configured connector.
#[derive(Debug, Clone, PartialEq)]
pub struct Connector {
    pub id: String,
    pub config: ConnectorConfig,
    pub schedule: Schedule,
}

impl Connector {
    /// Reads a stored (or submitted) configuration: the schedule fields, then the kind's
    /// configuration from the rest. An error names the field.
    pub fn parse(id: &str, body: &Value) -> Result<Connector, ConfigError> {
        check_id(id)?;
        let Value::Object(map) = body else {
            return Err(ConfigError {
                pointer: String::new(),
                message: "a connector's configuration is a JSON object with its `kind`".into(),
            });
        };
        let schedule = Schedule::of(body)?;
        let rest: Map<String, Value> = map
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "every_minutes" | "enabled"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        match rest.get("kind") {
            Some(Value::String(_)) => {}
            Some(other) => {
                return Err(ConfigError {
                    pointer: "/kind".into(),
                    message: format!("kind must be a string naming the connector, not {other}"),
                })
            }
            None => {
                return Err(ConfigError {
                    pointer: "/kind".into(),
                    message: "missing field `kind` (the kind of connector)".into(),
                })
            }
        }
        let rest = Value::Object(rest);
        let config = serde_json::from_value::<ConnectorConfig>(rest.clone()).map_err(|e| {
            let message = e.to_string();
            ConfigError {
                pointer: locate(&message, &rest),
                message,
            }
        })?;
        Ok(Connector {
            id: id.to_owned(),
            config,
            schedule,
        })
    }
}

/// Where in `body` serde's error `message` points: the field a missing-, unknown- or
/// duplicate-field message names, the `kind` for an unknown variant, or the first value
/// of the kind and content an invalid-type or invalid-value message describes (the
/// configuration's kind is read from a buffer, which loses serde's own path).
fn locate(message: &str, body: &Value) -> String {
    let quoted = |after: &str| -> Option<String> {
        let start = message.find(after)? + after.len();
        let rest = &message[start..];
        let end = rest.find('`')?;
        Some(rest[..end].to_owned())
    };
    if let Some(field) = quoted("missing field `") {
        return format!("/{field}");
    }
    for prefix in ["unknown field `", "duplicate field `"] {
        if let Some(field) = quoted(prefix) {
            return find(body, "", &|k, _| k == field).unwrap_or(format!("/{field}"));
        }
    }
    if let Some(variant) = quoted("unknown variant `") {
        if body.get("kind").and_then(Value::as_str) == Some(variant.as_str()) {
            return "/kind".into();
        }
        return find(body, "", &|_, v| v.as_str() == Some(variant.as_str())).unwrap_or_default();
    }
    let described = ["invalid type: ", "invalid value: "]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|rest| rest.split(", expected").next());
    let Some(unexpected) = described else {
        return String::new();
    };
    let matches = |v: &Value| -> bool {
        if let Some(text) = unexpected
            .strip_prefix("string \"")
            .and_then(|s| s.strip_suffix('"'))
        {
            return v.as_str() == Some(text);
        }
        let number = |prefix: &str| {
            unexpected
                .strip_prefix(prefix)
                .map(|s| s.trim_matches('`').to_owned())
        };
        if let Some(n) = number("integer ").or_else(|| number("floating point ")) {
            return v.as_f64().is_some() && v.as_f64() == n.parse::<f64>().ok();
        }
        if let Some(b) = number("boolean ") {
            return v.as_bool().map(|x| x.to_string()) == Some(b);
        }
        match unexpected {
            "map" => v.is_object(),
            "sequence" => v.is_array(),
            "null" | "unit value" => v.is_null(),
            _ => false,
        }
    };
    find(body, "", &|k, v| k != "kind" && matches(v)).unwrap_or_default()
}

/// The JSON pointer of the first member (depth first) for which `hit(name, value)` holds.
fn find(value: &Value, at: &str, hit: &dyn Fn(&str, &Value) -> bool) -> Option<String> {
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match value {
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = format!("{at}/{}", escape(k));
            if hit(k, v) {
                Some(here)
            } else {
                find(v, &here, hit)
            }
        }),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            let here = format!("{at}/{i}");
            if hit("", v) {
                Some(here)
            } else {
                find(v, &here, hit)
            }
        }),
        _ => None,
    }
}

/// What runs of a connector left behind, kept in its stored state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Status {
    /// Set while a run is under way (and, if the gateway running it stopped mid-run,
    /// until the next run).
    pub running_since_millis: Option<i64>,
    /// The gateway process running it then.
    pub running_owner: Option<String>,
    pub last_started_millis: Option<i64>,
    pub last_finished_millis: Option<i64>,
    pub last_success_millis: Option<i64>,
    /// What the last successful run did.
    pub last_outcome: Option<OutcomeSummary>,
    /// The last failed run's error (cleared by a success).
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    pub runs: u64,
    pub failures: u64,
    /// Over every run.
    pub totals: Counts,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counts {
    pub read: u64,
    pub stored: u64,
    pub rejected: u64,
}

/// A run's outcome as a status keeps it: the counts and the first rejected records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OutcomeSummary {
    pub counts: Counts,
    pub rejected: Vec<RejectedRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRecord {
    pub record: String,
    pub reason: String,
}

impl OutcomeSummary {
    fn of(outcome: &RunOutcome) -> Self {
        OutcomeSummary {
            counts: Counts {
                read: outcome.read,
                stored: outcome.stored,
                rejected: outcome.rejected.len() as u64,
            },
            rejected: outcome
                .rejected
                .iter()
                .take(REJECTED_KEPT)
                .map(|Rejected { record, reason }| RejectedRecord {
                    record: record.clone(),
                    reason: reason.clone(),
                })
                .collect(),
        }
    }
}

/// A connector's stored state document: `{"state": …, "status": …}`.
async fn state_document(store: &Store, tenant: TenantId, id: &str) -> Result<Value, StoreError> {
    Ok(store
        .connectors
        .connector_state(tenant, id)
        .await?
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({})))
}

/// A connector's status and its own state (`None` before its first save).
pub async fn status_of(
    store: &Store,
    tenant: TenantId,
    id: &str,
) -> Result<(Status, Option<Value>), StoreError> {
    let doc = state_document(store, tenant, id).await?;
    let status = doc
        .get("status")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or_default();
    Ok((status, doc.get("state").cloned().filter(|s| !s.is_null())))
}

async fn save_status(
    store: &Store,
    tenant: TenantId,
    id: &str,
    status: &Status,
) -> Result<(), StoreError> {
    let mut doc = state_document(store, tenant, id).await?;
    let value = serde_json::to_value(status).map_err(|e| StoreError::Backend(e.into()))?;
    if let Some(map) = doc.as_object_mut() {
        map.insert("status".into(), value);
    }
    store.connectors.put_connector_state(tenant, id, doc).await
}

/// Why a run did not happen or did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no connector `{0}`")]
    NotFound(String),
    /// Running already, here or on another gateway.
    #[error("{0}")]
    Busy(String),
    /// Not due (a scheduled run that another gateway has just done).
    #[error("not due")]
    NotDue,
    /// The run failed; its status records the error (scrubbed of secrets).
    #[error("{0}")]
    Failed(String),
    /// The kind keeps no dead letters.
    #[error("{0}")]
    Unsupported(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A run that succeeded.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub connector: String,
    pub started_millis: i64,
    pub finished_millis: i64,
    pub outcome: RunOutcome,
}

/// Why a run is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The scheduler found it due.
    Schedule,
    /// The API or the command line asked.
    Manual,
}

/// Runs connectors for one gateway process: the scheduler, runs asked for, replays.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    lrs: Lrs,
    http: reqwest::Client,
    /// This process's name in leases.
    owner: String,
    /// The `homePage` of connectors' authority accounts.
    home_page: String,
    /// Connectors running in this process, by (tenant, id).
    running: Mutex<HashSet<(TenantId, String)>>,
    tick: Duration,
}

/// Marks a connector running in this process until dropped.
struct Running {
    inner: Arc<Inner>,
    key: (TenantId, String),
}

impl Running {
    fn enter(inner: &Arc<Inner>, tenant: TenantId, id: &str) -> Option<Running> {
        let key = (tenant, id.to_owned());
        let mut running = inner
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        running.insert(key.clone()).then(|| Running {
            inner: inner.clone(),
            key,
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.inner
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.key);
    }
}

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Builds the gateway's connector runtime, puts the connectors declared in the settings
/// into the store and, when `connectors_enabled`, starts the scheduler (it stops when the
/// runtime is dropped).
pub async fn start(lrs: &Lrs, settings: &Settings) -> anyhow::Result<Runtime> {
    let runtime = Runtime::new(lrs.clone(), settings)?;
    runtime.declare(&settings.connectors).await?;
    if settings.connectors_enabled {
        runtime.start_scheduler();
    }
    Ok(runtime)
}

impl Runtime {
    pub fn new(lrs: Lrs, settings: &Settings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(settings.connector_connect_timeout_secs))
            .read_timeout(Duration::from_secs(settings.connector_read_timeout_secs))
            .user_agent(concat!("lrsgate/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Runtime {
            inner: Arc::new(Inner {
                lrs,
                http,
                owner: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
                home_page: settings.token_issuer.clone(),
                running: Mutex::new(HashSet::new()),
                tick: Duration::from_secs(settings.connector_tick_secs.max(1)),
            }),
        })
    }

    /// This process's name in leases.
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    pub fn store(&self) -> &Store {
        &self.inner.lrs.store
    }

    /// The authority of statements a connector stores: an Agent naming it.
    pub fn authority(&self, id: &str) -> Value {
        json!({
            "objectType": "Agent",
            "account": {"homePage": self.inner.home_page, "name": format!("connector:{id}")},
        })
    }

    /// What a run of the connector works with.
    pub fn context(&self, tenant: TenantId, id: &str) -> RunContext {
        RunContext {
            tenant,
            connector: id.to_owned(),
            lrs: self.inner.lrs.clone(),
            http: self.inner.http.clone(),
            authority: self.authority(id),
        }
    }

    /// Whether the connector is running in this process now.
    pub fn is_running_here(&self, tenant: TenantId, id: &str) -> bool {
        self.inner
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&(tenant, id.to_owned()))
    }

    /// Puts connectors declared in the configuration file into the store: each entry is
    /// `id`, an optional `tenant` (a tenant's name; the default tenant otherwise) and the
    /// connector's configuration. An entry that does not parse stops the start.
    pub async fn declare(&self, entries: &[Value]) -> anyhow::Result<()> {
        let store = self.store();
        for (n, entry) in entries.iter().enumerate() {
            let mut body = entry.clone();
            let map = body
                .as_object_mut()
                .ok_or_else(|| anyhow::anyhow!("connectors[{n}]: a table is expected"))?;
            let id = match map.remove("id") {
                Some(Value::String(id)) => id,
                _ => anyhow::bail!("connectors[{n}]: `id` (a string) is required"),
            };
            let tenant = match map.remove("tenant") {
                None => crate::store::DEFAULT_TENANT,
                Some(Value::String(name)) => {
                    store
                        .tenants
                        .tenant_named(&name)
                        .await?
                        .ok_or_else(|| {
                            anyhow::anyhow!("connectors[{n}] ({id}): no tenant named `{name}`")
                        })?
                        .id
                }
                Some(other) => anyhow::bail!(
                    "connectors[{n}] ({id}): `tenant` must be a tenant's name, not {other}"
                ),
            };
            Connector::parse(&id, &body)
                .map_err(|e| anyhow::anyhow!("connectors[{n}] ({id}): {e}"))?;
            let record = ConnectorRecord {
                id: id.clone(),
                config: body,
                updated_millis: now_millis(),
            };
            store.connectors.put_connector(tenant, record).await?;
            tracing::info!(tenant, connector = %id, "connector declared in the configuration file");
        }
        Ok(())
    }

    /// Starts the scheduler: every `connector_tick_secs` it runs the connectors that are
    /// due, each in its own task. It ends when the last handle on the runtime is dropped.
    pub fn start_scheduler(&self) {
        let weak = Arc::downgrade(&self.inner);
        let tick = self.inner.tick;
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(tick);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                Runtime { inner }.run_due().await;
            }
        });
    }

    /// Starts a run of every enabled, scheduled connector that is due and not running
    /// here; the runs go on in their own tasks.
    pub async fn run_due(&self) {
        let all = match self.store().connectors.all_connectors().await {
            Ok(all) => all,
            Err(e) => {
                tracing::warn!(error = %e, "connector scheduler: listing connectors failed");
                return;
            }
        };
        let now = now_millis();
        for (tenant, record) in all {
            let Ok(schedule) = Schedule::of(&record.config) else {
                continue;
            };
            if schedule.every_minutes.is_none()
                || !schedule.enabled
                || self.is_running_here(tenant, &record.id)
            {
                continue;
            }
            let status = match status_of(self.store(), tenant, &record.id).await {
                Ok((status, _)) => status,
                Err(e) => {
                    tracing::warn!(tenant, connector = %record.id, error = %e, "connector scheduler: reading the status failed");
                    continue;
                }
            };
            if schedule
                .next_run_millis(&status, now)
                .is_some_and(|due| due <= now)
            {
                let runtime = self.clone();
                tokio::spawn(async move {
                    // Failures are logged and recorded by the run itself.
                    let _ = runtime.run(tenant, &record.id, Trigger::Schedule).await;
                });
            }
        }
    }

    /// Runs the connector now (a scheduled run only if it is still due), holding its
    /// lease; records the status and logs the outcome.
    pub async fn run(
        &self,
        tenant: TenantId,
        id: &str,
        trigger: Trigger,
    ) -> Result<RunReport, RunError> {
        self.leased(tenant, id, |record| {
            self.run_leased(tenant, record, trigger)
        })
        .await
    }

    /// Sends the given dead letters of a forwarder again (all of them when `ids` is
    /// empty), holding the connector's lease.
    pub async fn replay(
        &self,
        tenant: TenantId,
        id: &str,
        ids: &[String],
    ) -> Result<RunOutcome, RunError> {
        self.leased(tenant, id, |record| async move {
            let connector = Connector::parse(id, &record.config)
                .map_err(|e| RunError::Failed(format!("configuration: {e}")))?;
            let ctx = self.context(tenant, id);
            match connector.config.replay(&ctx, ids).await {
                Ok(Some(outcome)) => {
                    tracing::info!(
                        tenant,
                        connector = %id,
                        replayed = outcome.stored,
                        refused = outcome.rejected.len(),
                        "dead letters replayed"
                    );
                    Ok(outcome)
                }
                Ok(None) => Err(RunError::Unsupported(format!(
                    "connector `{id}` keeps no dead letters (only forwarders do)"
                ))),
                Err(e) => {
                    let message = scrub(&e.to_string(), &record.config);
                    tracing::error!(tenant, connector = %id, error = %message, "replaying dead letters failed");
                    Err(RunError::Failed(message))
                }
            }
        })
        .await
    }

    /// Runs `work` with the connector marked running here and its lease held (renewed
    /// while it works; given up after).
    async fn leased<'a, T, F, Fut>(
        &'a self,
        tenant: TenantId,
        id: &'a str,
        work: F,
    ) -> Result<T, RunError>
    where
        F: FnOnce(ConnectorRecord) -> Fut,
        Fut: std::future::Future<Output = Result<T, RunError>> + 'a,
    {
        let Some(_running) = Running::enter(&self.inner, tenant, id) else {
            return Err(RunError::Busy(format!(
                "connector `{id}` is running on this gateway"
            )));
        };
        let store = self.store();
        let record = store
            .connectors
            .connector(tenant, id)
            .await?
            .ok_or_else(|| RunError::NotFound(id.to_owned()))?;
        let lease = lease_prefix(tenant, id);
        let owner = &self.inner.owner;
        if !store
            .connectors
            .acquire_lease(&lease, owner, now_millis(), LEASE_TTL_MILLIS)
            .await?
        {
            return Err(RunError::Busy(format!(
                "connector `{id}` is running on another gateway"
            )));
        }
        let renew = async {
            loop {
                tokio::time::sleep(LEASE_RENEW).await;
                match store
                    .connectors
                    .acquire_lease(&lease, owner, now_millis(), LEASE_TTL_MILLIS)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        return format!("connector `{id}`: another gateway took its lease")
                    }
                    Err(e) => {
                        tracing::warn!(tenant, connector = %id, error = %e, "renewing a connector's lease failed; retrying");
                    }
                }
            }
        };
        let result = tokio::select! {
            result = work(record) => result,
            lost = renew => {
                tracing::error!(tenant, connector = %id, "{lost}; this run stops");
                Err(RunError::Failed(lost))
            }
        };
        if let Err(e) = store.connectors.release_lease(&lease, owner).await {
            tracing::warn!(tenant, connector = %id, error = %e, "releasing a connector's lease failed (it expires by itself)");
        }
        result
    }

    async fn run_leased(
        &self,
        tenant: TenantId,
        record: ConnectorRecord,
        trigger: Trigger,
    ) -> Result<RunReport, RunError> {
        let store = self.store();
        let id = record.id.as_str();
        let (mut status, _) = status_of(store, tenant, id).await?;
        let started = now_millis();
        if trigger == Trigger::Schedule {
            // Another gateway may have run it between the look and the lease.
            let due = Schedule::of(&record.config)
                .ok()
                .and_then(|s| s.next_run_millis(&status, started))
                .is_some_and(|due| due <= started);
            if !due {
                return Err(RunError::NotDue);
            }
        }
        status.running_since_millis = Some(started);
        status.running_owner = Some(self.inner.owner.clone());
        status.last_started_millis = Some(started);
        save_status(store, tenant, id, &status).await?;
        tracing::info!(tenant, connector = %id, ?trigger, "connector run started");

        let result = match Connector::parse(id, &record.config) {
            Ok(connector) => connector
                .config
                .run(&self.context(tenant, id))
                .await
                .map_err(|e| scrub(&e.to_string(), &record.config)),
            Err(e) => Err(format!("configuration: {e}")),
        };

        let finished = now_millis();
        // Reread: the run saved its own state meanwhile.
        let (mut status, _) = status_of(store, tenant, id).await?;
        status.running_since_millis = None;
        status.running_owner = None;
        status.last_started_millis = Some(started);
        status.last_finished_millis = Some(finished);
        status.runs += 1;
        let report = match result {
            Ok(outcome) => {
                let summary = OutcomeSummary::of(&outcome);
                status.last_success_millis = Some(finished);
                status.last_error = None;
                status.consecutive_failures = 0;
                status.totals.read += summary.counts.read;
                status.totals.stored += summary.counts.stored;
                status.totals.rejected += summary.counts.rejected;
                if let Some(first) = outcome.rejected.first() {
                    tracing::warn!(
                        tenant,
                        connector = %id,
                        rejected = outcome.rejected.len(),
                        first_record = %first.record,
                        first_reason = %first.reason,
                        "connector run rejected records"
                    );
                }
                tracing::info!(
                    tenant,
                    connector = %id,
                    read = outcome.read,
                    stored = outcome.stored,
                    rejected = outcome.rejected.len(),
                    millis = finished - started,
                    "connector run finished"
                );
                status.last_outcome = Some(summary);
                Ok(RunReport {
                    connector: id.to_owned(),
                    started_millis: started,
                    finished_millis: finished,
                    outcome,
                })
            }
            Err(message) => {
                status.last_error = Some(message.clone());
                status.consecutive_failures += 1;
                status.failures += 1;
                tracing::error!(
                    tenant,
                    connector = %id,
                    error = %message,
                    consecutive_failures = status.consecutive_failures,
                    "connector run failed"
                );
                Err(RunError::Failed(message))
            }
        };
        if let Err(e) = save_status(store, tenant, id, &status).await {
            tracing::error!(tenant, connector = %id, error = %e, "recording a connector's status failed");
        }
        publish(tenant, id, &status);
        report
    }
}

/// The connector's status as Prometheus gauges (those of runs in this process).
fn publish(tenant: TenantId, id: &str, status: &Status) {
    let labels = vec![
        ("tenant".to_owned(), tenant.to_string()),
        ("connector".to_owned(), id.to_owned()),
    ];
    let failures = crate::metrics::gauge_family(
        "lrsgate_connector_consecutive_failures",
        "Failed runs of the connector in a row (0 after a success)",
    );
    failures
        .get_or_create(&labels)
        .set(i64::from(status.consecutive_failures));
    if let Some(success) = status.last_success_millis {
        crate::metrics::gauge_family(
            "lrsgate_connector_last_success_timestamp_seconds",
            "When the connector's last successful run finished, in Unix seconds",
        )
        .get_or_create(&labels)
        .set(success / 1000);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Log lines written while a test runs.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Promise (issue 16: "ours must show a failing forwarder in its status and in the
    /// logs"; "connector secrets never logged"): every failed run is logged at error level
    /// and recorded in the status, with the configuration's secret fields scrubbed from
    /// both.
    #[tokio::test]
    async fn a_failing_run_is_logged_at_error_level_and_recorded_without_its_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("lrs.db").display());
        let store = Store::open(&url).await.unwrap();
        let settings = Settings {
            connector_connect_timeout_secs: 2,
            ..Settings::default()
        };
        let runtime = Runtime::new(
            Lrs::from_settings(store.clone(), &settings).unwrap(),
            &settings,
        )
        .unwrap();
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = json!({
            "kind": "linkedin-learning",
            "api_url": format!("http://127.0.0.1:{port}"),
            "auth_url": format!("http://127.0.0.1:{port}"),
            "client_id": "lrsgate-test",
            "client_secret": "bearer-secret-1",
            "retry_attempts": 1,
        });
        let record = ConnectorRecord {
            id: "fwd".into(),
            config,
            updated_millis: 0,
        };
        store.connectors.put_connector(1, record).await.unwrap();

        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        for _ in 0..2 {
            let failed = runtime.run(1, "fwd", Trigger::Manual).await;
            assert!(matches!(failed, Err(RunError::Failed(_))), "{failed:?}");
        }
        drop(guard);

        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let failures: Vec<&str> = logs
            .lines()
            .filter(|l| l.contains("connector run failed"))
            .collect();
        assert_eq!(failures.len(), 2, "{logs}");
        assert!(
            failures
                .iter()
                .all(|l| l.contains("ERROR") && l.contains("fwd")),
            "{logs}"
        );
        assert!(failures[1].contains("consecutive_failures=2"), "{logs}");
        assert!(
            !logs.contains("bearer-secret-1"),
            "the secret is logged: {logs}"
        );
        let (status, _) = status_of(&store, 1, "fwd").await.unwrap();
        assert_eq!(status.consecutive_failures, 2);
        assert_eq!((status.runs, status.failures), (2, 2));
        assert_eq!(status.running_since_millis, None);
        let error = status.last_error.unwrap();
        assert!(!error.contains("bearer-secret-1"), "{error}");
        assert!(
            error.contains("127.0.0.1"),
            "the error says what failed: {error}"
        );
    }

    #[test]
    fn secrets_are_masked_at_any_depth_and_restored_from_the_mask() {
        let config = json!({
            "kind": "forward",
            "url": "http://127.0.0.1:1/xapi",
            "auth": {"username": "u", "password": "p@ss", "token": null},
            "client_secret": "cs",
            "targets": [{"api_token": "t1", "name": "a"}],
        });
        let shown = masked(&config);
        assert_eq!(
            shown,
            json!({
                "kind": "forward",
                "url": "http://127.0.0.1:1/xapi",
                "auth": {"username": "u", "password": "***", "token": null},
                "client_secret": "***",
                "targets": [{"api_token": "***", "name": "a"}],
            })
        );
        let mut back = shown.clone();
        back["url"] = json!("http://127.0.0.1:2/xapi");
        unmask(&mut back, &config);
        assert_eq!(back["auth"]["password"], json!("p@ss"));
        assert_eq!(back["client_secret"], json!("cs"));
        assert_eq!(back["targets"][0]["api_token"], json!("t1"));
        assert_eq!(back["url"], json!("http://127.0.0.1:2/xapi"));
        assert_eq!(
            scrub("401 from http://u:p@ss@host with cs and t1", &config),
            "401 from http://u:***@host with *** and ***"
        );
        let in_url = json!({"endpoint": "https://fwd:hunter2@lrs.example.com/xapi"});
        assert_eq!(
            scrub("error sending request for url (https://fwd:hunter2@lrs.example.com/xapi/statements)", &in_url),
            "error sending request for url (https://fwd:***@lrs.example.com/xapi/statements)"
        );
    }

    #[test]
    fn ids_are_path_segments() {
        assert!(check_id("linkedin-1.pull_a").is_ok());
        for bad in ["", "-x", "a:b", "a/b", "é", &"x".repeat(65)] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn schedules_are_read_and_checked() {
        let s = Schedule::of(&json!({"every_minutes": 15})).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.every_minutes, Some(15));
        assert!(s.enabled);
        let status = Status {
            last_started_millis: Some(1_000),
            ..Status::default()
        };
        assert_eq!(s.next_run_millis(&status, 5), Some(1_000 + 15 * 60_000));
        assert_eq!(s.next_run_millis(&Status::default(), 5), Some(5));
        let off = Schedule::of(&json!({"every_minutes": 15, "enabled": false}))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(off.next_run_millis(&status, 5), None);
        assert_eq!(Schedule::of(&json!({})).map(|s| s.every_minutes), Ok(None));
        for bad in [json!({"every_minutes": 0}), json!({"every_minutes": "5"})] {
            assert_eq!(
                Schedule::of(&bad).map_err(|e| e.pointer),
                Err("/every_minutes".to_owned())
            );
        }
        assert_eq!(
            Schedule::of(&json!({"enabled": "yes"})).map_err(|e| e.pointer),
            Err("/enabled".to_owned())
        );
    }

    #[test]
    fn serde_messages_are_located_in_the_body() {
        let body = json!({"kind": "x", "url": 5, "auth": {"user": "u", "mode": "weird"}});
        assert_eq!(locate("missing field `token`", &body), "/token");
        assert_eq!(
            locate("unknown field `user`, expected `username`", &body),
            "/auth/user"
        );
        assert_eq!(
            locate("invalid type: integer `5`, expected a string", &body),
            "/url"
        );
        assert_eq!(
            locate("unknown variant `weird`, expected `basic`", &body),
            "/auth/mode"
        );
        assert_eq!(locate("unknown variant `x`, expected `y`", &body), "/kind");
        assert_eq!(
            locate("invalid value: string \"weird\", expected basic", &body),
            "/auth/mode"
        );
        assert_eq!(locate("something else", &body), "");
    }

    #[test]
    fn a_configuration_without_a_known_kind_names_the_kind() {
        let err = Connector::parse("c", &json!({"every_minutes": 5}));
        assert_eq!(err.map_err(|e| e.pointer), Err("/kind".to_owned()));
        let err = Connector::parse("c", &json!({"kind": "no-such-kind"}));
        assert_eq!(err.map_err(|e| e.pointer), Err("/kind".to_owned()));
        let err = Connector::parse("c", &json!([1]));
        assert_eq!(err.map_err(|e| e.pointer), Err(String::new()));
    }
}
