//! LinkedIn Learning, pulled: the course catalog from the Learning API's `learningAssets`
//! (title, description, time to complete, and the skill and category classifications,
//! which become catalog alignments) and completions from the Reporting API's
//! `learningActivityReports`, aggregated by learner and content, as statements.
//!
//! Authentication is OAuth 2.0 client credentials against LinkedIn's
//! `/oauth/v2/accessToken`; the token is kept (per process, by client) until shortly
//! before its `expires_in` runs out, and fetched again once when the API answers 401.
//!
//! Reports are read window by window (`startedAt` + `timeOffset` in days) and page by
//! page (`start`/`count`, following `paging.links` `next`). After each page's statements
//! are stored the connector saves where it is (window and next page), so a run that dies
//! resumes at the next page; a window that has settled (ended at least `settle_hours`
//! ago) moves the high-water mark past it, the current window is read again next run.
//! Statement ids are UUID v5 of (source, learner, content, event), and statements already
//! stored are skipped, so reading a page twice stores nothing twice.
//!
//! Skills that no framework item of the tenant matches become items of the tenant's
//! LinkedIn skills framework (`https://w3id.org/lrsgate/frameworks/linkedin-skills/<tenant>`),
//! a new version of which the connector activates when it meets new skills.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};
use uuid::Uuid;

use super::retry::{CallError, RetryPolicy};
use super::talks::{items_named, put_alignments};
use super::{ConnectorError, Rejected, RunContext, RunOutcome};
use crate::competency::tagger::{Alignment, Tagger};
use crate::competency::CompetencyError;
use crate::ingest::{IngestError, Source};
use crate::xapi::time::format_millis;
use crate::xapi::XapiVersion;

/// Names the connector in statement ids, alignments and the skills framework.
pub const SOURCE: &str = "linkedin-learning";
/// LinkedIn's account home page, for learners known by their profile rather than e-mail.
pub const HOME_PAGE: &str = "https://www.linkedin.com";
/// The cmi5 progress extension (0–100), which LMSs already read.
pub const PROGRESS_EXTENSION: &str = "https://w3id.org/xapi/cmi5/result/extensions/progress";
pub const SECONDS_VIEWED_EXTENSION: &str =
    "https://w3id.org/lrsgate/extensions/linkedin-learning/seconds-viewed";
pub const CLASSIFICATIONS_EXTENSION: &str =
    "https://w3id.org/lrsgate/extensions/linkedin-learning/classifications";
pub const DURATION_EXTENSION: &str = "https://w3id.org/lrsgate/extensions/duration";
/// The prefix of each tenant's skills framework IRI.
pub const SKILLS_FRAMEWORK: &str = "https://w3id.org/lrsgate/frameworks/linkedin-skills/";

const COURSE_TYPE: &str = "http://adlnet.gov/expapi/activities/course";
const VIDEO_TYPE: &str = "https://w3id.org/xapi/video/activity-type/video";
const ADL: &str = "http://adlnet.gov/expapi/verbs/";
const DAY_MILLIS: i64 = 86_400_000;
/// LinkedIn states that a course teaches a skill: as strong as a curated catalog entry.
const SKILL_CONFIDENCE: f64 = 0.9;
/// A category says less about what a course teaches than a skill does.
const CATEGORY_FACTOR: f64 = 0.8;
/// A token is renewed this long before LinkedIn says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);
/// Statement look-ups in flight at once when checking which are stored already.
const LOOKUPS: usize = 16;

/// A LinkedIn Learning pull's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The API's base URL.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// The base URL of LinkedIn's OAuth server (`/oauth/v2/accessToken` under it).
    #[serde(default = "default_auth_url")]
    pub auth_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// How far back the first run reads reports, in days.
    #[serde(default = "default_backfill_days")]
    pub backfill_days: u32,
    /// The length of one report window (`timeOffset.duration` in days).
    #[serde(default = "default_window_days")]
    pub window_days: u32,
    /// Hours after its end when a window's report counts as final.
    #[serde(default = "default_settle_hours")]
    pub settle_hours: u32,
    /// Records per page (`count`).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
    /// Report pages one run reads at most (the next run goes on from there); none by
    /// default.
    #[serde(default)]
    pub max_pages: Option<u32>,
    /// Hours between catalog imports; 0 turns the catalog off.
    #[serde(default = "default_catalog_hours")]
    pub catalog_every_hours: u32,
    /// The catalog's locale (`sourceLocale`).
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default = "default_country")]
    pub country: String,
    /// Tries per call and the first backoff, in milliseconds.
    #[serde(default = "default_attempts")]
    pub retry_attempts: u32,
    #[serde(default = "default_retry_base_ms")]
    pub retry_base_ms: u64,
    /// Seconds one call may take.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_api_url() -> String {
    "https://api.linkedin.com".into()
}
fn default_auth_url() -> String {
    "https://www.linkedin.com".into()
}
fn default_backfill_days() -> u32 {
    90
}
fn default_window_days() -> u32 {
    30
}
fn default_settle_hours() -> u32 {
    24
}
fn default_page_size() -> u32 {
    100
}
fn default_catalog_hours() -> u32 {
    24
}
fn default_language() -> String {
    "en".into()
}
fn default_country() -> String {
    "US".into()
}
fn default_attempts() -> u32 {
    5
}
fn default_retry_base_ms() -> u64 {
    500
}
fn default_timeout() -> u64 {
    30
}

