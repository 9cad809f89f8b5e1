//! Statements on MongoDB. A batch is stored without a transaction:
//! 1. a marker in `writes` holds `consistent_through` below the batch while it is in flight;
//! 2. ids already stored are checked against the batch (same content is accepted, other
//!    content is a conflict that stores nothing);
//! 3. one atomic update of the `counters` document hands out the batch's `seq` range and a
//!    `stored` time that never decreases along `seq`, across every gateway;
//! 4. an unordered insert keyed by (tenant, id): a retried batch never duplicates, and a
//!    racing writer of the same id is caught by the unique index (our part of the batch is
//!    then withdrawn and the answer is a conflict);
//! 5. voids, activity definitions and agent names, written idempotently so that a client
//!    retrying after a failure here completes them.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Bson, Document as BsonDocument};
use mongodb::options::ReturnDocument;
use serde_json::Value;

use super::MongoStore;
use super::{
    backend, binary, collect, get_bytes, get_i64, get_str, insert_ignoring_duplicates,
    is_duplicate_key,
};
use crate::store::competency::tags_json;
use crate::store::evidence::EvidenceItem;
use crate::store::evidence::SeenTeam;
use crate::store::transfer::normalize_index;
use crate::store::{
    seq_window, AttachmentData, Cursor, NewStatement, StatementPage, StatementQuery,
    StatementStore, StoreError, StoreResult, StoredStatement, TenantId,
};
use crate::xapi::statement::{merge_definition, ActivityDefinition};
use crate::xapi::{Fingerprint, IndexKey, IndexKind};

/// The statement fields holding index keys, one per query parameter. A `related_*` field
/// holds the direct keys too, so `related_agents=true` is a single multikey lookup.
pub(super) const ARRAY_FIELDS: [&str; 7] = [
    "agents",
    "related_agents",
    "activities",
    "related_activities",
    "verbs",
    "registrations",
    "authorities",
];

/// The fields an index key goes into.
pub(super) fn fields_of(kind: IndexKind) -> &'static [&'static str] {
    match kind {
        IndexKind::Agent => &["agents", "related_agents"],
        IndexKind::AgentRelated => &["related_agents"],
        IndexKind::Activity => &["activities", "related_activities"],
        IndexKind::ActivityRelated => &["related_activities"],
        IndexKind::Verb => &["verbs"],
        IndexKind::Registration => &["registrations"],
        IndexKind::Authority => &["authorities"],
    }
}

/// How long a batch may stay in flight before its marker stops holding back
/// `consistent_through` (a writer that died leaves its marker behind).
const WRITE_MARKER_TTL_MS: i64 = 60_000;

/// Clock skew tolerated between gateways: `consistent_through` stays this far behind the
/// reader's clock, since another gateway may be about to stamp a batch with its own.
const CLOCK_SKEW_MS: i64 = 1_000;

fn millis_to_time(ms: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or_else(Utc::now)
}

/// What a statement document is made of.
pub(super) struct StatementFields<'a> {
    pub tenant: TenantId,
    pub id: &'a str,
    pub stored: i64,
    pub voided: bool,
    pub voiding: bool,
    pub fingerprint: Vec<u8>,
    pub body: &'a str,
    pub index: &'a [IndexKey],
    /// The tags (a JSON array), if any.
    pub tags: Option<&'a str>,
}

/// The statement document. Index keys go into the query arrays, or into `voided_keys`
/// when the statement is voided (see `apply_effects`).
pub(super) fn statement_document(
    f: StatementFields<'_>,
    seq: i64,
    batch: ObjectId,
) -> BsonDocument {
    let mut arrays: BTreeMap<&str, Vec<&str>> = ARRAY_FIELDS.iter().map(|f| (*f, vec![])).collect();
    for key in f.index {
        for field in fields_of(key.kind) {
            let values = arrays.entry(field).or_default();
            if !values.contains(&key.key.as_str()) {
                values.push(&key.key);
            }
        }
    }
    let mut d = doc! {
        "tenant": f.tenant,
        "id": f.id,
        "seq": seq,
        "stored": f.stored,
        "voided": f.voided,
        "voiding": f.voiding,
        "fingerprint": binary(f.fingerprint),
        "statement": f.body,
        "batch": batch,
    };
    if let Some(tags) = f.tags {
        d.insert("tags", tags);
    }
    let mut keys = BsonDocument::new();
    for (field, values) in arrays {
        if f.voided {
            d.insert(field, Bson::Array(Vec::new()));
            keys.insert(field, values);
        } else {
            d.insert(field, values);
        }
    }
    if f.voided {
        d.insert("voided_keys", keys);
    }
    d
}

