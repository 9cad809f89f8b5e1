//! Forwarding: a tenant's statements sent on to another LRS.
//!
//! The statement log is the outbox. A forwarder keeps a high-water mark over the store's
//! statement order and, each run, reads what was stored after it up to the store's
//! consistent bound (`consistent_through`: every statement stored up to then is visible,
//! so MongoDB's concurrent writers leave no gap behind the mark). Pages go out in store
//! order and the mark moves, durably, after each page the receiver took; a receiver that is
//! down fails the run and leaves the mark where it was, so the next run sends the same page
//! again. Statement ids are preserved, and an LRS answers a re-sent statement with matching
//! content as a success without storing it twice (xAPI 1.0.3 Communication 2.1.2, POST
//! Statements; 2.1.1 for PUT), so every matching statement arrives exactly once by id.
//!
//! A statement the receiver refuses for good (400, 409, 413, 422) is found by splitting its
//! batch, kept as a dead letter and skipped; `replay` sends dead letters again. The runtime
//! decides when runs happen and holds the lease that makes one gateway among many the
//! delivery owner; this module only delivers.

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::header::CONTENT_TYPE;
use reqwest::{RequestBuilder, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::retry::{CallError, RetryPolicy};
use super::{ConnectorError, Rejected, RunContext, RunOutcome};
use crate::lrs::mixed::render_mixed;
use crate::redact::redacted_url;
use crate::store::connectors::DeadLetter;
use crate::store::{AttachmentData, Cursor, StatementQuery};
use crate::xapi::rules::VOIDED_VERB;
use crate::xapi::statement::referenced_id;
use crate::xapi::XapiVersion;

/// Statements per POST unless configured.
pub const DEFAULT_BATCH_SIZE: usize = 100;
/// The largest batch a forwarder may be configured with.
pub const MAX_BATCH_SIZE: usize = 1000;

/// A forwarder: where statements go, how it authenticates there, which statements go.
/// Filters of different kinds must all match; any value of one kind matches that kind.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The receiving LRS's xAPI base URL (e.g. `https://lrs.example.com/xapi`); statements
    /// are POSTed to `{endpoint}/statements`.
    pub endpoint: String,
    /// HTTP Basic: the key the receiver issued (with `password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// A bearer token, instead of Basic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The `X-Experience-API-Version` header sent (default 1.0.3).
    #[serde(default = "default_version")]
    pub version: String,
    /// Only statements with one of these verb ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verbs: Vec<String>,
    /// Only statements whose object is an activity whose id starts with one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub activity_prefixes: Vec<String>,
    /// Only statements tagged with one of these framework items (item IRIs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tagged_items: Vec<String>,
    /// Statements per POST (1 to 1000).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Batches one run sends at most; the next run continues.
    #[serde(default = "default_max_batches")]
    pub max_batches_per_run: usize,
    /// Keep delivering for this long (seconds) after catching up, looking for new
    /// statements every `poll_millis`: with `every_minutes = 1` and `follow_seconds = 55`,
    /// statements go out within a second or two of being stored, from whichever gateway
    /// holds the forwarder's lease. 0 (the default): a run ends once caught up.
    #[serde(default)]
    pub follow_seconds: u64,
    /// How often a following run looks for new statements (100 to 60000 ms).
    #[serde(default = "default_poll_millis")]
    pub poll_millis: u64,
    /// Tries per POST (the first included) before the run fails.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// Forward only statements stored after this time (RFC 3339); without it, everything
    /// the tenant has stored is forwarded, oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

fn default_version() -> String {
    "1.0.3".into()
}

fn default_batch_size() -> usize {
    DEFAULT_BATCH_SIZE
}

fn default_max_batches() -> usize {
    50
}

fn default_poll_millis() -> u64 {
    1000
}

/// The longest a run may follow new statements.
pub const MAX_FOLLOW_SECONDS: u64 = 3600;

fn default_attempts() -> u32 {
    RetryPolicy::default().attempts
}

/// Secrets stay out of debug output (and so out of logs).
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |s: &Option<String>| s.as_ref().map(|_| "***");
        f.debug_struct("forward::Config")
            .field("endpoint", &redacted_url(&self.endpoint))
            .field("username", &self.username)
            .field("password", &hidden(&self.password))
            .field("token", &hidden(&self.token))
            .field("version", &self.version)
            .field("verbs", &self.verbs)
            .field("activity_prefixes", &self.activity_prefixes)
            .field("tagged_items", &self.tagged_items)
            .field("batch_size", &self.batch_size)
            .field("max_batches_per_run", &self.max_batches_per_run)
            .field("follow_seconds", &self.follow_seconds)
            .field("poll_millis", &self.poll_millis)
            .field("attempts", &self.attempts)
            .field("since", &self.since)
            .finish()
    }
}