/// Where the pull is: the saved high-water mark and the page to read next.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Start of the report window being read (Unix ms): everything before it is in.
    #[serde(default)]
    pub high_water_mark: Option<i64>,
    /// The next page of that window (`paging.links` `next`), when a run stopped mid-way.
    #[serde(default)]
    pub next_page: Option<String>,
    #[serde(default)]
    pub catalog: CatalogState,
    /// Totals over every run.
    #[serde(default)]
    pub records_read: u64,
    #[serde(default)]
    pub statements_stored: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogState {
    /// When the last complete import began (Unix ms).
    #[serde(default)]
    pub synced_at: Option<i64>,
    /// The next page of an import under way.
    #[serde(default)]
    pub next_page: Option<String>,
    /// When the import under way began.
    #[serde(default)]
    pub started_at: Option<i64>,
    #[serde(default)]
    pub assets: u64,
}

/// The statement id of one event: UUID v5 of source, learner, content and event, in a
/// namespace of the gateway's own, so every connector that follows the rule agrees.
pub fn statement_id(source: &str, learner: &str, content: &str, event: &str) -> String {
    let namespace = Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://w3id.org/lrsgate/connectors");
    let name = format!("{source}\n{learner}\n{content}\n{event}");
    Uuid::new_v5(&namespace, name.as_bytes()).to_string()
}

/// One run: the catalog when due, then report pages from the high-water mark on.
pub async fn run(ctx: &RunContext, config: &Config) -> Result<RunOutcome, ConnectorError> {
    check(config)?;
    let mut state: State = ctx.state().await?;
    let mut api = Api::new(ctx, config);
    let mut outcome = RunOutcome::default();
    let now = chrono::Utc::now().timestamp_millis();
    let mut pages_left = config.max_pages.unwrap_or(u32::MAX);

    if catalog_due(config, &state.catalog, now) {
        import_catalog(
            ctx,
            config,
            &mut api,
            &mut state,
            &mut outcome,
            now,
            &mut pages_left,
        )
        .await?;
    }

    let window = i64::from(config.window_days.max(1)) * DAY_MILLIS;
    let settle = i64::from(config.settle_hours) * 3_600_000;
    let mut window_start = state
        .high_water_mark
        .unwrap_or(now - i64::from(config.backfill_days) * DAY_MILLIS);
    // Bounded: one pass per window between the mark and now, plus the current one.
    let windows = (now - window_start).max(0) / window + 2;
    for _ in 0..windows {
        let mut next = Some(
            state
                .next_page
                .take()
                .unwrap_or_else(|| first_report_page(config, window_start)),
        );
        while let Some(page) = next.take() {
            if pages_left == 0 {
                state.high_water_mark = Some(window_start);
                state.next_page = Some(page);
                ctx.save_state(&state).await?;
                return Ok(outcome);
            }
            pages_left -= 1;
            let body = api.get(&page).await?;
            let (statements, rejected, rows) = report_statements(&body, &page);
            let stored = store_statements(ctx, statements, &mut outcome.rejected).await?;
            outcome.read += rows;
            outcome.stored += stored;
            outcome.rejected.extend(rejected);
            next = next_link(&body).map(|href| absolute(&config.api_url, &href));
            state.records_read += rows;
            state.statements_stored += stored;
            state.high_water_mark = Some(window_start);
            state.next_page = next.clone();
            ctx.save_state(&state).await?;
        }
        let window_end = window_start + window;
        if window_end + settle > now {
            // The current window: read again next run, the mark stays.
            break;
        }
        window_start = window_end;
        state.high_water_mark = Some(window_start);
        state.next_page = None;
        ctx.save_state(&state).await?;
    }
    Ok(outcome)
}

fn check(config: &Config) -> Result<(), ConnectorError> {
    for (name, value) in [("api_url", &config.api_url), ("auth_url", &config.auth_url)] {
        if reqwest::Url::parse(value).is_err() {
            return Err(ConnectorError::Config(format!(
                "{name} `{value}` is not an absolute URL"
            )));
        }
    }
    if config.client_id.trim().is_empty() || config.client_secret.is_empty() {
        return Err(ConnectorError::Config(
            "client_id and client_secret are required".into(),
        ));
    }
    if config.page_size == 0 {
        return Err(ConnectorError::Config(
            "page_size must be at least 1".into(),
        ));
    }
    Ok(())
}

fn first_report_page(config: &Config, started_at: i64) -> String {
    let query = serde_urlencoded::to_string([
        ("q", "criteria".to_owned()),
        ("aggregationCriteria.primary", "INDIVIDUAL".to_owned()),
        ("aggregationCriteria.secondary", "CONTENT".to_owned()),
        ("contentSource", "ALL_SOURCES".to_owned()),
        ("assetType", "COURSE".to_owned()),
        ("startedAt", started_at.to_string()),
        ("timeOffset.unit", "DAY".to_owned()),
        ("timeOffset.duration", config.window_days.max(1).to_string()),
        ("start", "0".to_owned()),
        ("count", config.page_size.to_string()),
    ])
    .unwrap_or_default();
    format!(
        "{}/v2/learningActivityReports?{query}",
        config.api_url.trim_end_matches('/')
    )
}

fn first_catalog_page(config: &Config) -> String {
    let query = serde_urlencoded::to_string([
        ("q", "localeAndType".to_owned()),
        ("assetType", "COURSE".to_owned()),
        ("sourceLocale.language", config.language.clone()),
        ("sourceLocale.country", config.country.clone()),
        ("expandDepth", "1".to_owned()),
        ("includeRetired", "false".to_owned()),
        ("start", "0".to_owned()),
        ("count", config.page_size.to_string()),
    ])
    .unwrap_or_default();
    format!(
        "{}/v2/learningAssets?{query}",
        config.api_url.trim_end_matches('/')
    )
}