/// A statement document's index keys, read back from its arrays (from `voided_keys` once
/// voided), in normal form.
pub(super) fn index_of(d: &BsonDocument) -> StoreResult<Vec<IndexKey>> {
    let holder = match d.get_document("voided_keys") {
        Ok(keys) if d.get_bool("voided").unwrap_or(false) => keys,
        _ => d,
    };
    let kinds = [
        ("agents", IndexKind::Agent),
        ("related_agents", IndexKind::AgentRelated),
        ("activities", IndexKind::Activity),
        ("related_activities", IndexKind::ActivityRelated),
        ("verbs", IndexKind::Verb),
        ("registrations", IndexKind::Registration),
        ("authorities", IndexKind::Authority),
    ];
    let mut keys = Vec::new();
    for (field, kind) in kinds {
        // Absent on statements stored before the field existed.
        let Ok(values) = holder.get_array(field) else {
            continue;
        };
        for value in values {
            let key = value
                .as_str()
                .ok_or_else(|| backend(anyhow::anyhow!("field `{field}` holds a non-string")))?;
            keys.push(IndexKey {
                kind,
                key: key.to_owned(),
            });
        }
    }
    Ok(normalize_index(keys))
}

impl MongoStore {
    /// Hands out `count` consecutive `seq` values and their `stored` time; returns the
    /// first `seq` and the time (`at_least` or later).
    pub(super) async fn allocate(&self, count: i64, at_least: i64) -> StoreResult<(i64, i64)> {
        let counter = self
            .coll("counters")
            .find_one_and_update(
                doc! {"_id": "statements"},
                vec![doc! {"$set": {
                    "seq": {"$add": ["$seq", count]},
                    "stored": {"$max": ["$stored", at_least]},
                }}],
            )
            .return_document(ReturnDocument::After)
            .await?
            .ok_or_else(|| backend(anyhow::anyhow!("the statement counter is missing")))?;
        Ok((
            get_i64(&counter, "seq")? - count + 1,
            get_i64(&counter, "stored")?,
        ))
    }

    /// The highest `seq` handed out so far, and its `stored` time.
    async fn counter(&self) -> StoreResult<(i64, i64)> {
        match self
            .coll("counters")
            .find_one(doc! {"_id": "statements"})
            .await?
        {
            Some(c) => Ok((get_i64(&c, "seq")?, get_i64(&c, "stored")?)),
            None => Ok((0, 0)),
        }
    }

    /// The greatest `seq` of the tenant's statements stored at or before `millis` (0 when
    /// none): `stored` never decreases along `seq`, so a time bound becomes a `seq` bound.
    async fn seq_at(&self, tenant: TenantId, millis: i64) -> StoreResult<i64> {
        // `< millis + 1` rather than `<= millis`: the same on integers, and SecantusDB (the
        // test server) misses `$lte` bounds inside a compound index.
        let found = self
            .coll("statements")
            .find_one(doc! {"tenant": tenant, "stored": {"$lt": millis.saturating_add(1)}})
            .sort(doc! {"stored": -1, "seq": -1})
            .projection(doc! {"seq": 1})
            .await?;
        found.map_or(Ok(0), |d| get_i64(&d, "seq"))
    }

    /// The stored fingerprints of those of `ids` that exist.
    async fn fingerprints(
        &self,
        tenant: TenantId,
        ids: Vec<&str>,
    ) -> StoreResult<BTreeMap<String, Fingerprint>> {
        let cursor = self
            .coll("statements")
            .find(doc! {"tenant": tenant, "id": {"$in": ids}})
            .projection(doc! {"id": 1, "fingerprint": 1})
            .await?;
        let mut found = BTreeMap::new();
        for d in collect(cursor).await? {
            let bytes = d.get_binary_generic("fingerprint").map_err(backend)?;
            let fp = Fingerprint::from_bytes(bytes)
                .ok_or_else(|| backend(anyhow::anyhow!("a stored fingerprint is unreadable")))?;
            found.insert(get_str(&d, "id")?, fp);
        }
        Ok(found)
    }