/// A forwarder's saved state: its high-water mark, and where it is inside the window it
/// is delivering.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Every statement stored at or before this time (Unix milliseconds) was delivered,
    /// dead-lettered or filtered out. `None` before the first run.
    #[serde(default)]
    pub through_millis: Option<i64>,
    /// `through_millis` as an RFC 3339 timestamp, for the people reading the status.
    #[serde(default)]
    pub high_water_mark: Option<String>,
    /// The window being delivered, when a run stopped inside one.
    #[serde(default)]
    pub window: Option<Window>,
    /// Statements delivered since the forwarder was created.
    #[serde(default)]
    pub delivered: u64,
    /// Statements put in dead letters since the forwarder was created.
    #[serde(default)]
    pub dead_lettered: u64,
}

/// The statements stored in `(through_millis, until_millis]`, read page by page.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub until_millis: i64,
    /// Where the next page starts; `None` for the window's first page.
    pub next: Option<Cursor>,
}

/// One run: delivers what was stored since the high-water mark, saving the mark after
/// each page; it ends once caught up or after `max_batches_per_run` pages, or, following,
/// when `follow_seconds` are over.
pub async fn run(ctx: &RunContext, config: &Config) -> Result<RunOutcome, ConnectorError> {
    let receiver = Receiver::new(ctx, config)?;
    let mut state: State = ctx.state().await?;
    let mut through = match state.through_millis {
        Some(t) => t,
        None => since_millis(config)?,
    };
    let mut outcome = RunOutcome::default();
    let statements = &ctx.lrs.store.statements;
    let started = Instant::now();
    let follow = Duration::from_secs(config.follow_seconds);
    let poll = Duration::from_millis(config.poll_millis);
    let mut pages = 0usize;
    loop {
        if pages >= config.max_batches_per_run.max(1) && started.elapsed() >= follow {
            break;
        }
        let window = match state.window {
            Some(w) => w,
            None => {
                // A millisecond short of the bound: a write stamped in the very millisecond
                // read here may still be on its way.
                let until = statements.consistent_through().await? - 1;
                if until <= through {
                    if started.elapsed() + poll < follow {
                        tokio::time::sleep(poll).await;
                        continue;
                    }
                    break;
                }
                Window {
                    until_millis: until,
                    next: None,
                }
            }
        };
        let query = StatementQuery {
            since_millis: Some(through),
            until_millis: Some(window.until_millis),
            ascending: true,
            limit: u32::try_from(config.batch_size).unwrap_or(u32::MAX),
            ..StatementQuery::default()
        };
        let page = statements
            .query_statements(ctx.tenant, &query, window.next)
            .await?;
        pages += 1;
        outcome.read += page.statements.len() as u64;
        let selected = select(ctx, config, page.statements).await?;
        let sent = receiver.deliver(selected).await?;
        record(ctx, &mut state, &mut outcome, sent).await?;
        match page.next {
            Some(next) => {
                state.window = Some(Window {
                    next: Some(next),
                    ..window
                })
            }
            None => {
                through = window.until_millis;
                state.through_millis = Some(through);
                state.high_water_mark = Some(timestamp(through));
                state.window = None;
            }
        }
        ctx.save_state(&state).await?;
    }
    Ok(outcome)
}

