//! The storage contract: backend-neutral traits (no SQL or MongoDB above this module), one
//! per kind of record — statements, documents, actors, credentials, tenants, and in
//! submodules competencies, people, evidence and transfer. The backend is chosen by the
//! store URL's scheme.

pub mod activity_map;
pub mod competency;
pub mod connectors;
pub mod evidence;
#[cfg(feature = "mongodb")]
pub mod mongo;
pub mod opportunities;
pub mod ops;
pub mod people;
pub mod privacy;
pub mod sqlite;
pub mod transfer;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::xapi::document::{PreconditionError, Preconditions, WriteMode};
use crate::xapi::{PreparedStatement, Violation};

/// A tenant's numeric id. Every row of every table is keyed by one.
pub type TenantId = i64;

/// The tenant created with every store: it owns what the operator's credentials write, and
/// everything written before other tenants were made (`lrsgate tenant`, the admin API).
pub const DEFAULT_TENANT: TenantId = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    Invalid(Violation),
    /// The store cannot take the request now (its write queue is full, or the database is
    /// locked); the client may retry shortly.
    #[error("{0}")]
    Busy(String),
    #[error(transparent)]
    Backend(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<PreconditionError> for StoreError {
    fn from(e: PreconditionError) -> Self {
        match e {
            PreconditionError::Failed(msg) => StoreError::PreconditionFailed(msg),
            PreconditionError::Required => StoreError::Invalid(Violation::new(
                "If-None-Match",
                "precondition-header",
                "send If-None-Match: * to create this document (or If-Match with its ETag to replace it)",
            )),
            PreconditionError::Conflict => StoreError::Conflict(
                "the document exists: send If-Match with its ETag (or If-None-Match: *) to change it"
                    .into(),
            ),
        }
    }
}

/// A statement to store: the prepared xAPI statement and what ingest derived from it,
/// which the store keeps beside it (the statement itself stays as the client sent it).
#[derive(Debug, Clone)]
pub struct NewStatement {
    pub statement: PreparedStatement,
    /// The framework items it is evidence for.
    pub tags: Vec<competency::Tag>,
    /// What the tags say of the actor.
    pub evidence: Vec<evidence::EvidenceItem>,
    /// Identified Groups it names, kept as teams.
    pub teams: Vec<evidence::SeenTeam>,
}

/// Raw attachment content, addressed by its SHA-2 hash.
#[derive(Debug, Clone)]
pub struct AttachmentData {
    pub sha2: String,
    pub content_type: String,
    pub content: Bytes,
}

/// A statement as read back.
#[derive(Debug, Clone)]
pub struct StoredStatement {
    pub body: Value,
    pub voided: bool,
    pub stored_millis: i64,
}

/// The filters of a multiple-statement GET, already resolved to index keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatementQuery {
    /// IFI key of the `agent` parameter.
    pub agent: Option<String>,
    pub verb: Option<String>,
    pub activity: Option<String>,
    pub registration: Option<String>,
    pub related_agents: bool,
    pub related_activities: bool,
    /// Only statements with this authority (an `Authority` index key), for
    /// `statements/read/mine`.
    pub authority: Option<String>,
    /// Exclusive lower bound on `stored`, in Unix milliseconds.
    pub since_millis: Option<i64>,
    /// Inclusive upper bound on `stored`, in Unix milliseconds.
    pub until_millis: Option<i64>,
    pub ascending: bool,
    /// Page size (already capped by the caller).
    pub limit: u32,
}

/// Where a page continues: the statement order key after which it starts and the
/// snapshot bound fixed by the first page, so pages stay consistent while writes go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub after: Option<i64>,
    pub bound: i64,
}

/// The `seq` range `(low, high]` a page scans: the snapshot `bound`, the `since`/`until`
/// bounds already turned into `seq` values, and where the cursor left off.
pub fn seq_window(
    q: &StatementQuery,
    cursor: Option<Cursor>,
    bound: i64,
    since_seq: Option<i64>,
    until_seq: Option<i64>,
) -> (i64, i64) {
    let mut low = since_seq.unwrap_or(0);
    let mut high = until_seq.map_or(bound, |s| s.min(bound));
    match cursor.and_then(|c| c.after) {
        Some(after) if q.ascending => low = low.max(after),
        Some(after) => high = high.min(after - 1),
        None => {}
    }
    (low, high)
}

#[derive(Debug, Clone)]
pub struct StatementPage {
    pub statements: Vec<Value>,
    /// Set when more statements match: where the next page starts.
    pub next: Option<Cursor>,
}

