//! Frameworks, tagging rules, the activity catalog and statement tags on MongoDB.
//! Collections: `frameworks` (`_id` = server id), `tagging_rules` and `activity_alignments`
//! (unique per tenant and id), `tagging_revisions` (`_id` = tenant); a statement's tags are
//! the `tags` field of its document.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::Utc;
use mongodb::bson::{doc, Bson, Document as BsonDocument};
use mongodb::results::UpdateResult;

use super::{backend, collect, get_i64, get_str, is_duplicate_key, MongoStore};
use crate::store::competency::{
    parse_tags, tags_json, CompetencyStore, FrameworkRecord, RetagPage, Retagged, RuleRecord,
    TaggedStatement,
};
use crate::store::competency::{Alignment, Tag};
use crate::store::{StoreError, StoreResult, TenantId};

pub(super) fn framework_of(d: &BsonDocument) -> StoreResult<FrameworkRecord> {
    Ok(FrameworkRecord {
        id: get_str(d, "_id")?,
        iri: get_str(d, "iri")?,
        version: get_str(d, "version")?,
        active: d.get_bool("active").map_err(backend)?,
        body: get_str(d, "body")?,
        created_millis: get_i64(d, "created")?,
        updated_millis: get_i64(d, "updated")?,
    })
}

/// An `activity_alignments` document as (activity id, alignments).
fn catalog_entry(d: &BsonDocument) -> StoreResult<(String, Vec<Alignment>)> {
    let alignments = serde_json::from_str(&get_str(d, "alignments")?).map_err(backend)?;
    Ok((get_str(d, "activity_id")?, alignments))
}

impl MongoStore {
    /// An upsert; two first upserts of one key race, and the loser's retry finds the
    /// document the winner made.
    pub(super) async fn upsert(
        &self,
        collection: &str,
        filter: BsonDocument,
        update: BsonDocument,
    ) -> StoreResult<UpdateResult> {
        let coll = self.coll(collection);
        let first = coll
            .update_one(filter.clone(), update.clone())
            .upsert(true)
            .await;
        match first {
            Err(e) if is_duplicate_key(&e) => {
                Ok(coll.update_one(filter, update).upsert(true).await?)
            }
            other => Ok(other?),
        }
    }

    async fn bump_revision(&self, tenant: TenantId) -> StoreResult<()> {
        let inc = doc! {"$inc": {"revision": 1_i64}};
        self.upsert("tagging_revisions", doc! {"_id": tenant}, inc)
            .await
            .map(|_| ())
    }
}

#[async_trait]
impl CompetencyStore for MongoStore {
    async fn tagging_revision(&self, tenant: TenantId) -> StoreResult<i64> {
        let found = self
            .coll("tagging_revisions")
            .find_one(doc! {"_id": tenant})
            .await?;
        found.map_or(Ok(0), |d| get_i64(&d, "revision"))
    }

    async fn insert_framework(&self, tenant: TenantId, f: FrameworkRecord) -> StoreResult<()> {
        let inserted = self
            .coll("frameworks")
            .insert_one(doc! {
                "_id": &f.id, "tenant": tenant, "iri": &f.iri, "version": &f.version,
                "active": f.active, "body": &f.body,
                "created": f.created_millis, "updated": f.updated_millis,
            })
            .await;
        match inserted {
            Ok(_) => self.bump_revision(tenant).await,
            Err(e) if is_duplicate_key(&e) => Err(StoreError::Conflict(format!(
                "framework {} version {} exists already",
                f.iri, f.version
            ))),
            Err(e) => Err(e.into()),
        }
    }

    async fn frameworks(&self, tenant: TenantId) -> StoreResult<Vec<FrameworkRecord>> {
        let cursor = self
            .coll("frameworks")
            .find(doc! {"tenant": tenant})
            .sort(doc! {"created": 1, "_id": 1})
            .await?;
        collect(cursor).await?.iter().map(framework_of).collect()
    }

    async fn framework(&self, tenant: TenantId, id: &str) -> StoreResult<Option<FrameworkRecord>> {
        let found = self
            .coll("frameworks")
            .find_one(doc! {"_id": id, "tenant": tenant})
            .await?;
        found.as_ref().map(framework_of).transpose()
    }

    async fn set_framework_active(
        &self,
        tenant: TenantId,
        id: &str,
        active: bool,
    ) -> StoreResult<bool> {
        let updated = self
            .coll("frameworks")
            .update_one(
                doc! {"_id": id, "tenant": tenant},
                doc! {"$set": {"active": active, "updated": Utc::now().timestamp_millis()}},
            )
            .await?;
        let found = updated.matched_count > 0;
        if found {
            self.bump_revision(tenant).await?;
        }
        Ok(found)
    }

    async fn delete_framework(&self, tenant: TenantId, id: &str) -> StoreResult<bool> {
        let deleted = self
            .coll("frameworks")
            .delete_one(doc! {"_id": id, "tenant": tenant})
            .await?;
        let found = deleted.deleted_count > 0;
        if found {
            self.bump_revision(tenant).await?;
        }
        Ok(found)
    }