/// Sends the connector's dead letters with these ids again (every dead letter, up to
/// `MAX_BATCH_SIZE`, when `ids` is empty); those delivered stop being dead letters, those
/// refused again stay with the new error. Filters do not apply: the operator asked.
pub async fn replay(
    ctx: &RunContext,
    config: &Config,
    ids: &[String],
) -> Result<RunOutcome, ConnectorError> {
    let receiver = Receiver::new(ctx, config)?;
    let connectors = &ctx.lrs.store.connectors;
    let letters = connectors
        .dead_letters(ctx.tenant, &ctx.connector, MAX_BATCH_SIZE.max(ids.len()))
        .await?;
    let wanted: HashSet<String> = ids.iter().map(|id| id.to_ascii_lowercase()).collect();
    let letters: Vec<DeadLetter> = letters
        .into_iter()
        .filter(|l| wanted.is_empty() || wanted.contains(&l.statement_id.to_ascii_lowercase()))
        .collect();
    let mut outcome = RunOutcome::default();
    let mut bodies = Vec::new();
    let mut gone = Vec::new();
    for letter in &letters {
        outcome.read += 1;
        match ctx
            .lrs
            .store
            .statements
            .statement(ctx.tenant, &letter.statement_id)
            .await?
        {
            Some(stored) => bodies.push(stored.body),
            None => gone.push(letter.statement_id.clone()),
        }
    }
    for id in ids {
        if !letters
            .iter()
            .any(|l| l.statement_id.eq_ignore_ascii_case(id))
        {
            outcome.rejected.push(Rejected {
                record: id.clone(),
                reason: "not a dead letter of this forwarder".into(),
            });
        }
    }
    if !gone.is_empty() {
        // The statement is no longer in the store (the tenant was emptied): nothing to send.
        connectors
            .remove_dead_letters(ctx.tenant, &ctx.connector, &gone)
            .await?;
        outcome.rejected.extend(gone.into_iter().map(|id| Rejected {
            record: id,
            reason: "the statement is no longer stored".into(),
        }));
    }
    for chunk in bodies.chunks(config.batch_size.max(1)) {
        let sent = receiver.deliver(chunk.to_vec()).await?;
        if !sent.delivered.is_empty() {
            connectors
                .remove_dead_letters(ctx.tenant, &ctx.connector, &sent.delivered)
                .await?;
        }
        outcome.stored += sent.delivered.len() as u64;
        let again: Vec<DeadLetter> = sent
            .refused
            .into_iter()
            .map(|mut l| {
                let before = letters
                    .iter()
                    .find(|o| o.statement_id.eq_ignore_ascii_case(&l.statement_id));
                l.attempts = before.map_or(0, |o| o.attempts) + 1;
                l
            })
            .collect();
        outcome.rejected.extend(again.iter().map(|l| Rejected {
            record: l.statement_id.clone(),
            reason: l.error.clone(),
        }));
        if !again.is_empty() {
            connectors
                .add_dead_letters(ctx.tenant, &ctx.connector, again)
                .await?;
        }
    }
    Ok(outcome)
}

/// Counts a delivered page and keeps its refused statements as dead letters.
async fn record(
    ctx: &RunContext,
    state: &mut State,
    outcome: &mut RunOutcome,
    sent: Sent,
) -> Result<(), ConnectorError> {
    outcome.stored += sent.delivered.len() as u64;
    state.delivered += sent.delivered.len() as u64;
    if sent.refused.is_empty() {
        return Ok(());
    }
    state.dead_lettered += sent.refused.len() as u64;
    for letter in &sent.refused {
        tracing::warn!(
            tenant = ctx.tenant,
            connector = %ctx.connector,
            statement = %letter.statement_id,
            error = %letter.error,
            "forwarding: the receiver refused a statement; kept as a dead letter"
        );
        outcome.rejected.push(Rejected {
            record: letter.statement_id.clone(),
            reason: letter.error.clone(),
        });
    }
    ctx.lrs
        .store
        .connectors
        .add_dead_letters(ctx.tenant, &ctx.connector, sent.refused)
        .await?;
    Ok(())
}

fn since_millis(config: &Config) -> Result<i64, ConnectorError> {
    match &config.since {
        None => Ok(0),
        Some(raw) => DateTime::parse_from_rfc3339(raw)
            .map(|t| t.timestamp_millis())
            .map_err(|e| {
                ConnectorError::Config(format!("since: `{raw}` is not an RFC 3339 time ({e})"))
            }),
    }
}

