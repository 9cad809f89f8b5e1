//! The MongoDB store, for operators who outgrow one machine: any number of stateless
//! gateways on one replica set or sharded cluster. Nothing is cached in a process that
//! another could invalidate; every acknowledged write waited for a majority of the
//! replica set and the journal. No hot path needs a multi-document transaction.
//!
//! Collections (every document carries its `tenant`):
//! - `statements`: the statement text, its order `seq`, `stored`, voided/voiding flags, its
//!   fingerprint, and denormalized arrays of every agent identity, activity, verb and
//!   registration it touches, so each query parameter is a multikey-index range.
//! - `counters`: one document handing out `seq` ranges with a never-decreasing `stored`.
//! - `writes`: a marker per batch in flight, so `consistent_through` never passes one.
//! - `attachments`, `activities`, `agent_names`, `documents`, `credentials`, `tenants`,
//!   `signing_keys`, and those of competencies (see `competency`), people (`people`),
//!   activity equivalences (`activity_map`) and skill evidence (`evidence`).

mod accounts;
mod activity_map;
mod competency;
mod connectors;
mod documents;
mod evidence;
mod opportunities;
mod ops;
mod people;
mod privacy;
mod statements;
mod transfer;

use anyhow::Context as _;
use async_trait::async_trait;
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{doc, Binary, Bson, Document as BsonDocument};
use mongodb::options::{Acknowledgment, ClientOptions, IndexOptions, ReadConcern, WriteConcern};
use mongodb::{Client, Collection, Cursor, Database, IndexModel};
use serde_json::Value;

use super::{ActorStore, StoreError, StoreResult, TenantId, DEFAULT_TENANT};

/// The database used when the URL names none.
const DEFAULT_DATABASE: &str = "lrsgate";

#[derive(Clone)]
pub struct MongoStore {
    db: Database,
}

impl From<mongodb::error::Error> for StoreError {
    fn from(e: mongodb::error::Error) -> Self {
        StoreError::Backend(e.into())
    }
}

fn backend(e: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Backend(e.into())
}

/// MongoDB's duplicate-key error code.
const DUPLICATE_KEY: i32 = 11000;

/// Whether `e` is a unique-index violation (on a single write, or on every failed
/// document of an unordered bulk insert).
fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) => w.code == DUPLICATE_KEY,
        ErrorKind::Command(c) => c.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(m) => {
            m.write_concern_error.is_none()
                && m.write_errors
                    .as_ref()
                    .is_some_and(|errs| errs.iter().all(|w| w.code == DUPLICATE_KEY))
        }
        _ => false,
    }
}