/// `paging.links` `next`, as LinkedIn gives it (a path, usually).
fn next_link(body: &Value) -> Option<String> {
    body.pointer("/paging/links")?
        .as_array()?
        .iter()
        .find(|l| l.get("rel").and_then(Value::as_str) == Some("next"))?
        .get("href")?
        .as_str()
        .map(str::to_owned)
}

/// A link resolved against the API's base URL (which may carry a path prefix).
fn absolute(api_url: &str, href: &str) -> String {
    if href.starts_with("http://") || href.starts_with("https://") {
        return href.to_owned();
    }
    let base = api_url.trim_end_matches('/');
    if href.starts_with('/') {
        format!("{base}{href}")
    } else {
        format!("{base}/{href}")
    }
}

// --- the API client ---

type TokenCache = HashMap<String, (String, Instant)>;

/// Tokens by client, for every run in this process.
fn tokens() -> &'static Mutex<TokenCache> {
    static TOKENS: OnceLock<Mutex<TokenCache>> = OnceLock::new();
    TOKENS.get_or_init(|| Mutex::new(HashMap::new()))
}

struct Api<'a> {
    ctx: &'a RunContext,
    config: &'a Config,
    retry: RetryPolicy,
    timeout: Duration,
    /// The token cache's key: the OAuth server, the client and a digest of its secret.
    key: String,
}

impl<'a> Api<'a> {
    fn new(ctx: &'a RunContext, config: &'a Config) -> Self {
        let digest = hex::encode(Sha256::digest(config.client_secret.as_bytes()));
        Api {
            ctx,
            config,
            retry: RetryPolicy {
                attempts: config.retry_attempts.max(1),
                base_delay: Duration::from_millis(config.retry_base_ms),
                ..RetryPolicy::default()
            },
            timeout: Duration::from_secs(config.timeout_secs.max(1)),
            key: format!("{}\n{}\n{}", config.auth_url, config.client_id, digest),
        }
    }

    fn cached_token(&self) -> Option<String> {
        let cache = tokens().lock().ok()?;
        let (token, expires) = cache.get(&self.key)?;
        (Instant::now() + TOKEN_MARGIN < *expires).then(|| token.clone())
    }

    fn forget_token(&self) {
        if let Ok(mut cache) = tokens().lock() {
            cache.remove(&self.key);
        }
    }