    async fn store_batch(
        &self,
        tenant: TenantId,
        mut batch: Vec<NewStatement>,
        attachments: Vec<AttachmentData>,
    ) -> StoreResult<()> {
        let ids = batch.iter().map(|s| s.statement.id.as_str()).collect();
        let existing = self.fingerprints(tenant, ids).await?;
        for st in batch.iter().map(|new| &new.statement) {
            if let Some(prior) = existing.get(&st.id) {
                if !st.fingerprint.matches(prior) {
                    return Err(conflict(&st.id));
                }
            }
        }

        // Content-addressed, so stored before the statements that point at it.
        let attachment_docs = attachments
            .into_iter()
            .map(|a| {
                doc! {
                    "tenant": tenant,
                    "sha2": a.sha2,
                    "content_type": a.content_type,
                    "content": binary(a.content.to_vec()),
                }
            })
            .collect();
        insert_ignoring_duplicates(&self.coll("attachments"), attachment_docs).await?;

        let fresh: Vec<usize> = (0..batch.len())
            .filter(|i| !existing.contains_key(&batch[*i].statement.id))
            .collect();
        if !fresh.is_empty() {
            let (first_seq, stored) = self
                .allocate(fresh.len() as i64, Utc::now().timestamp_millis())
                .await?;
            let batch_id = ObjectId::new();
            let tags = fresh
                .iter()
                .map(|i| tags_json(&batch[*i].tags))
                .collect::<StoreResult<Vec<_>>>()?;
            let mut docs = Vec::with_capacity(fresh.len());
            for (n, i) in fresh.iter().enumerate() {
                let st = &mut batch[*i].statement;
                st.set_stored(millis_to_time(stored));
                let fields = StatementFields {
                    tenant,
                    id: &st.id,
                    stored,
                    voided: false,
                    voiding: st.voids.is_some(),
                    fingerprint: st.fingerprint.to_bytes(),
                    body: &st.json,
                    index: &st.index,
                    tags: tags[n].as_deref(),
                };
                docs.push(statement_document(fields, first_seq + n as i64, batch_id));
            }
            if let Err(e) = self
                .coll("statements")
                .insert_many(docs)
                .ordered(false)
                .await
            {
                if !is_duplicate_key(&e) {
                    return Err(e.into());
                }
                // Another writer stored some of these ids since we looked.
                let fresh_ids: Vec<&str> = fresh
                    .iter()
                    .map(|i| batch[*i].statement.id.as_str())
                    .collect();
                let now = self.fingerprints(tenant, fresh_ids).await?;
                if let Some(st) = fresh.iter().map(|i| &batch[*i].statement).find(|st| {
                    now.get(&st.id)
                        .is_some_and(|fp| !st.fingerprint.matches(fp))
                }) {
                    self.coll("statements")
                        .delete_many(doc! {"tenant": tenant, "batch": batch_id})
                        .await?;
                    return Err(conflict(&st.id));
                }
            }
        }
        let evidence: Vec<EvidenceItem> = fresh
            .iter()
            .flat_map(|i| batch[*i].evidence.iter().cloned())
            .collect();
        self.record_evidence(tenant, &evidence).await?;
        self.apply_effects(tenant, &batch).await
    }