/// Inserts documents whose unique key may be present already: duplicates are kept as
/// they are, any other failure is an error.
async fn insert_ignoring_duplicates(
    coll: &Collection<BsonDocument>,
    docs: Vec<BsonDocument>,
) -> StoreResult<()> {
    if docs.is_empty() {
        return Ok(());
    }
    match coll.insert_many(docs).ordered(false).await {
        Ok(_) => Ok(()),
        Err(e) if is_duplicate_key(&e) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn collect(mut cursor: Cursor<BsonDocument>) -> StoreResult<Vec<BsonDocument>> {
    let mut out = Vec::new();
    while cursor.advance().await? {
        out.push(cursor.deserialize_current()?);
    }
    Ok(out)
}

fn index(keys: BsonDocument, unique: bool) -> IndexModel {
    IndexModel::builder()
        .keys(keys)
        .options(IndexOptions::builder().unique(unique).build())
        .build()
}

fn get_str(d: &BsonDocument, key: &str) -> StoreResult<String> {
    d.get_str(key).map(str::to_owned).map_err(backend)
}

fn binary(bytes: Vec<u8>) -> Binary {
    Binary {
        subtype: BinarySubtype::Generic,
        bytes,
    }
}

fn get_bytes(d: &BsonDocument, key: &str) -> StoreResult<bytes::Bytes> {
    Ok(d.get_binary_generic(key).map_err(backend)?.clone().into())
}

fn get_i64(d: &BsonDocument, key: &str) -> StoreResult<i64> {
    match d.get(key) {
        Some(Bson::Int64(v)) => Ok(*v),
        Some(Bson::Int32(v)) => Ok(i64::from(*v)),
        _ => Err(backend(anyhow::anyhow!("field `{key}` is not an integer"))),
    }
}

impl MongoStore {
    /// Connects to `url` (a `mongodb://` or `mongodb+srv://` connection string; its path
    /// names the database) and creates the collections' indexes.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let mut options = ClientOptions::parse(url)
            .await
            .with_context(|| format!("parsing MongoDB URL {}", crate::redact::redacted_url(url)))?;
        // A 2xx means durable: unless the URL says otherwise, wait for a majority of the
        // replica set and the journal, and read only majority-committed data.
        if options.write_concern.is_none() {
            options.write_concern = Some(
                WriteConcern::builder()
                    .w(Acknowledgment::Majority)
                    .journal(true)
                    .build(),
            );
        }
        if options.read_concern.is_none() {
            options.read_concern = Some(ReadConcern::majority());
        }
        options.app_name.get_or_insert_with(|| "lrsgate".to_owned());
        let database = options
            .default_database
            .clone()
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        let client = Client::with_options(options)?;
        let store = MongoStore {
            db: client.database(&database),
        };
        store
            .create_indexes()
            .await
            .with_context(|| format!("preparing MongoDB database `{database}`"))?;
        Ok(store)
    }

    fn coll(&self, name: &str) -> Collection<BsonDocument> {
        self.db.collection(name)
    }

    async fn create_indexes(&self) -> anyhow::Result<()> {
        let mut statement_indexes = vec![
            index(doc! {"tenant": 1, "id": 1}, true),
            index(doc! {"tenant": 1, "voided": 1, "seq": -1}, false),
            index(doc! {"tenant": 1, "stored": 1, "seq": 1}, false),
            // Storage order across tenants, for copying a whole store.
            index(doc! {"seq": 1}, false),
        ];
        for field in statements::ARRAY_FIELDS {
            statement_indexes.push(index(doc! {"tenant": 1, field: 1, "seq": -1}, false));
        }
        self.coll("statements")
            .create_indexes(statement_indexes)
            .await?;
        self.coll("writes")
            .create_indexes([
                index(doc! {"at": 1}, false),
                IndexModel::builder()
                    .keys(doc! {"expires": 1})
                    .options(
                        IndexOptions::builder()
                            .expire_after(std::time::Duration::ZERO)
                            .build(),
                    )
                    .build(),
            ])
            .await?;
        self.coll("attachments")
            .create_indexes([index(doc! {"tenant": 1, "sha2": 1}, true)])
            .await?;
        self.coll("activities")
            .create_indexes([index(doc! {"tenant": 1, "id": 1}, true)])
            .await?;
        self.coll("agent_names")
            .create_indexes([index(doc! {"tenant": 1, "ifi": 1, "name": 1}, true)])
            .await?;
        self.coll("documents")
            .create_indexes([index(
                doc! {"tenant": 1, "kind": 1, "activity_id": 1, "agent": 1, "registration": 1, "doc_id": 1},
                true,
            )])
            .await?;
        // Seeded here rather than upserted on first use: racing upserts of one `_id` can
        // fail (E11000) or, on some servers, return nothing.
        insert_ignoring_duplicates(
            &self.coll("counters"),
            vec![
                doc! {"_id": "statements", "seq": 0_i64, "stored": 0_i64},
                doc! {"_id": "tenants", "seq": DEFAULT_TENANT},
            ],
        )
        .await?;
        self.coll("tenants")
            .create_indexes([index(doc! {"name": 1}, true)])
            .await?;
        self.coll("credentials")
            .create_indexes([index(doc! {"tenant": 1}, false)])
            .await?;
        self.coll("frameworks")
            .create_indexes([index(doc! {"tenant": 1, "iri": 1, "version": 1}, true)])
            .await?;
        self.coll("tagging_rules")
            .create_indexes([index(doc! {"tenant": 1, "id": 1}, true)])
            .await?;
        self.coll("activity_alignments")
            .create_indexes([index(doc! {"tenant": 1, "activity_id": 1}, true)])
            .await?;
        self.coll("person_identities")
            .create_indexes([
                index(doc! {"tenant": 1, "ifi": 1}, true),
                index(doc! {"tenant": 1, "person": 1}, false),
            ])
            .await?;
        self.coll("activity_equivalences")
            .create_indexes([
                index(doc! {"tenant": 1, "alias": 1}, true),
                index(doc! {"tenant": 1, "canonical": 1}, false),
            ])
            .await?;
        self.drop_superseded_evidence_index().await?;
        for (name, indexes) in Self::evidence_indexes() {
            self.coll(name).create_indexes(indexes).await?;
        }
        for (name, indexes) in Self::connector_indexes() {
            self.coll(name).create_indexes(indexes).await?;
        }
        for (name, indexes) in Self::privacy_indexes() {
            self.coll(name).create_indexes(indexes).await?;
        }
        for (name, indexes) in Self::opportunity_indexes() {
            self.coll(name).create_indexes(indexes).await?;
        }
        insert_ignoring_duplicates(
            &self.coll("tenants"),
            vec![doc! {"_id": DEFAULT_TENANT, "name": "default", "created": 0_i64}],
        )
        .await?;
        Ok(())
    }
}

#[async_trait]
impl ActorStore for MongoStore {
    async fn activity_definition(
        &self,
        tenant: TenantId,
        activity_id: &str,
    ) -> StoreResult<Option<Value>> {
        let found = self
            .coll("activities")
            .find_one(doc! {"tenant": tenant, "id": activity_id})
            .await?;
        found
            .map(|d| serde_json::from_str(&get_str(&d, "definition")?).map_err(backend))
            .transpose()
    }

    async fn agent_names(&self, tenant: TenantId, ifi_key: &str) -> StoreResult<Vec<String>> {
        let cursor = self
            .coll("agent_names")
            .find(doc! {"tenant": tenant, "ifi": ifi_key})
            .await?;
        collect(cursor)
            .await?
            .iter()
            .map(|d| get_str(d, "name"))
            .collect()
    }
}