    /// A fresh token from the client-credentials grant.
    async fn new_token(&self) -> Result<String, ConnectorError> {
        let url = format!(
            "{}/oauth/v2/accessToken",
            self.config.auth_url.trim_end_matches('/')
        );
        let form = serde_urlencoded::to_string([
            ("grant_type", "client_credentials"),
            ("client_id", self.config.client_id.as_str()),
            ("client_secret", self.config.client_secret.as_str()),
        ])
        .map_err(|e| ConnectorError::Config(format!("client credentials: {e}")))?;
        let response = self
            .retry
            .send(|| {
                self.ctx
                    .http
                    .post(&url)
                    .timeout(self.timeout)
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(form.clone())
            })
            .await?;
        let body: Value = response
            .json()
            .await
            .map_err(|e| ConnectorError::Payload(format!("{url}: token answer: {e}")))?;
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ConnectorError::Payload(format!("{url}: the answer has no access_token"))
            })?
            .to_owned();
        let lifetime = body.get("expires_in").and_then(Value::as_u64).unwrap_or(0);
        if let Ok(mut cache) = tokens().lock() {
            let expires = Instant::now() + Duration::from_secs(lifetime);
            cache.insert(self.key.clone(), (token.clone(), expires));
        }
        Ok(token)
    }

    /// GETs a JSON page with the bearer token; on 401 the token is renewed once.
    async fn get(&mut self, url: &str) -> Result<Value, ConnectorError> {
        let mut token = match self.cached_token() {
            Some(token) => token,
            None => self.new_token().await?,
        };
        for renewed in [false, true] {
            let sent = self
                .retry
                .send(|| {
                    self.ctx
                        .http
                        .get(url)
                        .timeout(self.timeout)
                        .bearer_auth(&token)
                        .header("X-Restli-Protocol-Version", "2.0.0")
                })
                .await;
            match sent {
                Ok(response) => {
                    return response.json().await.map_err(|e| {
                        ConnectorError::Payload(format!("{}: not JSON: {e}", path_of(url)))
                    })
                }
                Err(CallError::Rejected { status, .. })
                    if status == reqwest::StatusCode::UNAUTHORIZED && !renewed =>
                {
                    tracing::info!(connector = %self.ctx.connector, "LinkedIn token refused; renewing it");
                    self.forget_token();
                    token = self.new_token().await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(ConnectorError::Payload(
            "LinkedIn refused a fresh token".into(),
        ))
    }
}

/// A URL without its query, for messages.
fn path_of(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

// --- reports to statements ---

/// A report page's statements, its malformed rows, and how many rows it had.
pub fn report_statements(body: &Value, page: &str) -> (Vec<Value>, Vec<Rejected>, u64) {
    let Some(elements) = body.get("elements").and_then(Value::as_array) else {
        let rejected = Rejected {
            record: path_of(page).to_owned(),
            reason: "the page has no `elements` array".into(),
        };
        return (Vec::new(), vec![rejected], 0);
    };
    let start = body
        .pointer("/paging/start")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let mut statements = Vec::new();
    let mut rejected = Vec::new();
    for (i, element) in elements.iter().enumerate() {
        match row_statement(element) {
            Ok(Some(statement)) => statements.push(statement),
            Ok(None) => {}
            Err(reason) => rejected.push(Rejected {
                record: format!("report row {}{}", start + i as u64, describe(element)),
                reason,
            }),
        }
    }
    (statements, rejected, elements.len() as u64)
}

fn describe(element: &Value) -> String {
    let content = element
        .pointer("/contentDetails/contentUrn")
        .and_then(Value::as_str);
    content.map_or_else(String::new, |c| format!(" ({c})"))
}

/// The learner of a report row: the xAPI actor and the key their statement ids use.
fn learner(details: &Value) -> Result<(Value, String), String> {
    let text = |pointer: &str| {
        details
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let name = text("/name");
    let email = text("/email").filter(|e| {
        e.split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
    });
    let account = text("/entity/profileUrn").or_else(|| text("/uniqueUserId"));
    let mut actor = Map::new();
    actor.insert("objectType".into(), json!("Agent"));
    if let Some(name) = name {
        actor.insert("name".into(), json!(name));
    }
    let key = if let Some(email) = email {
        actor.insert("mbox".into(), json!(format!("mailto:{email}")));
        format!("mbox:{}", email.to_ascii_lowercase())
    } else if let Some(account) = account {
        actor.insert(
            "account".into(),
            json!({ "homePage": HOME_PAGE, "name": account }),
        );
        format!("account:{account}")
    } else {
        return Err("learnerDetails has neither an email nor a profile URN".into());
    };
    Ok((Value::Object(actor), key))
}

/// The statement a report row (one learner, one piece of content) makes: `completed` when
/// LinkedIn counts a completion (or 100 % progress), else `progressed` with the progress;
/// `None` for a row without either.
fn row_statement(element: &Value) -> Result<Option<Value>, String> {
    let (actor, learner_key) = learner(element.get("learnerDetails").unwrap_or(&Value::Null))?;
    let content = element
        .get("contentDetails")
        .ok_or("the row has no contentDetails")?;
    let urn = content
        .get("contentUrn")
        .and_then(Value::as_str)
        .filter(|u| is_iri(u))
        .ok_or("contentDetails.contentUrn is missing or not a URN")?;
    let activities = element
        .get("activities")
        .and_then(Value::as_array)
        .ok_or("the row has no activities array")?;
    let mut progress: Option<(f64, i64)> = None;
    let mut completion: Option<i64> = None;
    let mut seconds: Option<f64> = None;
    let mut asset_type = None;
    for (i, activity) in activities.iter().enumerate() {
        let kind = activity.get("engagementType").and_then(Value::as_str);
        let value = activity
            .get("engagementValue")
            .and_then(Value::as_f64)
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("activities[{i}].engagementValue is not a count"))?;
        let at = activity
            .get("lastEngagedAt")
            .or_else(|| activity.get("firstEngagedAt"))
            .and_then(Value::as_i64);
        asset_type = asset_type.or_else(|| activity.get("assetType").and_then(Value::as_str));
        match kind {
            Some("COMPLETIONS") if value > 0.0 => {
                completion = Some(at.ok_or_else(|| {
                    format!("activities[{i}]: a completion without lastEngagedAt")
                })?);
            }
            Some("PROGRESS_PERCENTAGE") => {
                let at =
                    at.ok_or_else(|| format!("activities[{i}]: progress without lastEngagedAt"))?;
                progress = Some((value.min(100.0), at));
            }
            Some("SECONDS_VIEWED") => seconds = Some(value),
            Some(_) => {}
            None => return Err(format!("activities[{i}] has no engagementType")),
        }
    }
    let completed_at =
        completion.or_else(|| progress.filter(|(p, _)| *p >= 100.0).map(|(_, at)| at));
    let (verb, event, at) = match (completed_at, progress) {
        (Some(at), _) => ("completed", "completed".to_owned(), at),
        (None, Some((p, at))) if p > 0.0 => ("progressed", format!("progressed:{}", p.round()), at),
        _ => return Ok(None),
    };
    let language = locale_tag(content.get("locale"));
    let mut object = json!({ "objectType": "Activity", "id": urn });
    let mut definition = Map::new();
    if let Some(name) = content
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    {
        definition.insert("name".into(), json!({ language.clone(): name }));
    }
    if let Some(kind) = activity_type(asset_type.unwrap_or("COURSE")) {
        definition.insert("type".into(), json!(kind));
    }
    if !definition.is_empty() {
        object["definition"] = Value::Object(definition);
    }
    let mut extensions = Map::new();
    let percent = completed_at
        .map(|_| 100.0)
        .or(progress.map(|(p, _)| p))
        .unwrap_or(0.0);
    extensions.insert(PROGRESS_EXTENSION.into(), json!(percent.round() as i64));
    if let Some(seconds) = seconds {
        extensions.insert(
            SECONDS_VIEWED_EXTENSION.into(),
            json!(seconds.round() as i64),
        );
    }
    let mut result = json!({
        "completion": verb == "completed",
        "extensions": extensions,
    });
    if let Some(seconds) = seconds {
        result["duration"] = json!(format!("PT{}S", seconds.round() as i64));
    }
    let timestamp = format_millis(at);
    if timestamp.is_empty() {
        return Err(format!("lastEngagedAt {at} is not a time"));
    }
    Ok(Some(json!({
        "id": statement_id(SOURCE, &learner_key, urn, &event),
        "actor": actor,
        "verb": { "id": format!("{ADL}{verb}"), "display": { "en-US": verb } },
        "object": object,
        "result": result,
        "context": { "platform": "LinkedIn Learning", "language": language },
        "timestamp": timestamp,
    })))
}

fn is_iri(text: &str) -> bool {
    text.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && !rest.chars().any(char::is_whitespace)
    })
}

/// `{"language": "en", "country": "US"}` as `en-US`.
fn locale_tag(locale: Option<&Value>) -> String {
    let part = |k: &str| {
        locale
            .and_then(|l| l.get(k))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphabetic()))
    };
    match (part("language"), part("country")) {
        (Some(language), Some(country)) => format!("{language}-{country}"),
        (Some(language), None) => language.to_owned(),
        _ => "en-US".into(),
    }
}