fn timestamp(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The page's statements that go, in order. A voiding statement goes when it or the
/// statement it voids matches (so a forwarded statement's voiding follows it), preceded by
/// that statement when it matches: a statement voided before the forwarder read it is
/// not in the page (queries skip voided statements), and the receiver needs it to void it.
async fn select(
    ctx: &RunContext,
    config: &Config,
    page: Vec<Value>,
) -> Result<Vec<Value>, ConnectorError> {
    let mut out: Vec<Value> = Vec::with_capacity(page.len());
    let mut ids: HashSet<String> = HashSet::new();
    let mut push = |s: Value, out: &mut Vec<Value>| {
        let id = statement_id(&s).to_ascii_lowercase();
        if ids.insert(id) {
            out.push(s);
        }
    };
    for s in page {
        let target = voided_target(&s);
        let Some(target) = target else {
            if matches(ctx, config, &s).await? {
                push(s, &mut out);
            }
            continue;
        };
        let stored = ctx
            .lrs
            .store
            .statements
            .statement(ctx.tenant, &target)
            .await?;
        let target_matches = match &stored {
            Some(t) => matches(ctx, config, &t.body).await?,
            None => false,
        };
        if target_matches {
            if let Some(t) = stored {
                push(t.body, &mut out);
            }
            push(s, &mut out);
        } else if matches(ctx, config, &s).await? {
            push(s, &mut out);
        }
    }
    Ok(out)
}

/// The id a voiding statement voids.
fn voided_target(s: &Value) -> Option<String> {
    if s.pointer("/verb/id").and_then(Value::as_str) == Some(VOIDED_VERB) {
        referenced_id(s)
    } else {
        None
    }
}

fn statement_id(s: &Value) -> &str {
    s.get("id").and_then(Value::as_str).unwrap_or_default()
}

/// Whether a statement passes the forwarder's filters.
async fn matches(ctx: &RunContext, config: &Config, s: &Value) -> Result<bool, ConnectorError> {
    if !config.verbs.is_empty() {
        let verb = s.pointer("/verb/id").and_then(Value::as_str);
        if !verb.is_some_and(|v| config.verbs.iter().any(|w| w == v)) {
            return Ok(false);
        }
    }
    if !config.activity_prefixes.is_empty() {
        let activity = object_activity(s);
        if !activity.is_some_and(|a| config.activity_prefixes.iter().any(|p| a.starts_with(p))) {
            return Ok(false);
        }
    }
    if !config.tagged_items.is_empty() {
        let items = tagged_items(ctx, s).await?;
        if !items.iter().any(|i| config.tagged_items.contains(i)) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The id of the statement's object when it is an Activity.
fn object_activity(s: &Value) -> Option<&str> {
    let object = s.get("object")?;
    let kind = object
        .get("objectType")
        .and_then(Value::as_str)
        .unwrap_or("Activity");
    (kind == "Activity")
        .then(|| object.get("id").and_then(Value::as_str))
        .flatten()
}

/// The framework items a statement is tagged with: as stored, or (when nothing is
/// stored: tagging at ingest off, or a voided statement, whose tags are dropped) as the
/// tenant's tagger tags it now.
async fn tagged_items(ctx: &RunContext, s: &Value) -> Result<Vec<String>, ConnectorError> {
    let stored = ctx
        .lrs
        .store
        .competencies
        .statement_tags(ctx.tenant, statement_id(s))
        .await?
        .unwrap_or_default();
    let tags = if stored.is_empty() {
        ctx.lrs
            .competencies
            .tag_statements(ctx.tenant, std::slice::from_ref(s))
            .await
            .map_err(|e| ConnectorError::Payload(format!("tagging a statement to filter it: {e}")))?
            .into_iter()
            .flatten()
            .collect()
    } else {
        stored
    };
    Ok(tags.into_iter().map(|t| t.item).collect())
}

/// What one delivery did: statements the receiver took, and those it refused for good.
#[derive(Debug, Default)]
struct Sent {
    delivered: Vec<String>,
    refused: Vec<DeadLetter>,
}

/// The receiving LRS as configured: its statements URL, credentials and retry policy.
struct Receiver<'a> {
    ctx: &'a RunContext,
    config: &'a Config,
    url: reqwest::Url,
    /// The URL as errors show it (no credentials, no query).
    shown: String,
    retry: RetryPolicy,
}

impl<'a> Receiver<'a> {
    fn new(ctx: &'a RunContext, config: &'a Config) -> Result<Self, ConnectorError> {
        let bad = |m: String| ConnectorError::Config(m);
        let base = reqwest::Url::parse(config.endpoint.trim_end_matches('/')).map_err(|e| {
            bad(format!(
                "endpoint: `{}` is not a URL ({e})",
                redacted_url(&config.endpoint)
            ))
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(bad("endpoint: the URL must be http or https".into()));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(bad(
                "endpoint: put credentials in username/password or token, not in the URL".into(),
            ));
        }
        let url = reqwest::Url::parse(&format!(
            "{}/statements",
            base.as_str().trim_end_matches('/')
        ))
        .map_err(|e| bad(format!("endpoint: {e}")))?;
        match (&config.username, &config.password, &config.token) {
            (Some(_), Some(_), None) | (None, None, None) | (None, None, Some(_)) => {}
            (_, _, Some(_)) => {
                return Err(bad(
                    "token: give either a bearer token or username/password, not both".into(),
                ))
            }
            _ => {
                return Err(bad(
                    "username/password: HTTP Basic needs both username and password".into(),
                ))
            }
        }
        if XapiVersion::parse(&config.version).is_none() {
            return Err(bad(format!(
                "version: `{}` is not an xAPI version (1.0.x or 2.0.x)",
                config.version
            )));
        }
        if config.follow_seconds > MAX_FOLLOW_SECONDS {
            return Err(bad(format!(
                "follow_seconds: at most {MAX_FOLLOW_SECONDS}, not {}",
                config.follow_seconds
            )));
        }
        if !(100..=60_000).contains(&config.poll_millis) {
            return Err(bad(format!(
                "poll_millis: must be 100 to 60000, not {}",
                config.poll_millis
            )));
        }
        if !(1..=MAX_BATCH_SIZE).contains(&config.batch_size) {
            return Err(bad(format!(
                "batch_size: must be 1 to {MAX_BATCH_SIZE}, not {}",
                config.batch_size
            )));
        }
        let shown = redacted_url(url.as_str());
        Ok(Receiver {
            ctx,
            config,
            url,
            shown,
            retry: RetryPolicy {
                attempts: config.attempts.max(1),
                ..RetryPolicy::default()
            },
        })
    }

    /// Sends the statements in batches the receiver accepts: a batch refused for its
    /// content is split in halves until the refused statements stand alone. A receiver
    /// that cannot be reached, or refuses the forwarder itself (401, 403, 404…), fails the
    /// delivery as a whole.
    async fn deliver(&self, statements: Vec<Value>) -> Result<Sent, ConnectorError> {
        let mut sent = Sent::default();
        let mut pending: Vec<Vec<Value>> = Vec::new();
        if !statements.is_empty() {
            pending.push(statements);
        }
        // Each split makes two smaller batches, so this ends after at most 2n - 1 posts.
        while let Some(batch) = pending.pop() {
            let parts = self.parts_of(&batch).await?;
            match self.post(&batch, &parts).await {
                Ok(()) => sent
                    .delivered
                    .extend(batch.iter().map(|s| statement_id(s).to_owned())),
                Err(CallError::Rejected { status, body, .. }) if is_content_refusal(status) => {
                    if batch.len() == 1 {
                        sent.refused.push(DeadLetter {
                            statement_id: statement_id(&batch[0]).to_owned(),
                            error: format!("{} answered {status}: {body}", self.shown),
                            attempts: 1,
                            failed_millis: Utc::now().timestamp_millis(),
                        });
                    } else {
                        let mut first = batch;
                        let second = first.split_off(first.len() / 2);
                        // Popped first-half first, so store order is kept.
                        pending.push(second);
                        pending.push(first);
                    }
                }
                Err(e) => {
                    tracing::warn!(
                        tenant = self.ctx.tenant,
                        connector = %self.ctx.connector,
                        error = %e,
                        "forwarding failed; the high-water mark stays and the next run retries"
                    );
                    return Err(e.into());
                }
            }
        }
        Ok(sent)
    }

    /// One POST of a batch (with retries): JSON, or multipart/mixed with the attachment
    /// contents the statements reference.
    async fn post(&self, batch: &[Value], parts: &[AttachmentData]) -> Result<(), CallError> {
        let body = Value::Array(batch.to_vec());
        let (content_type, bytes) = if parts.is_empty() {
            (
                "application/json".to_owned(),
                bytes::Bytes::from(body.to_string()),
            )
        } else {
            render_mixed(&body, parts)
        };
        self.retry
            .send(|| {
                self.authorised(self.ctx.http.post(self.url.clone()))
                    .header("X-Experience-API-Version", &self.config.version)
                    .header(CONTENT_TYPE, &content_type)
                    .body(bytes.clone())
            })
            .await
            .map(|_| ())
    }

    /// The stored contents of the attachments the statements reference (those sent by
    /// `fileUrl` only have none).
    async fn parts_of(&self, batch: &[Value]) -> Result<Vec<AttachmentData>, ConnectorError> {
        let mut hashes: Vec<String> = Vec::new();
        let listed = batch
            .iter()
            .filter_map(|s| s.get("attachments").and_then(Value::as_array))
            .flatten();
        for a in listed {
            if let Some(h) = a.get("sha2").and_then(Value::as_str) {
                let h = h.to_ascii_lowercase();
                if !hashes.contains(&h) {
                    hashes.push(h);
                }
            }
        }
        if hashes.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .ctx
            .lrs
            .store
            .statements
            .attachments(self.ctx.tenant, &hashes)
            .await?)
    }

    fn authorised(&self, request: RequestBuilder) -> RequestBuilder {
        match (
            &self.config.username,
            &self.config.password,
            &self.config.token,
        ) {
            (Some(user), Some(password), _) => request.basic_auth(user, Some(password)),
            (_, _, Some(token)) => request.bearer_auth(token),
            _ => request,
        }
    }
}

/// Refusals of what was sent rather than of the sender: a bad statement (400), an id the
/// receiver holds with other content (409), a batch too large (413), content it cannot
/// process (422). Splitting the batch finds the statements concerned.
fn is_content_refusal(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::BAD_REQUEST
            | StatusCode::CONFLICT
            | StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::UNPROCESSABLE_ENTITY
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(extra: Value) -> Config {
        let mut base = json!({"endpoint": "http://127.0.0.1:1/xapi"});
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        serde_json::from_value(base).expect("config")
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let c = config(json!({"username": "k", "password": "s3cret"}));
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        let c = config(json!({"token": "t0ken"}));
        assert!(!format!("{c:?}").contains("t0ken"));
    }

    #[test]
    fn unknown_fields_are_refused() {
        let e = serde_json::from_value::<Config>(
            json!({"endpoint": "http://x/xapi", "pasword": "typo"}),
        );
        assert!(e.is_err());
    }

    #[test]
    fn the_object_activity_is_read_for_the_prefix_filter() {
        let s = json!({"object": {"id": "https://lms.example.com/course/1"}});
        assert_eq!(
            object_activity(&s),
            Some("https://lms.example.com/course/1")
        );
        let s = json!({"object": {"objectType": "Agent", "mbox": "mailto:a@b.c"}});
        assert_eq!(object_activity(&s), None);
        let s = json!({"verb": {"id": VOIDED_VERB}, "object": {"objectType": "StatementRef", "id": "ABC"}});
        assert_eq!(voided_target(&s).as_deref(), Some("abc"));
    }

    #[test]
    fn statement_level_refusals_are_told_from_refusals_of_the_sender() {
        assert!(is_content_refusal(StatusCode::BAD_REQUEST));
        assert!(is_content_refusal(StatusCode::CONFLICT));
        assert!(!is_content_refusal(StatusCode::UNAUTHORIZED));
        assert!(!is_content_refusal(StatusCode::NOT_FOUND));
    }
}
