//! One typed configuration, layered: defaults < TOML file < `LRSGATE_*` env vars < CLI flags.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Deserialize;

use crate::evidence::EvidenceWeights;
use crate::xapi::XapiVersion;

/// A Basic-auth credential given in configuration (its secret is hashed before storage).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CredentialConfig {
    pub key: String,
    pub secret: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// An identity provider whose JWTs are accepted as bearer tokens (TOML `[[issuers]]`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// The `iss` its tokens carry.
    pub issuer: String,
    /// The `aud` its tokens must carry for this gateway.
    pub audience: String,
    /// Its public key as PEM (RSA, EC or Ed25519); needs `algorithm`.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// Its public keys as a JWK Set; a key's own `alg` pins its algorithm, else `algorithm`.
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// The one signature algorithm accepted (e.g. `RS256`, `ES256`, `EdDSA`).
    #[serde(default)]
    pub algorithm: Option<String>,
    /// The tenant (by name) all its tokens act in. Without it, `tenant_claim` names it.
    #[serde(default)]
    pub tenant: Option<String>,
    /// The claim holding the tenant's name.
    #[serde(default = "default_tenant_claim")]
    pub tenant_claim: String,
    /// The claim holding the scopes: a space-separated string or an array of names.
    #[serde(default = "default_scope_claim")]
    pub scope_claim: String,
}

/// The evidence weighting (TOML `[evidence]`); absent keys keep their defaults, and
/// `verbs` / `trust` entries are added to (or replace) the defaults one by one.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EvidenceConfig {
    pub half_life_days: Option<f64>,
    pub other_verb: Option<f64>,
    pub failure: Option<f64>,
    #[serde(default)]
    pub verbs: std::collections::HashMap<String, f64>,
    #[serde(default)]
    pub trust: std::collections::HashMap<String, f64>,
    pub level_from: Option<[f64; 4]>,
    /// A watched video's result factor is its progress to this power.
    pub video_progress_exponent: Option<f64>,
    /// Strength of a video session that ended short of completion.
    pub video_partial: Option<f64>,
    /// Strength of teaching evidence (an instructor's or author's, per learner statement).
    pub teaching: Option<f64>,
    /// The item teaching is always evidence for (an item IRI; empty for none).
    pub teaching_item: Option<String>,
}

impl EvidenceConfig {
    fn apply_to(self, w: &mut EvidenceWeights) -> anyhow::Result<()> {
        if let Some(v) = self.half_life_days {
            if !(v.is_finite() && v > 0.0) {
                anyhow::bail!("evidence.half_life_days must be a positive number of days");
            }
            w.half_life_days = v;
        }
        if let Some(v) = self.other_verb {
            w.other_verb = v;
        }
        if let Some(v) = self.failure {
            if v > 0.0 {
                anyhow::bail!(
                    "evidence.failure must be zero or negative (a failure counts against)"
                );
            }
            w.failure = v;
        }
        w.verbs.extend(self.verbs);
        for (source, trust) in self.trust {
            if !(0.0..=1.0).contains(&trust) {
                anyhow::bail!("evidence.trust.{source} must be between 0 and 1");
            }
            w.trust.insert(source, trust);
        }
        if let Some(levels) = self.level_from {
            if !levels.windows(2).all(|p| p[0] < p[1]) || levels[0] <= 0.0 {
                anyhow::bail!("evidence.level_from must be four increasing positive scores");
            }
            w.level_from = levels;
        }
        if let Some(v) = self.video_progress_exponent {
            if !(v.is_finite() && v > 0.0) {
                anyhow::bail!("evidence.video_progress_exponent must be a positive number");
            }
            w.video_progress_exponent = v;
        }
        if let Some(v) = self.video_partial {
            if !(0.0..=1.0).contains(&v) {
                anyhow::bail!("evidence.video_partial must be between 0 and 1");
            }
            w.video_partial = v;
        }
        if let Some(v) = self.teaching {
            if !(0.0..=1.0).contains(&v) {
                anyhow::bail!("evidence.teaching must be between 0 and 1");
            }
            w.teaching = v;
        }
        if let Some(item) = self.teaching_item {
            w.teaching_item = item;
        }
        Ok(())
    }
}

fn default_tenant_claim() -> String {
    "tenant".into()
}