fn activity_type(asset_type: &str) -> Option<&'static str> {
    match asset_type {
        "VIDEO" => Some(VIDEO_TYPE),
        // LinkedIn's own xAPI statements type learning paths as courses too.
        "COURSE" | "LEARNING_PATH" | "LEARNING_COLLECTION" => Some(COURSE_TYPE),
        _ => None,
    }
}

/// Stores the statements not stored yet; how many were new. A batch the pipeline refuses
/// is stored one statement at a time, so one bad statement is a rejection, not a failure.
async fn store_statements(
    ctx: &RunContext,
    statements: Vec<Value>,
    rejected: &mut Vec<Rejected>,
) -> Result<u64, ConnectorError> {
    let mut seen = HashSet::new();
    let unique: Vec<(String, Value)> = statements
        .into_iter()
        .filter_map(|statement| {
            let id = statement.get("id").and_then(Value::as_str)?.to_owned();
            seen.insert(id.clone()).then_some((id, statement))
        })
        .collect();
    // Which are stored already: the look-ups run a few at a time.
    let mut stored = Vec::with_capacity(unique.len());
    for chunk in unique.chunks(LOOKUPS) {
        let lookups = chunk
            .iter()
            .map(|(id, _)| ctx.lrs.store.statements.statement(ctx.tenant, id));
        for found in futures_util::future::try_join_all(lookups).await? {
            stored.push(found.is_some());
        }
    }
    let new: Vec<Value> = unique
        .into_iter()
        .zip(stored)
        .filter(|(_, stored)| !stored)
        .map(|((_, statement), _)| statement)
        .collect();
    if new.is_empty() {
        return Ok(0);
    }
    let source = Source {
        tenant: ctx.tenant,
        authority: &ctx.authority,
        version: XapiVersion::V1,
        may_define: true,
    };
    let count = new.len() as u64;
    match ctx
        .lrs
        .ingest
        .statements(source, new.clone(), Vec::new(), true)
        .await
    {
        Ok(_) => Ok(count),
        Err(IngestError::Invalid(_)) => {
            let mut stored = 0;
            for statement in new {
                let id = statement.get("id").cloned().unwrap_or_default();
                match ctx
                    .lrs
                    .ingest
                    .statements(source, vec![statement], Vec::new(), false)
                    .await
                {
                    Ok(_) => stored += 1,
                    Err(IngestError::Invalid(v)) => rejected.push(Rejected {
                        record: format!("statement {}", id.as_str().unwrap_or_default()),
                        reason: v.to_string(),
                    }),
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(stored)
        }
        Err(e) => Err(e.into()),
    }
}

// --- the catalog ---

fn catalog_due(config: &Config, catalog: &CatalogState, now: i64) -> bool {
    if config.catalog_every_hours == 0 {
        return false;
    }
    catalog.next_page.is_some()
        || catalog
            .synced_at
            .is_none_or(|at| now - at >= i64::from(config.catalog_every_hours) * 3_600_000)
}

#[allow(clippy::too_many_arguments)]
async fn import_catalog(
    ctx: &RunContext,
    config: &Config,
    api: &mut Api<'_>,
    state: &mut State,
    outcome: &mut RunOutcome,
    now: i64,
    pages_left: &mut u32,
) -> Result<(), ConnectorError> {
    let started = *state.catalog.started_at.get_or_insert(now);
    let mut next = Some(
        state
            .catalog
            .next_page
            .take()
            .unwrap_or_else(|| first_catalog_page(config)),
    );
    while let Some(page) = next.take() {
        if *pages_left == 0 {
            state.catalog.next_page = Some(page);
            ctx.save_state(state).await?;
            return Ok(());
        }
        *pages_left -= 1;
        let body = api.get(&page).await?;
        let Some(elements) = body.get("elements").and_then(Value::as_array) else {
            outcome.rejected.push(Rejected {
                record: path_of(&page).to_owned(),
                reason: "the page has no `elements` array".into(),
            });
            break;
        };
        let mut assets = Vec::new();
        for (i, element) in elements.iter().enumerate() {
            match Asset::read(element, &config.language) {
                Ok(asset) => assets.push(asset),
                Err(reason) => outcome.rejected.push(Rejected {
                    record: format!(
                        "learning asset {}",
                        element
                            .get("urn")
                            .and_then(Value::as_str)
                            .map_or_else(|| format!("#{i}"), str::to_owned)
                    ),
                    reason,
                }),
            }
        }
        outcome.read += elements.len() as u64;
        catalog_page(ctx, assets).await?;
        state.catalog.assets += elements.len() as u64;
        next = next_link(&body).map(|href| absolute(&config.api_url, &href));
        state.catalog.next_page = next.clone();
        ctx.save_state(state).await?;
    }
    state.catalog.synced_at = Some(started);
    state.catalog.started_at = None;
    state.catalog.next_page = None;
    ctx.save_state(state).await?;
    Ok(())
}

/// A learning asset as the catalog keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    pub urn: String,
    pub definition: Value,
    /// (urn, type, name) of each classification.
    pub classifications: Vec<(String, String, String)>,
}

impl Asset {
    pub fn read(element: &Value, default_language: &str) -> Result<Asset, String> {
        let urn = element
            .get("urn")
            .and_then(Value::as_str)
            .filter(|u| is_iri(u))
            .ok_or("the asset has no urn")?
            .to_owned();
        let title = element
            .pointer("/title/value")
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
            .ok_or("the asset has no title.value")?;
        let language = element
            .pointer("/title/locale")
            .map(|l| locale_tag(Some(l)))
            .unwrap_or_else(|| default_language.to_owned());
        let details = element.get("details").unwrap_or(&Value::Null);
        let mut definition = Map::new();
        definition.insert("name".into(), json!({ language.clone(): title.trim() }));
        let description = details
            .pointer("/description/value")
            .or_else(|| details.pointer("/shortDescription/value"))
            .and_then(Value::as_str)
            .filter(|d| !d.trim().is_empty());
        if let Some(description) = description {
            definition.insert(
                "description".into(),
                json!({ language: description.trim() }),
            );
        }
        let asset_type = element
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("COURSE");
        if let Some(kind) = activity_type(asset_type) {
            definition.insert("type".into(), json!(kind));
        }
        if let Some(url) = details
            .pointer("/urls/webLaunch")
            .and_then(Value::as_str)
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        {
            definition.insert("moreInfo".into(), json!(url));
        }
        let mut classifications = Vec::new();
        for c in details
            .get("classifications")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let c = c.get("associatedClassification").unwrap_or(c);
            let urn = c.get("urn").and_then(Value::as_str);
            let kind = c.get("type").and_then(Value::as_str);
            let name = c.pointer("/name/value").and_then(Value::as_str);
            if let (Some(urn), Some(kind), Some(name)) = (urn, kind, name) {
                classifications.push((urn.to_owned(), kind.to_owned(), name.trim().to_owned()));
            }
        }
        let mut extensions = Map::new();
        if let Some(seconds) = time_to_complete(details.get("timeToComplete")) {
            extensions.insert(DURATION_EXTENSION.into(), json!(format!("PT{seconds}S")));
        }
        if !classifications.is_empty() {
            let listed: Vec<Value> = classifications
                .iter()
                .map(|(urn, kind, name)| json!({ "urn": urn, "type": kind, "name": name }))
                .collect();
            extensions.insert(CLASSIFICATIONS_EXTENSION.into(), Value::Array(listed));
        }
        if !extensions.is_empty() {
            definition.insert("extensions".into(), Value::Object(extensions));
        }
        Ok(Asset {
            urn,
            definition: Value::Object(definition),
            classifications,
        })
    }
}