/// A page of statements as the store keeps them: each one's JSON text, unparsed, for
/// answers that show statements unchanged.
#[derive(Debug, Clone)]
pub struct StatementTextPage {
    pub statements: Vec<StatementText>,
    pub next: Option<Cursor>,
}

#[derive(Debug, Clone)]
pub struct StatementText {
    pub json: String,
    pub stored_millis: i64,
}

#[async_trait]
pub trait StatementStore: Send + Sync {
    /// Stores a batch atomically, with the attachment contents it carries. A statement
    /// whose id is stored already is accepted unchanged when its fingerprint matches;
    /// otherwise the whole batch fails with `Conflict`.
    async fn insert_statements(
        &self,
        tenant: TenantId,
        batch: Vec<NewStatement>,
        attachments: Vec<AttachmentData>,
    ) -> StoreResult<()>;

    /// One statement by id, voided or not.
    async fn statement(&self, tenant: TenantId, id: &str) -> StoreResult<Option<StoredStatement>>;

    /// One page of non-voided statements. `cursor` is `None` for a first page.
    async fn query_statements(
        &self,
        tenant: TenantId,
        query: &StatementQuery,
        cursor: Option<Cursor>,
    ) -> StoreResult<StatementPage>;

    /// The page `query_statements` answers, as JSON text. A store that keeps statements as
    /// text hands them over without parsing them; this default serialises the parsed page.
    async fn query_statement_texts(
        &self,
        tenant: TenantId,
        query: &StatementQuery,
        cursor: Option<Cursor>,
    ) -> StoreResult<StatementTextPage> {
        let page = self.query_statements(tenant, query, cursor).await?;
        let statements = page
            .statements
            .iter()
            .map(|s| StatementText {
                json: s.to_string(),
                stored_millis: s
                    .get("stored")
                    .and_then(Value::as_str)
                    .and_then(crate::xapi::time::parse_query_timestamp)
                    .map_or(0, |t| t.timestamp_millis()),
            })
            .collect();
        Ok(StatementTextPage {
            statements,
            next: page.next,
        })
    }

    /// The stored contents of the given attachment hashes (unknown ones are skipped).
    async fn attachments(
        &self,
        tenant: TenantId,
        hashes: &[String],
    ) -> StoreResult<Vec<AttachmentData>>;

    /// Unix milliseconds up to which every accepted statement is visible to queries.
    async fn consistent_through(&self) -> StoreResult<i64>;
}

/// Which document resource, and the parameters that scope it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentScope {
    State {
        activity_id: String,
        agent: String,
        registration: Option<String>,
    },
    ActivityProfile {
        activity_id: String,
    },
    AgentProfile {
        agent: String,
    },
}

impl DocumentScope {
    /// The scope as stored: (kind: 1 state, 2 activity profile, 3 agent profile, activity
    /// id, agent IFI key, registration), unused parts empty.
    pub fn key(&self) -> (i64, &str, &str, &str) {
        match self {
            DocumentScope::State {
                activity_id,
                agent,
                registration,
            } => (1, activity_id, agent, registration.as_deref().unwrap_or("")),
            DocumentScope::ActivityProfile { activity_id } => (2, activity_id, "", ""),
            DocumentScope::AgentProfile { agent } => (3, "", agent, ""),
        }
    }