fn default_scope_claim() -> String {
    "scope".into()
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The resolved settings of a server.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address and port to listen on.
    pub listen: String,
    /// Store URL: `sqlite://PATH` (or a bare path).
    pub store: String,
    /// `tracing` filter directives, e.g. `info` or `lrsgate=debug`.
    pub log: String,
    pub log_format: LogFormat,
    /// Largest accepted request body; larger ones get 413.
    pub max_body_bytes: usize,
    /// Statements per page when the client sets no (or a zero) `limit`, and the cap on `limit`.
    pub page_limit: u32,
    /// Caps on what one request may carry (see `Limits`).
    pub limits: Limits,
    /// The most write requests the SQLite writer admits at once; more get 503.
    pub write_queue: usize,
    /// The SQLite page caches' budget across all connections, in MiB.
    pub sqlite_cache_mib: u32,
    /// The memory the SQLite store's filters of sealed index buckets may take, in MiB
    /// (0: none are kept).
    pub sqlite_filter_mib: u32,
    /// Write requests served at once; more get 503 before their bodies are read.
    pub max_inflight_writes: usize,
    /// Statement bodies (bytes as sent) parsed and stored at once; a PUT or POST of
    /// statements past it waits for room, holding only its body.
    pub max_inflight_statement_bytes: usize,
    /// A request's deadline: a handler still working after it is answered 503 (408 while
    /// the body is still arriving); 0 turns it off.
    pub request_timeout_secs: u64,
    /// How long a client may take to send a request's headers before a 408.
    pub header_timeout_secs: u64,
    /// Credentials created or updated at start-up.
    pub credentials: Vec<CredentialConfig>,
    /// The version named in answers to requests that carry no usable version header,
    /// for clients not seen before (see `http::ClientVersions`).
    pub default_version: XapiVersion,
    /// Basic-auth key of the operator's admin credential for `/api/v1/admin/`.
    pub admin_key: String,
    /// Its secret; without one the admin API answers only tenant admins (`admin` scope).
    pub admin_secret: Option<String>,
    /// `iss` and `aud` of the access tokens `/oauth2/token` issues.
    pub token_issuer: String,
    /// How long an issued access token is valid.
    pub token_lifetime_secs: u64,
    /// Identity providers whose tokens are trusted.
    pub issuers: Vec<IssuerConfig>,
    /// Requests per minute each credential (or token subject) may make; 0 turns the limit off.
    pub rate_limit_per_minute: u32,
    /// Requests a credential may make at once before the rate applies (default: a
    /// minute's worth).
    pub rate_limit_burst: Option<u32>,
    /// Text evidence (0–1) an activity's name and description need to tag an item.
    pub tagging_text_threshold: f64,
    /// Whether statements are tagged at ingest.
    pub tagging: bool,
    /// How evidence is weighed and how fast it fades.
    pub evidence: EvidenceWeights,
    /// Whether tagged statements are recorded as skill evidence at ingest.
    pub evidence_recording: bool,
    /// Refuse (400) an xAPI 1.0.3 profile PUT without `If-Match`/`If-None-Match` even when
    /// the document does not exist yet, enforcing the client rule of Communication
    /// 3.1.s3.b1 as ADL's 1.0.3 test suite checks it. Off: such a PUT creates the
    /// document, as client libraries expect; over an existing one it is 409 either way.
    pub strict_profile_preconditions: bool,
    /// A separate address for `/metrics` (e.g. `0.0.0.0:9090`); unset, it is served on
    /// `listen` with the rest.
    pub metrics_listen: Option<String>,
    /// How long a SIGTERM or Ctrl-C gives in-flight requests, the evidence journal and the
    /// stores to finish before the process exits.
    pub shutdown_timeout_secs: u64,
    /// `/health/ready` fails once the evidence journal's oldest unapplied entry is older.
    pub ready_max_evidence_lag_secs: u64,
    /// Whether this gateway runs connectors on their schedules (runs asked for through the
    /// API or `lrsgate connector run` happen either way).
    pub connectors_enabled: bool,
    /// How often the connector scheduler looks for connectors that are due.
    pub connector_tick_secs: u64,
    /// Connectors' HTTP calls: time allowed to connect, and to wait for each read.
    pub connector_connect_timeout_secs: u64,
    pub connector_read_timeout_secs: u64,
    /// Connectors declared in the file (`[[connectors]]`: `id`, optional `tenant` name,
    /// `kind` and its fields, `every_minutes`, `enabled`), put into the store at start.
    pub connectors: Vec<serde_json::Value>,
}