/// `{"duration": 5400, "unit": "SECOND"}` in seconds.
fn time_to_complete(value: Option<&Value>) -> Option<u64> {
    let value = value?;
    let duration = value.get("duration").and_then(Value::as_u64)?;
    let unit = match value
        .get("unit")
        .and_then(Value::as_str)
        .unwrap_or("SECOND")
    {
        "SECOND" => 1,
        "MINUTE" => 60,
        "HOUR" => 3600,
        "DAY" => 86_400,
        _ => return None,
    };
    Some(duration * unit)
}

/// The tenant's LinkedIn skills framework IRI.
pub fn skills_framework(tenant: i64) -> String {
    format!("{SKILLS_FRAMEWORK}{tenant}")
}

/// The skills-framework item of a LinkedIn classification.
fn skill_item(framework: &str, urn: &str) -> String {
    let id: String = urn
        .trim_start_matches("urn:li:")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{framework}/skills/{id}")
}

/// A catalog page's definitions and alignments; new skills become items of the tenant's
/// skills framework first, so their alignments name items that exist.
async fn catalog_page(ctx: &RunContext, assets: Vec<Asset>) -> Result<(), ConnectorError> {
    if assets.is_empty() {
        return Ok(());
    }
    let framework = skills_framework(ctx.tenant);
    let mut tagger = ctx
        .lrs
        .competencies
        .tagger(ctx.tenant)
        .await
        .map_err(competency)?;
    let mut new_skills: Vec<(String, String, String)> = Vec::new();
    for asset in &assets {
        for (urn, kind, name) in &asset.classifications {
            let item = skill_item(&framework, urn);
            let known =
                tagger.item(&item).is_some() || new_skills.iter().any(|(i, _, _)| *i == item);
            if kind == "SKILL" && !known && matched(&tagger, &framework, name).is_empty() {
                new_skills.push((item, name.clone(), urn.clone()));
            }
        }
    }
    if !new_skills.is_empty() {
        add_skills(ctx, &framework, &new_skills).await?;
        tagger = ctx
            .lrs
            .competencies
            .tagger(ctx.tenant)
            .await
            .map_err(competency)?;
    }
    let definitions = assets
        .iter()
        .map(|a| (a.urn.clone(), a.definition.clone()))
        .collect();
    ctx.lrs
        .store
        .activity_map
        .put_catalog_definitions(ctx.tenant, definitions)
        .await?;
    let aligned = assets
        .iter()
        .map(|a| (a.urn.clone(), asset_alignments(&tagger, &framework, a)))
        .collect();
    put_alignments(ctx, SOURCE, aligned).await
}