    /// Voids, activity definitions and agent names of a batch; idempotent.
    async fn apply_effects(&self, tenant: TenantId, batch: &[NewStatement]) -> StoreResult<()> {
        let targets: Vec<&str> = batch
            .iter()
            .filter_map(|s| s.statement.voids.as_deref())
            .collect();
        if !targets.is_empty() {
            let voidable =
                doc! {"tenant": tenant, "id": {"$in": &targets}, "voiding": false, "voided": false};
            let voided: Vec<String> = collect(
                self.coll("statements")
                    .find(voidable)
                    .projection(doc! {"id": 1})
                    .await?,
            )
            .await?
            .iter()
            .map(|d| get_str(d, "id"))
            .collect::<StoreResult<_>>()?;
            // A voided statement leaves every query index: its keys move to `voided_keys`.
            let mut moved = BsonDocument::new();
            let mut cleared = BsonDocument::new();
            for field in ARRAY_FIELDS {
                moved.insert(field, format!("${field}"));
                cleared.insert(field, Bson::Array(Vec::new()));
            }
            cleared.insert("voided", true);
            cleared.insert("tags", Bson::Null);
            cleared.insert("voided_keys", moved);
            self.coll("statements")
                .update_many(
                    doc! {"tenant": tenant, "id": {"$in": targets}, "voiding": false, "voided": false},
                    vec![doc! {"$set": cleared}],
                )
                .await?;
            self.withdraw_evidence(tenant, &voided).await?;
        }
        let teams: Vec<&SeenTeam> = batch.iter().flat_map(|s| &s.teams).collect();
        self.keep_teams(tenant, &teams).await?;
        let names = batch
            .iter()
            .flat_map(|s| &s.statement.agent_names)
            .map(|(ifi, name)| doc! {"tenant": tenant, "ifi": ifi, "name": name})
            .collect();
        insert_ignoring_duplicates(&self.coll("agent_names"), names).await?;
        for definition in batch.iter().flat_map(|s| &s.statement.activities) {
            self.merge_activity(tenant, definition).await?;
        }
        Ok(())
    }