/// Caps on one request's content beyond its size in bytes (`max_body_bytes`); each
/// refusal names the field and the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Statements in one POST (413, rule `max-batch-statements`).
    pub batch_statements: usize,
    /// Attachment parts in one statements request (413, rule `max-attachments`).
    pub attachments: usize,
    /// Bytes of one attachment part (413, rule `max-attachment-bytes`).
    pub attachment_bytes: usize,
    /// Nesting of arrays and objects in a statement body (400, rule `max-json-depth`).
    pub json_depth: usize,
    /// Bytes of one string or property name in a statement body (400, rule
    /// `max-string-bytes`).
    pub string_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            batch_statements: 10_000,
            attachments: 100,
            attachment_bytes: 32 * 1024 * 1024,
            json_depth: 64,
            string_bytes: 1024 * 1024,
        }
    }
}

/// The deepest nesting the JSON parser itself accepts (serde_json's recursion limit).
pub const PARSER_DEPTH: usize = 127;

/// `max_inflight_statement_bytes` when none is given: ten batches of 100 statements of
/// `lrsgate bench` (75 KB each) being parsed and stored at once keep the writer's group
/// commits full; each takes about 1 MB on its way through (README, Benchmarks).
pub const DEFAULT_INFLIGHT_STATEMENT_BYTES: usize = 768 * 1024;

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: "127.0.0.1:8080".into(),
            store: "sqlite://data/lrsgate.db".into(),
            log: "info".into(),
            log_format: LogFormat::Text,
            max_body_bytes: 64 * 1024 * 1024,
            page_limit: 500,
            limits: Limits::default(),
            write_queue: crate::store::sqlite::writer::DEFAULT_CAPACITY,
            sqlite_cache_mib: crate::store::sqlite::DEFAULT_CACHE_MIB,
            sqlite_filter_mib: crate::store::sqlite::DEFAULT_FILTER_MIB,
            max_inflight_writes: 64,
            max_inflight_statement_bytes: DEFAULT_INFLIGHT_STATEMENT_BYTES,
            request_timeout_secs: 60,
            header_timeout_secs: 5,
            credentials: Vec::new(),
            default_version: XapiVersion::V2,
            admin_key: "admin".into(),
            admin_secret: None,
            token_issuer: "urn:lrsgate".into(),
            token_lifetime_secs: 3600,
            issuers: Vec::new(),
            rate_limit_per_minute: 0,
            rate_limit_burst: None,
            tagging_text_threshold: 0.6,
            tagging: true,
            evidence: EvidenceWeights::default(),
            evidence_recording: true,
            strict_profile_preconditions: false,
            metrics_listen: None,
            shutdown_timeout_secs: 25,
            ready_max_evidence_lag_secs: 300,
            connectors_enabled: true,
            connector_tick_secs: 15,
            connector_connect_timeout_secs: 10,
            connector_read_timeout_secs: 60,
            connectors: Vec::new(),
        }
    }
}

/// One layer of settings; absent keys leave the lower layer's value.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub listen: Option<String>,
    pub store: Option<String>,
    pub log: Option<String>,
    pub log_format: Option<LogFormat>,
    pub max_body_bytes: Option<usize>,
    pub page_limit: Option<u32>,
    pub max_batch_statements: Option<usize>,
    pub max_attachments: Option<usize>,
    pub max_attachment_bytes: Option<usize>,
    pub max_json_depth: Option<usize>,
    pub max_string_bytes: Option<usize>,
    pub write_queue: Option<usize>,
    pub sqlite_cache_mib: Option<u32>,
    pub sqlite_filter_mib: Option<u32>,
    pub max_inflight_writes: Option<usize>,
    pub max_inflight_statement_bytes: Option<usize>,
    pub request_timeout_secs: Option<u64>,
    pub header_timeout_secs: Option<u64>,
    pub credentials: Option<Vec<CredentialConfig>>,
    pub default_version: Option<String>,
    pub admin_key: Option<String>,
    pub admin_secret: Option<String>,
    pub token_issuer: Option<String>,
    pub token_lifetime_secs: Option<u64>,
    pub issuers: Option<Vec<IssuerConfig>>,
    pub rate_limit_per_minute: Option<u32>,
    pub rate_limit_burst: Option<u32>,
    pub tagging_text_threshold: Option<f64>,
    pub tagging: Option<bool>,
    pub evidence: Option<EvidenceConfig>,
    pub evidence_recording: Option<bool>,
    pub strict_profile_preconditions: Option<bool>,
    pub metrics_listen: Option<String>,
    pub shutdown_timeout_secs: Option<u64>,
    pub ready_max_evidence_lag_secs: Option<u64>,
    pub connectors_enabled: Option<bool>,
    pub connector_tick_secs: Option<u64>,
    pub connector_connect_timeout_secs: Option<u64>,
    pub connector_read_timeout_secs: Option<u64>,
    pub connectors: Option<Vec<serde_json::Value>>,
}