/// Items outside the skills framework that `name` matches.
fn matched(tagger: &Tagger, framework: &str, name: &str) -> Vec<(String, f64)> {
    items_named(tagger, name)
        .into_iter()
        .filter(|(item, _)| {
            tagger
                .item(item)
                .is_none_or(|known| known.framework != framework)
        })
        .collect()
}

/// An asset's alignments: each skill to the items its name matches (with the match's
/// confidence) or to its own skills-framework item; each category to the items its name
/// matches, at a lower confidence. The strongest alignment per item is kept.
fn asset_alignments(tagger: &Tagger, framework: &str, asset: &Asset) -> Vec<Alignment> {
    let mut best: HashMap<String, f64> = HashMap::new();
    let mut offer = |item: String, confidence: f64| {
        let entry = best.entry(item).or_insert(0.0);
        *entry = entry.max((confidence * 1000.0).round() / 1000.0);
    };
    for (urn, kind, name) in &asset.classifications {
        let matches = matched(tagger, framework, name);
        if kind == "SKILL" {
            let own = skill_item(framework, urn);
            if tagger.item(&own).is_some() {
                offer(own, SKILL_CONFIDENCE);
            }
            for (item, confidence) in matches {
                offer(item, confidence);
            }
        } else {
            for (item, confidence) in matches {
                offer(item, confidence * CATEGORY_FACTOR);
            }
        }
    }
    let mut out: Vec<Alignment> = best
        .into_iter()
        .map(|(item, confidence)| Alignment {
            item,
            confidence,
            source: Some(SOURCE.into()),
        })
        .collect();
    out.sort_by(|a, b| a.item.cmp(&b.item));
    out
}

fn competency(e: CompetencyError) -> ConnectorError {
    match e {
        CompetencyError::Store(e) => ConnectorError::Store(e),
        other => ConnectorError::Payload(format!("competencies: {other}")),
    }
}