    /// The scope back from its stored [`key`](Self::key); `None` for an unknown kind.
    pub fn from_key(kind: i64, activity_id: &str, agent: &str, registration: &str) -> Option<Self> {
        match kind {
            1 => Some(DocumentScope::State {
                activity_id: activity_id.to_owned(),
                agent: agent.to_owned(),
                registration: (!registration.is_empty()).then(|| registration.to_owned()),
            }),
            2 => Some(DocumentScope::ActivityProfile {
                activity_id: activity_id.to_owned(),
            }),
            3 => Some(DocumentScope::AgentProfile {
                agent: agent.to_owned(),
            }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Document {
    pub content_type: String,
    pub content: Bytes,
    /// Unquoted entity tag (a SHA-1 of the content, in hex).
    pub etag: String,
    pub updated_millis: i64,
}

#[async_trait]
pub trait DocumentStore: Send + Sync {
    async fn document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
    ) -> StoreResult<Option<Document>>;

    /// Ids in the scope, optionally only those updated after `since_millis`. For State
    /// without a registration, only documents stored without one.
    async fn document_ids(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        since_millis: Option<i64>,
    ) -> StoreResult<Vec<String>>;

    /// Writes (replaces or merges) one document after checking the preconditions
    /// atomically with the write.
    async fn write_document(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: &str,
        new: Document,
        mode: WriteMode,
        preconditions: &Preconditions,
    ) -> StoreResult<Document>;

    /// Deletes one document (after the preconditions) or, with `id` = `None`, every
    /// document in the scope. Deleting what does not exist is not an error.
    async fn delete_documents(
        &self,
        tenant: TenantId,
        scope: &DocumentScope,
        id: Option<&str>,
        preconditions: &Preconditions,
    ) -> StoreResult<()>;
}

#[async_trait]
pub trait ActorStore: Send + Sync {
    /// The merged definition of an activity seen in statements.
    async fn activity_definition(
        &self,
        tenant: TenantId,
        activity_id: &str,
    ) -> StoreResult<Option<Value>>;

    /// Every distinct agent object (with its names) seen for an IFI key.
    async fn agent_names(&self, tenant: TenantId, ifi_key: &str) -> StoreResult<Vec<String>>;
}

/// A credential for HTTP Basic: the key is public, only a hash of the secret is kept.
#[derive(Debug, Clone)]
pub struct Credential {
    pub tenant: TenantId,
    pub key: String,
    pub secret_hash: String,
    pub name: String,
    /// The Agent written as `authority` into statements stored with this credential.
    pub authority: Value,
    /// Space-separated scope names (see `auth::scope`).
    pub scopes: String,
}

#[async_trait]
pub trait CredentialStore: Send + Sync {
    async fn credential(&self, key: &str) -> StoreResult<Option<Credential>>;
    /// Inserts or replaces the credential with this key.
    async fn save_credential(&self, credential: Credential) -> StoreResult<()>;
    async fn credential_count(&self) -> StoreResult<u64>;
    /// A tenant's credentials, by key.
    async fn credentials(&self, tenant: TenantId) -> StoreResult<Vec<Credential>>;
    /// Removes a tenant's credential; whether it existed.
    async fn delete_credential(&self, tenant: TenantId, key: &str) -> StoreResult<bool>;
    /// The keys access tokens are signed with, oldest first.
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKey>>;
    async fn add_signing_key(&self, key: SigningKey) -> StoreResult<()>;
}

/// A secret the gateway signs its own access tokens with (HMAC), named by the token's `kid`.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    pub secret: Vec<u8>,
    pub created_millis: i64,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("created_millis", &self.created_millis)
            .finish_non_exhaustive()
    }
}

/// A tenant: one business unit or customer, owning its data and credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    /// Unique; how operators name it.
    pub name: String,
    pub created_millis: i64,
}

#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Creates a tenant with the next free id; `Conflict` when the name is taken.
    async fn create_tenant(&self, name: &str) -> StoreResult<Tenant>;
    async fn tenant(&self, id: TenantId) -> StoreResult<Option<Tenant>>;
    async fn tenant_named(&self, name: &str) -> StoreResult<Option<Tenant>>;
    /// Every tenant, by id.
    async fn tenants(&self) -> StoreResult<Vec<Tenant>>;
}

/// A MongoDB connection string with its database (the URL path) replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (hosts, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    match tail.split_once('?') {
        Some((_, query)) if !query.is_empty() => format!("{scheme}://{hosts}/{name}?{query}"),
        _ => format!("{scheme}://{hosts}/{name}"),
    }
}

/// The store the application runs on: one handle per resource.
#[derive(Clone)]
pub struct Store {
    pub statements: Arc<dyn StatementStore>,
    pub documents: Arc<dyn DocumentStore>,
    pub actors: Arc<dyn ActorStore>,
    pub credentials: Arc<dyn CredentialStore>,
    pub tenants: Arc<dyn TenantStore>,
    pub competencies: Arc<dyn competency::CompetencyStore>,
    pub people: Arc<dyn people::PeopleStore>,
    pub evidence: Arc<dyn evidence::EvidenceStore>,
    pub transfer: Arc<dyn transfer::TransferStore>,
    /// Health, evidence lag and closing at shutdown.
    pub ops: Arc<dyn ops::OperationsStore>,
    pub activity_map: Arc<dyn activity_map::ActivityMapStore>,
    pub connectors: Arc<dyn connectors::ConnectorStore>,
    pub opportunities: Arc<dyn opportunities::OpportunityStore>,
    /// Exporting and erasing people, retention policies, their audit records.
    pub privacy: Arc<dyn privacy::PrivacyStore>,
    /// The SQLite writer's queue (depth and capacity); `None` on MongoDB, which has none.
    pub write_queue: Option<sqlite::writer::QueueGauge>,
}