impl Settings {
    /// Resolves settings from an optional TOML file, the process environment and CLI flags.
    pub fn load(file: Option<&Path>, cli: Layer) -> anyhow::Result<Self> {
        let mut settings = Settings::default();
        if let Some(path) = file {
            settings.apply(read_file(path)?)?;
        }
        settings.apply(from_env(|k| std::env::var(k).ok())?)?;
        settings.apply(cli)?;
        if settings.page_limit == 0 {
            anyhow::bail!("page_limit must be at least 1");
        }
        settings.check_limits()?;
        Ok(settings)
    }

    /// Refuses caps that would refuse everything or that the parser cannot honour.
    fn check_limits(&self) -> anyhow::Result<()> {
        let l = &self.limits;
        let at_least_one = [
            ("max_batch_statements", l.batch_statements),
            ("max_json_depth", l.json_depth),
            ("max_string_bytes", l.string_bytes),
            ("max_attachment_bytes", l.attachment_bytes),
            ("write_queue", self.write_queue),
            ("sqlite_cache_mib", self.sqlite_cache_mib as usize),
            ("max_inflight_writes", self.max_inflight_writes),
            (
                "max_inflight_statement_bytes",
                self.max_inflight_statement_bytes,
            ),
            ("max_body_bytes", self.max_body_bytes),
        ];
        if let Some((name, _)) = at_least_one.iter().find(|(_, v)| *v == 0) {
            anyhow::bail!("{name} must be at least 1");
        }
        if l.json_depth > PARSER_DEPTH {
            anyhow::bail!("max_json_depth must be at most {PARSER_DEPTH}");
        }
        if self.header_timeout_secs == 0 {
            anyhow::bail!("header_timeout_secs must be at least 1");
        }
        Ok(())
    }