    /// Merges a definition into the stored one by compare-and-set on its text, so two
    /// gateways merging at once both land.
    pub(super) async fn merge_activity(
        &self,
        tenant: TenantId,
        incoming: &ActivityDefinition,
    ) -> StoreResult<()> {
        let id = &incoming.id;
        let coll = self.coll("activities");
        for _ in 0..16 {
            let stored = coll.find_one(doc! {"tenant": tenant, "id": id}).await?;
            let outcome = match stored {
                None => coll
                    .insert_one(doc! {"tenant": tenant, "id": id, "definition": &incoming.text})
                    .await
                    .map(|_| true),
                Some(d) => {
                    let text = get_str(&d, "definition")?;
                    if text == incoming.text {
                        return Ok(());
                    }
                    let mut merged: Value = serde_json::from_str(&text).map_err(backend)?;
                    merge_definition(&mut merged, &incoming.definition().map_err(backend)?);
                    let merged_text = merged.to_string();
                    if merged_text == text {
                        return Ok(());
                    }
                    coll.update_one(
                        doc! {"tenant": tenant, "id": id, "definition": &text},
                        doc! {"$set": {"definition": merged_text}},
                    )
                    .await
                    .map(|r| r.matched_count == 1)
                }
            };
            match outcome {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) if is_duplicate_key(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(backend(anyhow::anyhow!(
            "activity {id}: too many concurrent definition updates"
        )))
    }
}

fn conflict(id: &str) -> StoreError {
    StoreError::Conflict(format!(
        "statement {id} already exists with different content; statements are immutable"
    ))
}

#[async_trait]
impl StatementStore for MongoStore {
    async fn insert_statements(
        &self,
        tenant: TenantId,
        batch: Vec<NewStatement>,
        attachments: Vec<AttachmentData>,
    ) -> StoreResult<()> {
        let now = Utc::now().timestamp_millis();
        let marker = ObjectId::new();
        let writes = self.coll("writes");
        writes
            .insert_one(doc! {
                "_id": marker,
                "at": now,
                "expires": Bson::DateTime(mongodb::bson::DateTime::from_millis(now + WRITE_MARKER_TTL_MS)),
            })
            .await?;
        let outcome = self.store_batch(tenant, batch, attachments).await;
        writes.delete_one(doc! {"_id": marker}).await?;
        outcome
    }

    async fn statement(&self, tenant: TenantId, id: &str) -> StoreResult<Option<StoredStatement>> {
        let found = self
            .coll("statements")
            .find_one(doc! {"tenant": tenant, "id": id.to_ascii_lowercase()})
            .projection(doc! {"statement": 1, "voided": 1, "stored": 1})
            .await?;
        found
            .map(|d| {
                Ok(StoredStatement {
                    body: serde_json::from_str(&get_str(&d, "statement")?).map_err(backend)?,
                    voided: d.get_bool("voided").map_err(backend)?,
                    stored_millis: get_i64(&d, "stored")?,
                })
            })
            .transpose()
    }

    async fn query_statements(
        &self,
        tenant: TenantId,
        q: &StatementQuery,
        cursor: Option<Cursor>,
    ) -> StoreResult<StatementPage> {
        let bound = match cursor {
            Some(c) => c.bound,
            None => self.counter().await?.0,
        };
        let since = match q.since_millis {
            Some(ms) => Some(self.seq_at(tenant, ms).await?),
            None => None,
        };
        let until = match q.until_millis {
            Some(ms) => Some(self.seq_at(tenant, ms).await?),
            None => None,
        };
        let (low, high) = seq_window(q, cursor, bound, since, until);
        if low >= high {
            return Ok(StatementPage {
                statements: Vec::new(),
                next: None,
            });
        }
        let mut filter = doc! {
            "tenant": tenant,
            "seq": {"$gt": low, "$lt": high + 1},
        };
        // A voided statement has no index keys (see `apply_effects`), so a filtered query
        // needs no `voided` condition; an unfiltered one uses `{tenant, voided, seq}`.
        let mut filtered = false;
        let mut by = |field: &'static str, key: &Option<String>| {
            if let Some(key) = key {
                filter.insert(field, key.as_str());
                filtered = true;
            }
        };
        by("registrations", &q.registration);
        by(
            if q.related_agents {
                "related_agents"
            } else {
                "agents"
            },
            &q.agent,
        );
        by(
            if q.related_activities {
                "related_activities"
            } else {
                "activities"
            },
            &q.activity,
        );
        by("verbs", &q.verb);
        by("authorities", &q.authority);
        if !filtered {
            filter.insert("voided", false);
        }

        let wanted = q.limit as usize;
        let found = self
            .coll("statements")
            .find(filter)
            .sort(doc! {"seq": if q.ascending { 1 } else { -1 }})
            .limit(wanted as i64 + 1)
            .projection(doc! {"statement": 1, "seq": 1})
            .await?;
        let mut docs = collect(found).await?;
        let has_more = docs.len() > wanted;
        docs.truncate(wanted);
        let mut statements = Vec::with_capacity(docs.len());
        let mut last_seq = None;
        for d in &docs {
            statements.push(serde_json::from_str(&get_str(d, "statement")?).map_err(backend)?);
            last_seq = Some(get_i64(d, "seq")?);
        }
        let next = has_more.then_some(Cursor {
            after: last_seq,
            bound,
        });
        Ok(StatementPage { statements, next })
    }

    async fn attachments(
        &self,
        tenant: TenantId,
        hashes: &[String],
    ) -> StoreResult<Vec<AttachmentData>> {
        let cursor = self
            .coll("attachments")
            .find(doc! {"tenant": tenant, "sha2": {"$in": hashes}})
            .await?;
        collect(cursor)
            .await?
            .iter()
            .map(|d| {
                Ok(AttachmentData {
                    sha2: get_str(d, "sha2")?,
                    content_type: get_str(d, "content_type")?,
                    content: get_bytes(d, "content")?,
                })
            })
            .collect()
    }

    /// Behind every batch still in flight on any gateway, and behind the last `stored`
    /// handed out (a batch may be about to take that same millisecond).
    async fn consistent_through(&self) -> StoreResult<i64> {
        let now = Utc::now().timestamp_millis();
        let (_, last_stored) = self.counter().await?;
        let mut through = (last_stored - 1).max(now - CLOCK_SKEW_MS);
        let oldest = self
            .coll("writes")
            .find_one(doc! {"at": {"$gt": now - WRITE_MARKER_TTL_MS}})
            .sort(doc! {"at": 1})
            .await?;
        if let Some(marker) = oldest {
            through = through.min(get_i64(&marker, "at")? - 1);
        }
        Ok(through.min(now))
    }
}