/// Activates a new version of the tenant's skills framework with `skills` added, and
/// deactivates the version it replaces.
async fn add_skills(
    ctx: &RunContext,
    framework: &str,
    skills: &[(String, String, String)],
) -> Result<(), ConnectorError> {
    let service = &ctx.lrs.competencies;
    let versions = service.frameworks(ctx.tenant).await.map_err(competency)?;
    let current = versions
        .iter()
        .filter(|f| f.iri == framework)
        .max_by_key(|f| (f.active, f.version.parse::<u64>().unwrap_or(0)));
    let (mut items, version, old) = match current {
        Some(summary) => {
            let view = service
                .framework(ctx.tenant, &summary.id)
                .await
                .map_err(competency)?;
            let items = serde_json::to_value(&view.framework.items)
                .map_err(|e| ConnectorError::State(format!("skills framework: {e}")))?;
            let next = versions
                .iter()
                .filter(|f| f.iri == framework)
                .filter_map(|f| f.version.parse::<u64>().ok())
                .max()
                .unwrap_or(0)
                + 1;
            (items, next, summary.active.then(|| summary.id.clone()))
        }
        None => (json!([]), 1, None),
    };
    if let Some(list) = items.as_array_mut() {
        for (iri, name, urn) in skills {
            list.push(json!({ "iri": iri, "name": name, "kind": "skill", "code": urn }));
        }
    }
    let body = json!({
        "iri": framework,
        "version": version.to_string(),
        "title": "LinkedIn Learning skills",
        "description": "Skills LinkedIn Learning classifies courses with that no other framework of the tenant names; kept by the LinkedIn Learning connector.",
        "publisher": "lrsgate",
        "language": "en",
        "items": items,
    });
    service
        .create_framework(ctx.tenant, &body, true)
        .await
        .map_err(competency)?;
    if let Some(old) = old {
        service
            .set_framework_active(ctx.tenant, &old, false)
            .await
            .map_err(competency)?;
    }
    tracing::info!(connector = %ctx.connector, version, added = skills.len(), "LinkedIn skills framework updated");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(email: Option<&str>, activities: Value) -> Value {
        json!({
            "learnerDetails": {
                "name": "Mary Major",
                "email": email,
                "uniqueUserId": "mmajor",
                "entity": { "profileUrn": "urn:li:enterpriseProfile:(urn:li:enterpriseAccount:1,2)" }
            },
            "activities": activities,
            "contentDetails": {
                "contentProviderName": "LinkedIn",
                "name": "Agile Foundations",
                "contentUrn": "urn:li:lyndaCourse:5000",
                "locale": { "language": "en", "country": "US" }
            }
        })
    }

    fn activity(kind: &str, value: f64) -> Value {
        json!({ "engagementType": kind, "engagementValue": value, "engagementMetricQualifier": "TOTAL",
                "assetType": "COURSE", "firstEngagedAt": 1_700_000_000_000_i64, "lastEngagedAt": 1_700_000_600_000_i64 })
    }

    #[test]
    fn a_completion_row_is_a_completed_statement_with_a_stable_id() {
        let r = row(
            Some("mary@example.com"),
            json!([
                activity("SECONDS_VIEWED", 3600.0),
                activity("COMPLETIONS", 1.0)
            ]),
        );
        let s = row_statement(&r).unwrap().unwrap();
        assert_eq!(s["verb"]["id"], "http://adlnet.gov/expapi/verbs/completed");
        assert_eq!(s["actor"]["mbox"], "mailto:mary@example.com");
        assert_eq!(s["object"]["id"], "urn:li:lyndaCourse:5000");
        assert_eq!(s["result"]["completion"], true);
        assert_eq!(s["result"]["duration"], "PT3600S");
        assert_eq!(s["timestamp"], format_millis(1_700_000_600_000));
        assert_eq!(
            s["id"],
            statement_id(
                SOURCE,
                "mbox:mary@example.com",
                "urn:li:lyndaCourse:5000",
                "completed"
            )
        );
        assert_eq!(row_statement(&r).unwrap().unwrap()["id"], s["id"]);
    }

    #[test]
    fn progress_without_email_is_progressed_by_a_linkedin_account() {
        let r = row(None, json!([activity("PROGRESS_PERCENTAGE", 40.0)]));
        let s = row_statement(&r).unwrap().unwrap();
        assert_eq!(s["verb"]["id"], "http://adlnet.gov/expapi/verbs/progressed");
        assert_eq!(s["actor"]["account"]["homePage"], HOME_PAGE);
        assert_eq!(s["result"]["extensions"][PROGRESS_EXTENSION], 40);
        assert_eq!(s["result"]["completion"], false);
        // More progress later is a new event; the same progress again is the same one.
        let later = row(None, json!([activity("PROGRESS_PERCENTAGE", 70.0)]));
        assert_ne!(row_statement(&later).unwrap().unwrap()["id"], s["id"]);
        // A row with no progress and no completion makes no statement.
        let idle = row(None, json!([activity("SECONDS_VIEWED", 10.0)]));
        assert_eq!(row_statement(&idle).unwrap(), None);
    }

    #[test]
    fn malformed_rows_are_rejected_with_a_reason() {
        let no_learner =
            json!({ "activities": [], "contentDetails": { "contentUrn": "urn:li:lyndaCourse:1" } });
        assert!(row_statement(&no_learner)
            .unwrap_err()
            .contains("learnerDetails"));
        let mut bad_urn = row(Some("a@example.com"), json!([activity("COMPLETIONS", 1.0)]));
        bad_urn["contentDetails"]["contentUrn"] = json!("not a urn");
        assert!(row_statement(&bad_urn).unwrap_err().contains("contentUrn"));
        let bad_value = row(
            Some("a@example.com"),
            json!([{ "engagementType": "COMPLETIONS", "engagementValue": "many" }]),
        );
        assert!(row_statement(&bad_value)
            .unwrap_err()
            .contains("engagementValue"));
        let page = json!({ "elements": [no_learner, row(Some("b@example.com"), json!([activity("COMPLETIONS", 1.0)]))],
                           "paging": { "start": 20, "count": 2 } });
        let (statements, rejected, rows) =
            report_statements(&page, "http://x/v2/learningActivityReports?q=criteria");
        assert_eq!((statements.len(), rejected.len(), rows), (1, 1, 2));
        assert_eq!(rejected[0].record, "report row 20 (urn:li:lyndaCourse:1)");
    }

    #[test]
    fn an_asset_becomes_a_definition_with_its_classifications() {
        let asset = json!({
            "urn": "urn:li:lyndaCourse:5000",
            "type": "COURSE",
            "title": { "locale": { "language": "en", "country": "US" }, "value": "Agile Foundations" },
            "details": {
                "description": { "value": "What agile teams do." },
                "timeToComplete": { "duration": 90, "unit": "MINUTE" },
                "urls": { "webLaunch": "https://www.linkedin.com/learning/agile-foundations" },
                "classifications": [
                    { "associatedClassification": { "urn": "urn:li:lyndaCategory:1", "type": "SKILL",
                                                    "name": { "value": "Agile Methodologies" } } },
                    { "associatedClassification": { "urn": "urn:li:lyndaCategory:2", "type": "SUBJECT",
                                                    "name": { "value": "Project Management" } } }
                ]
            }
        });
        let a = Asset::read(&asset, "en").unwrap();
        assert_eq!(a.definition["name"]["en-US"], "Agile Foundations");
        assert_eq!(a.definition["type"], COURSE_TYPE);
        assert_eq!(a.definition["extensions"][DURATION_EXTENSION], "PT5400S");
        assert_eq!(a.classifications.len(), 2);
        assert!(Asset::read(&json!({ "urn": "urn:li:lyndaCourse:1" }), "en").is_err());
        assert_eq!(
            skill_item(
                "https://w3id.org/lrsgate/frameworks/linkedin-skills/1",
                "urn:li:lyndaCategory:1"
            ),
            "https://w3id.org/lrsgate/frameworks/linkedin-skills/1/skills/lyndaCategory-1"
        );
    }

    #[test]
    fn next_links_resolve_against_the_base_url() {
        let body = json!({ "paging": { "links": [
            { "rel": "prev", "href": "/v2/x?start=0" },
            { "rel": "next", "href": "/v2/x?start=20", "type": "application/json" }
        ] } });
        let next = next_link(&body).unwrap();
        assert_eq!(
            absolute("http://127.0.0.1:9/li/", &next),
            "http://127.0.0.1:9/li/v2/x?start=20"
        );
        assert_eq!(next_link(&json!({ "paging": { "links": [] } })), None);
    }
}