    fn apply(&mut self, layer: Layer) -> anyhow::Result<()> {
        let Layer {
            listen,
            store,
            log,
            log_format,
            max_body_bytes,
            page_limit,
            max_batch_statements,
            max_attachments,
            max_attachment_bytes,
            max_json_depth,
            max_string_bytes,
            write_queue,
            sqlite_cache_mib,
            sqlite_filter_mib,
            max_inflight_writes,
            max_inflight_statement_bytes,
            request_timeout_secs,
            header_timeout_secs,
            credentials,
            default_version,
            admin_key,
            admin_secret,
            token_issuer,
            token_lifetime_secs,
            issuers,
            rate_limit_per_minute,
            rate_limit_burst,
            tagging_text_threshold,
            tagging,
            evidence,
            evidence_recording,
            strict_profile_preconditions,
            metrics_listen,
            shutdown_timeout_secs,
            ready_max_evidence_lag_secs,
            connectors_enabled,
            connector_tick_secs,
            connector_connect_timeout_secs,
            connector_read_timeout_secs,
            connectors,
        } = layer;
        if let Some(v) = metrics_listen {
            // An empty value (e.g. `LRSGATE_METRICS_LISTEN=`) serves metrics on `listen`.
            self.metrics_listen = Some(v).filter(|v| !v.trim().is_empty());
        }
        if let Some(v) = shutdown_timeout_secs {
            if v == 0 {
                anyhow::bail!("shutdown_timeout_secs must be at least 1");
            }
            self.shutdown_timeout_secs = v;
        }
        if let Some(v) = ready_max_evidence_lag_secs {
            self.ready_max_evidence_lag_secs = v;
        }
        if let Some(v) = connectors_enabled {
            self.connectors_enabled = v;
        }
        for (name, value, slot) in [
            (
                "connector_tick_secs",
                connector_tick_secs,
                &mut self.connector_tick_secs,
            ),
            (
                "connector_connect_timeout_secs",
                connector_connect_timeout_secs,
                &mut self.connector_connect_timeout_secs,
            ),
            (
                "connector_read_timeout_secs",
                connector_read_timeout_secs,
                &mut self.connector_read_timeout_secs,
            ),
        ] {
            if let Some(v) = value {
                if v == 0 {
                    anyhow::bail!("{name} must be at least 1");
                }
                *slot = v;
            }
        }
        if let Some(v) = connectors {
            self.connectors = v;
        }
        if let Some(v) = evidence_recording {
            self.evidence_recording = v;
        }
        if let Some(v) = strict_profile_preconditions {
            self.strict_profile_preconditions = v;
        }
        if let Some(v) = evidence {
            v.apply_to(&mut self.evidence)?;
        }
        if let Some(v) = tagging {
            self.tagging = v;
        }
        if let Some(v) = tagging_text_threshold {
            if !(0.0..=1.0).contains(&v) {
                anyhow::bail!("tagging_text_threshold must be between 0 and 1");
            }
            self.tagging_text_threshold = v;
        }
        if let Some(v) = token_issuer {
            self.token_issuer = v;
        }
        if let Some(v) = token_lifetime_secs {
            if v == 0 {
                anyhow::bail!("token_lifetime_secs must be at least 1");
            }
            self.token_lifetime_secs = v;
        }
        if let Some(v) = issuers {
            self.issuers = v;
        }
        if let Some(v) = rate_limit_per_minute {
            self.rate_limit_per_minute = v;
        }
        if let Some(v) = rate_limit_burst.filter(|b| *b > 0) {
            self.rate_limit_burst = Some(v);
        }
        if let Some(v) = admin_key {
            self.admin_key = v;
        }
        if let Some(v) = admin_secret.filter(|s| !s.is_empty()) {
            self.admin_secret = Some(v);
        }
        if let Some(v) = default_version {
            self.default_version = XapiVersion::parse(&v)
                .ok_or_else(|| anyhow::anyhow!("default_version `{v}` is not 1.0.x or 2.0.x"))?;
        }
        if let Some(v) = listen {
            self.listen = v;
        }
        if let Some(v) = store {
            self.store = v;
        }
        if let Some(v) = log {
            self.log = v;
        }
        if let Some(v) = log_format {
            self.log_format = v;
        }
        if let Some(v) = max_body_bytes {
            self.max_body_bytes = v;
        }
        if let Some(v) = page_limit {
            self.page_limit = v;
        }
        let limits = &mut self.limits;
        for (value, slot) in [
            (max_batch_statements, &mut limits.batch_statements),
            (max_attachments, &mut limits.attachments),
            (max_attachment_bytes, &mut limits.attachment_bytes),
            (max_json_depth, &mut limits.json_depth),
            (max_string_bytes, &mut limits.string_bytes),
            (write_queue, &mut self.write_queue),
            (max_inflight_writes, &mut self.max_inflight_writes),
            (
                max_inflight_statement_bytes,
                &mut self.max_inflight_statement_bytes,
            ),
        ] {
            if let Some(v) = value {
                *slot = v;
            }
        }
        if let Some(v) = sqlite_cache_mib {
            self.sqlite_cache_mib = v;
        }
        if let Some(v) = sqlite_filter_mib {
            self.sqlite_filter_mib = v;
        }
        if let Some(v) = request_timeout_secs {
            self.request_timeout_secs = v;
        }
        if let Some(v) = header_timeout_secs {
            self.header_timeout_secs = v;
        }
        if let Some(v) = credentials {
            self.credentials = v;
        }
        Ok(())
    }
}

fn read_file(path: &Path) -> anyhow::Result<Layer> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing config file {}", path.display()))
}