/// How a store is opened, beyond its URL.
#[derive(Debug, Clone, Copy)]
pub struct StoreOptions {
    /// The most write requests the SQLite writer admits at once (queued or being written).
    pub write_queue: usize,
    /// The SQLite page caches' budget across all connections, in MiB.
    pub sqlite_cache_mib: u32,
    /// The memory the SQLite store's filters of sealed index buckets may take, in MiB.
    pub sqlite_filter_mib: u32,
    /// The levels the SQLite evidence file's upskilling aggregates follow (the evidence
    /// weights'); None keeps the ones they were built with.
    pub levels: Option<evidence::LevelScale>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            write_queue: sqlite::writer::DEFAULT_CAPACITY,
            sqlite_cache_mib: sqlite::DEFAULT_CACHE_MIB,
            sqlite_filter_mib: sqlite::DEFAULT_FILTER_MIB,
            levels: None,
        }
    }
}

impl Store {
    /// Opens the backend named by the URL's scheme: `sqlite://PATH` (or a bare path), or
    /// `mongodb://…` / `mongodb+srv://…` (the path names the database).
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        Self::open_with(url, StoreOptions::default()).await
    }

    /// `open`, with options.
    pub async fn open_with(url: &str, options: StoreOptions) -> anyhow::Result<Self> {
        match url.split_once("://") {
            Some(("sqlite", path)) => Self::open_sqlite(path, options).await,
            None => Self::open_sqlite(url, options).await,
            #[cfg(feature = "mongodb")]
            Some(("mongodb" | "mongodb+srv", _)) => {
                mongo::MongoStore::open(url).await.map(Self::from_backend)
            }
            #[cfg(not(feature = "mongodb"))]
            Some(("mongodb" | "mongodb+srv", _)) => Err(anyhow::anyhow!(
                "store URL `{}`: the MongoDB backend is not compiled into this build (build with `--features mongodb`)",
                crate::redact::redacted_url(url)
            )),
            Some((scheme, _)) => Err(anyhow::anyhow!(
                "store URL `{}`: unknown scheme `{scheme}` (use sqlite://PATH or mongodb://HOST/DATABASE)",
                crate::redact::redacted_url(url)
            )),
        }
    }

    async fn open_sqlite(path: &str, options: StoreOptions) -> anyhow::Result<Self> {
        let backend = sqlite::SqliteStore::open_with(
            path,
            options.write_queue,
            options.sqlite_cache_mib,
            options.sqlite_filter_mib,
            options.levels,
        )
        .await?;
        let write_queue = Some(backend.write_queue());
        Ok(Store {
            write_queue,
            ..Self::from_backend(backend)
        })
    }

    fn from_backend<B>(backend: B) -> Self
    where
        B: StatementStore
            + DocumentStore
            + ActorStore
            + CredentialStore
            + TenantStore
            + competency::CompetencyStore
            + people::PeopleStore
            + evidence::EvidenceStore
            + transfer::TransferStore
            + ops::OperationsStore
            + activity_map::ActivityMapStore
            + connectors::ConnectorStore
            + privacy::PrivacyStore
            + opportunities::OpportunityStore
            + 'static,
    {
        let backend = Arc::new(backend);
        Store {
            // Timed for `/metrics`, whatever the backend.
            statements: Arc::new(ops::TimedStatements(backend.clone())),
            documents: Arc::new(ops::TimedDocuments(backend.clone())),
            ops: backend.clone(),
            actors: backend.clone(),
            credentials: backend.clone(),
            tenants: backend.clone(),
            competencies: backend.clone(),
            people: backend.clone(),
            evidence: backend.clone(),
            connectors: backend.clone(),
            privacy: backend.clone(),
            opportunities: backend.clone(),
            transfer: backend.clone(),
            activity_map: backend,
            write_queue: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_go_into_the_url_path() {
        assert_eq!(
            with_database("mongodb://h:1/?directConnection=true", "x"),
            "mongodb://h:1/x?directConnection=true"
        );
        assert_eq!(with_database("mongodb://a,b/old", "x"), "mongodb://a,b/x");
        assert_eq!(
            with_database("mongodb+srv://c.example", "x"),
            "mongodb+srv://c.example/x"
        );
    }
}