    async fn put_rule(&self, tenant: TenantId, rule: RuleRecord) -> StoreResult<bool> {
        let result = self
            .upsert(
                "tagging_rules",
                doc! {"tenant": tenant, "id": &rule.id},
                doc! {"$set": {"body": &rule.body, "updated": rule.updated_millis}},
            )
            .await?;
        self.bump_revision(tenant).await?;
        Ok(result.upserted_id.is_some())
    }

    async fn rules(&self, tenant: TenantId) -> StoreResult<Vec<RuleRecord>> {
        let cursor = self
            .coll("tagging_rules")
            .find(doc! {"tenant": tenant})
            .sort(doc! {"id": 1})
            .await?;
        collect(cursor)
            .await?
            .iter()
            .map(|d| {
                Ok(RuleRecord {
                    id: get_str(d, "id")?,
                    body: get_str(d, "body")?,
                    updated_millis: get_i64(d, "updated")?,
                })
            })
            .collect()
    }

    async fn delete_rule(&self, tenant: TenantId, id: &str) -> StoreResult<bool> {
        let deleted = self
            .coll("tagging_rules")
            .delete_one(doc! {"tenant": tenant, "id": id})
            .await?;
        let found = deleted.deleted_count > 0;
        if found {
            self.bump_revision(tenant).await?;
        }
        Ok(found)
    }

    async fn put_alignments(
        &self,
        tenant: TenantId,
        activity_id: &str,
        alignments: Vec<Alignment>,
    ) -> StoreResult<()> {
        let filter = doc! {"tenant": tenant, "activity_id": activity_id};
        if alignments.is_empty() {
            self.coll("activity_alignments").delete_one(filter).await?;
            return Ok(());
        }
        let text = serde_json::to_string(&alignments).map_err(backend)?;
        let set = doc! {"$set": {"alignments": &text, "updated": Utc::now().timestamp_millis()}};
        self.upsert("activity_alignments", filter, set)
            .await
            .map(|_| ())
    }

    async fn alignments(
        &self,
        tenant: TenantId,
        activity_ids: &[String],
    ) -> StoreResult<HashMap<String, Vec<Alignment>>> {
        if activity_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let cursor = self
            .coll("activity_alignments")
            .find(doc! {"tenant": tenant, "activity_id": {"$in": activity_ids}})
            .await?;
        collect(cursor).await?.iter().map(catalog_entry).collect()
    }

    async fn catalog(
        &self,
        tenant: TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<(String, Vec<Alignment>)>> {
        let cursor = self
            .coll("activity_alignments")
            .find(doc! {"tenant": tenant, "activity_id": {"$gt": after.unwrap_or_default()}})
            .sort(doc! {"activity_id": 1})
            .limit(limit as i64)
            .await?;
        collect(cursor).await?.iter().map(catalog_entry).collect()
    }

    async fn statement_tags(&self, tenant: TenantId, id: &str) -> StoreResult<Option<Vec<Tag>>> {
        let found = self
            .coll("statements")
            .find_one(doc! {"tenant": tenant, "id": id})
            .projection(doc! {"tags": 1})
            .await?;
        found
            .map(|d| parse_tags(d.get_str("tags").ok()))
            .transpose()
    }

    async fn retag_page(
        &self,
        tenant: TenantId,
        after: Option<String>,
        limit: usize,
    ) -> StoreResult<RetagPage> {
        let after: i64 = match after {
            Some(token) => token.parse().map_err(|_| {
                backend(anyhow::anyhow!("retag position `{token}` is not a number"))
            })?,
            None => 0,
        };
        let cursor = self
            .coll("statements")
            .find(doc! {"tenant": tenant, "voided": false, "seq": {"$gt": after}})
            .sort(doc! {"seq": 1})
            .limit(limit as i64)
            .projection(doc! {"id": 1, "statement": 1, "tags": 1, "seq": 1})
            .await?;
        let docs = collect(cursor).await?;
        let next = match docs.last() {
            Some(last) if docs.len() == limit => Some(get_i64(last, "seq")?.to_string()),
            _ => None,
        };
        let statements = docs
            .iter()
            .map(|d| {
                Ok(TaggedStatement {
                    id: get_str(d, "id")?,
                    body: get_str(d, "statement")?,
                    tags: parse_tags(d.get_str("tags").ok())?,
                })
            })
            .collect::<StoreResult<_>>()?;
        Ok(RetagPage { statements, next })
    }

    async fn replace_tags(&self, tenant: TenantId, retagged: Vec<Retagged>) -> StoreResult<()> {
        for r in retagged {
            let value = tags_json(&r.tags)?.map_or(Bson::Null, Bson::String);
            let updated = self
                .coll("statements")
                .update_one(
                    doc! {"tenant": tenant, "id": &r.id, "voided": false},
                    doc! {"$set": {"tags": value}},
                )
                .await?;
            if updated.matched_count > 0 {
                self.withdraw_evidence(tenant, std::slice::from_ref(&r.id))
                    .await?;
                self.record_evidence(tenant, &r.evidence).await?;
            }
        }
        Ok(())
    }
}