/// The `LRSGATE_*` variables. `LRSGATE_CREDENTIALS` is `key:secret[,key:secret…]`.
fn from_env(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Layer> {
    let parse_num = |name: &str| -> anyhow::Result<Option<u64>> {
        var(name)
            .map(|v| {
                v.trim()
                    .parse()
                    .with_context(|| format!("{name} must be a number"))
            })
            .transpose()
    };
    let log_format = match var("LRSGATE_LOG_FORMAT").as_deref() {
        None => None,
        Some("text") => Some(LogFormat::Text),
        Some("json") => Some(LogFormat::Json),
        Some(other) => anyhow::bail!("LRSGATE_LOG_FORMAT must be `text` or `json`, not `{other}`"),
    };
    let credentials = var("LRSGATE_CREDENTIALS")
        .map(|list| {
            list.split(',')
                .filter(|p| !p.trim().is_empty())
                .map(|pair| match pair.trim().split_once(':') {
                    Some((key, secret)) if !key.is_empty() && !secret.is_empty() => {
                        Ok(CredentialConfig {
                            key: key.into(),
                            secret: secret.into(),
                            name: None,
                        })
                    }
                    _ => Err(anyhow::anyhow!(
                        "LRSGATE_CREDENTIALS entries must be key:secret"
                    )),
                })
                .collect::<anyhow::Result<Vec<_>>>()
        })
        .transpose()?;
    Ok(Layer {
        listen: var("LRSGATE_LISTEN"),
        store: var("LRSGATE_STORE"),
        log: var("LRSGATE_LOG"),
        default_version: var("LRSGATE_DEFAULT_VERSION"),
        log_format,
        max_body_bytes: parse_num("LRSGATE_MAX_BODY_BYTES")?.map(|n| n as usize),
        page_limit: parse_num("LRSGATE_PAGE_LIMIT")?.map(|n| n.min(u64::from(u32::MAX)) as u32),
        max_batch_statements: parse_num("LRSGATE_MAX_BATCH_STATEMENTS")?.map(|n| n as usize),
        max_attachments: parse_num("LRSGATE_MAX_ATTACHMENTS")?.map(|n| n as usize),
        max_attachment_bytes: parse_num("LRSGATE_MAX_ATTACHMENT_BYTES")?.map(|n| n as usize),
        max_json_depth: parse_num("LRSGATE_MAX_JSON_DEPTH")?.map(|n| n as usize),
        max_string_bytes: parse_num("LRSGATE_MAX_STRING_BYTES")?.map(|n| n as usize),
        write_queue: parse_num("LRSGATE_WRITE_QUEUE")?.map(|n| n as usize),
        max_inflight_writes: parse_num("LRSGATE_MAX_INFLIGHT_WRITES")?.map(|n| n as usize),
        max_inflight_statement_bytes: parse_num("LRSGATE_MAX_INFLIGHT_STATEMENT_BYTES")?
            .map(|n| n as usize),
        sqlite_cache_mib: parse_num("LRSGATE_SQLITE_CACHE_MIB")?
            .map(|n| n.min(u64::from(u32::MAX)) as u32),
        sqlite_filter_mib: parse_num("LRSGATE_SQLITE_FILTER_MIB")?
            .map(|n| n.min(u64::from(u32::MAX)) as u32),
        request_timeout_secs: parse_num("LRSGATE_REQUEST_TIMEOUT_SECS")?,
        header_timeout_secs: parse_num("LRSGATE_HEADER_TIMEOUT_SECS")?,
        credentials,
        admin_key: var("LRSGATE_ADMIN_KEY"),
        admin_secret: var("LRSGATE_ADMIN_SECRET"),
        token_issuer: var("LRSGATE_TOKEN_ISSUER"),
        token_lifetime_secs: parse_num("LRSGATE_TOKEN_LIFETIME_SECS")?,
        issuers: None,
        rate_limit_per_minute: parse_num("LRSGATE_RATE_LIMIT_PER_MINUTE")?
            .map(|n| n.min(u64::from(u32::MAX)) as u32),
        rate_limit_burst: parse_num("LRSGATE_RATE_LIMIT_BURST")?
            .map(|n| n.min(u64::from(u32::MAX)) as u32),
        tagging_text_threshold: var("LRSGATE_TAGGING_TEXT_THRESHOLD")
            .map(|v| {
                v.trim()
                    .parse()
                    .with_context(|| "LRSGATE_TAGGING_TEXT_THRESHOLD must be a number")
            })
            .transpose()?,
        evidence: var("LRSGATE_EVIDENCE_HALF_LIFE_DAYS")
            .map(|v| {
                v.trim()
                    .parse()
                    .with_context(|| "LRSGATE_EVIDENCE_HALF_LIFE_DAYS must be a number")
                    .map(|days| EvidenceConfig {
                        half_life_days: Some(days),
                        ..EvidenceConfig::default()
                    })
            })
            .transpose()?,
        tagging: switch(&var, "LRSGATE_TAGGING")?,
        evidence_recording: switch(&var, "LRSGATE_EVIDENCE_RECORDING")?,
        strict_profile_preconditions: switch(&var, "LRSGATE_STRICT_PROFILE_PRECONDITIONS")?,
        metrics_listen: var("LRSGATE_METRICS_LISTEN"),
        shutdown_timeout_secs: parse_num("LRSGATE_SHUTDOWN_TIMEOUT_SECS")?,
        ready_max_evidence_lag_secs: parse_num("LRSGATE_READY_MAX_EVIDENCE_LAG_SECS")?,
        connectors_enabled: switch(&var, "LRSGATE_CONNECTORS_ENABLED")?,
        connector_tick_secs: parse_num("LRSGATE_CONNECTOR_TICK_SECS")?,
        connector_connect_timeout_secs: parse_num("LRSGATE_CONNECTOR_CONNECT_TIMEOUT_SECS")?,
        connector_read_timeout_secs: parse_num("LRSGATE_CONNECTOR_READ_TIMEOUT_SECS")?,
        connectors: None,
    })
}

/// An on/off variable.
fn switch(var: &impl Fn(&str) -> Option<String>, name: &str) -> anyhow::Result<Option<bool>> {
    match var(name).as_deref() {
        None => Ok(None),
        Some("on" | "true") => Ok(Some(true)),
        Some("off" | "false") => Ok(Some(false)),
        Some(other) => anyhow::bail!("{name} must be `on` or `off`, not `{other}`"),
    }
}

/// The config file named by `--config` or `LRSGATE_CONFIG`.
pub fn config_path(flag: Option<PathBuf>) -> Option<PathBuf> {
    flag.or_else(|| std::env::var_os("LRSGATE_CONFIG").map(PathBuf::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_layers_win() {
        let mut s = Settings::default();
        let file = "listen = \"0.0.0.0:9000\"\npage_limit = 50\ndefault_version = \"1.0.3\"";
        s.apply(toml::from_str(file).unwrap()).unwrap();
        let env = from_env(|k| (k == "LRSGATE_PAGE_LIMIT").then(|| "20".to_owned()));
        s.apply(env.unwrap()).unwrap();
        s.apply(Layer {
            store: Some("sqlite:///tmp/x.db".into()),
            ..Layer::default()
        })
        .unwrap();
        assert_eq!(s.default_version, XapiVersion::V1);
        assert_eq!(
            (s.listen.as_str(), s.page_limit, s.store.as_str()),
            ("0.0.0.0:9000", 20, "sqlite:///tmp/x.db")
        );
    }

    #[test]
    fn env_credentials_are_key_secret_pairs() {
        let layer = from_env(|k| (k == "LRSGATE_CREDENTIALS").then(|| "a:b, c:d".to_owned()));
        let creds = layer.ok().and_then(|l| l.credentials).unwrap_or_default();
        assert_eq!(
            creds
                .iter()
                .map(|c| (c.key.as_str(), c.secret.as_str()))
                .collect::<Vec<_>>(),
            [("a", "b"), ("c", "d")]
        );
        assert!(from_env(|k| (k == "LRSGATE_CREDENTIALS").then(|| "nosecret".to_owned())).is_err());
    }

    #[test]
    fn the_statement_room_is_set_by_file_or_env_and_never_empty() {
        let mut s = Settings::default();
        assert_eq!(
            s.max_inflight_statement_bytes,
            DEFAULT_INFLIGHT_STATEMENT_BYTES
        );
        s.apply(toml::from_str("max_inflight_statement_bytes = 2000000").unwrap())
            .unwrap();
        assert_eq!(s.max_inflight_statement_bytes, 2_000_000);
        let env =
            from_env(|k| (k == "LRSGATE_MAX_INFLIGHT_STATEMENT_BYTES").then(|| "4096".to_owned()));
        s.apply(env.unwrap()).unwrap();
        assert_eq!(s.max_inflight_statement_bytes, 4096);
        s.max_inflight_statement_bytes = 0;
        let refused = s.check_limits().unwrap_err().to_string();
        assert!(
            refused.contains("max_inflight_statement_bytes"),
            "{refused}"
        );
    }

    #[test]
    fn unknown_file_keys_are_errors() {
        assert!(toml::from_str::<Layer>("lisen = \"x\"").is_err());
    }
}
