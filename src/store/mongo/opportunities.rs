//! Opportunities on MongoDB (`opportunities`, unique per tenant and id, the whole
//! opportunity as JSON text in `body`), and the evidence reads of the learning-experience
//! answers: counts on the `person_items` ranking index, items' rows by person and time,
//! and the statement counter with the evidence count as the evidence version.

use std::collections::HashSet;

use async_trait::async_trait;
use mongodb::bson::{doc, Bson, Document as BsonDocument};
use mongodb::IndexModel;

use super::{backend, collect, get_i64, get_str, index, MongoStore};
use crate::store::competency::Alignment;
use crate::store::opportunities::{OpportunityRecord, OpportunityStore, TimelineRow};
use crate::store::{StoreResult, TenantId};

fn record_of(d: &BsonDocument) -> StoreResult<OpportunityRecord> {
    Ok(OpportunityRecord {
        id: get_str(d, "id")?,
        status: get_str(d, "status")?,
        body: get_str(d, "body")?,
        updated_millis: get_i64(d, "updated")?,
    })
}

fn number(d: &BsonDocument, key: &str) -> StoreResult<f64> {
    match d.get(key) {
        Some(Bson::Double(v)) => Ok(*v),
        Some(Bson::Int64(v)) => Ok(*v as f64),
        Some(Bson::Int32(v)) => Ok(f64::from(*v)),
        _ => Err(backend(anyhow::anyhow!("field `{key}` is not a number"))),
    }
}

/// `text` as a regular expression matching itself.
fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if "\\^$.|?*+()[]{}/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl MongoStore {
    /// The opportunities' collection and its indexes (see `create_indexes`).
    pub(super) fn opportunity_indexes() -> Vec<(&'static str, Vec<IndexModel>)> {
        vec![(
            "opportunities",
            vec![
                index(doc! {"tenant": 1, "id": 1}, true),
                index(doc! {"tenant": 1, "status": 1, "id": 1}, false),
            ],
        )]
    }
}

#[async_trait]
impl OpportunityStore for MongoStore {
    async fn put_opportunity(
        &self,
        tenant: TenantId,
        record: OpportunityRecord,
    ) -> StoreResult<bool> {
        let result = self
            .upsert(
                "opportunities",
                doc! {"tenant": tenant, "id": &record.id},
                doc! {"$set": {
                    "status": &record.status,
                    "body": &record.body,
                    "updated": record.updated_millis,
                }},
            )
            .await?;
        Ok(result.upserted_id.is_some())
    }

    async fn opportunity(
        &self,
        tenant: TenantId,
        id: &str,
    ) -> StoreResult<Option<OpportunityRecord>> {
        let found = self
            .coll("opportunities")
            .find_one(doc! {"tenant": tenant, "id": id})
            .await?;
        found.as_ref().map(record_of).transpose()
    }

    async fn opportunities(
        &self,
        tenant: TenantId,
        status: Option<&str>,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<Vec<OpportunityRecord>> {
        let mut filter = doc! {"tenant": tenant, "id": {"$gt": after.unwrap_or_default()}};
        if let Some(status) = status {
            filter.insert("status", status);
        }
        let cursor = self
            .coll("opportunities")
            .find(filter)
            .sort(doc! {"id": 1})
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .await?;
        collect(cursor).await?.iter().map(record_of).collect()
    }

    async fn delete_opportunity(&self, tenant: TenantId, id: &str) -> StoreResult<bool> {
        let deleted = self
            .coll("opportunities")
            .delete_one(doc! {"tenant": tenant, "id": id})
            .await?;
        Ok(deleted.deleted_count > 0)
    }

    async fn evidence_people(&self, tenant: TenantId) -> StoreResult<u64> {
        let cursor = self
            .coll("person_items")
            .aggregate([
                doc! {"$match": {"tenant": tenant}},
                doc! {"$group": {"_id": "$person"}},
                doc! {"$count": "n"},
            ])
            .await?;
        let n = collect(cursor)
            .await?
            .first()
            .map(|d| get_i64(d, "n"))
            .transpose()?;
        Ok(n.unwrap_or(0).max(0) as u64)
    }

    async fn people_at_least(
        &self,
        tenant: TenantId,
        item: &str,
        thresholds: &[f64],
    ) -> StoreResult<Vec<u64>> {
        let mut out = Vec::with_capacity(thresholds.len());
        for t in thresholds {
            let n = self
                .coll("person_items")
                .count_documents(doc! {"tenant": tenant, "item": item, "normalized": {"$gte": t}})
                .await?;
            out.push(n);
        }
        Ok(out)
    }

    async fn timelines(
        &self,
        tenant: TenantId,
        items: &[String],
        people: Option<&[String]>,
    ) -> StoreResult<Vec<TimelineRow>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut filter = doc! {"tenant": tenant, "item": {"$in": items}};
        if let Some(people) = people {
            filter.insert("person", doc! {"$in": people});
        }
        let cursor = self
            .coll("evidence")
            .find(filter)
            .projection(doc! {"person": 1, "item": 1, "activity": 1, "at": 1, "normalized": 1})
            .await?;
        let mut rows = collect(cursor)
            .await?
            .iter()
            .map(|d| {
                Ok(TimelineRow {
                    person: get_str(d, "person")?,
                    item: get_str(d, "item")?,
                    activity: get_str(d, "activity")?,
                    at_millis: get_i64(d, "at")?,
                    normalized: number(d, "normalized")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        rows.sort_by(|a, b| a.person.cmp(&b.person).then(a.at_millis.cmp(&b.at_millis)));
        Ok(rows)
    }

    async fn catalog_for_items(
        &self,
        tenant: TenantId,
        items: &[String],
    ) -> StoreResult<Vec<(String, Alignment)>> {
        let wanted: HashSet<&str> = items.iter().map(String::as_str).collect();
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for item in items {
            let cursor = self
                .coll("activity_alignments")
                .find(doc! {"tenant": tenant, "alignments": {"$regex": literal(item)}})
                .await?;
            for d in collect(cursor).await? {
                let activity = get_str(&d, "activity_id")?;
                let alignments: Vec<Alignment> =
                    serde_json::from_str(&get_str(&d, "alignments")?).map_err(backend)?;
                for a in alignments {
                    if wanted.contains(a.item.as_str())
                        && seen.insert((activity.clone(), a.item.clone()))
                    {
                        out.push((activity.clone(), a));
                    }
                }
            }
        }
        Ok(out)
    }

    async fn evidence_version(&self, tenant: TenantId) -> StoreResult<i64> {
        // New or voided statements move the counter, linking moves the identities' count;
        // a retag moves neither (answers cached on this are kept a minute at most).
        let counter = self
            .coll("counters")
            .find_one(doc! {"_id": "statements"})
            .await?
            .map(|d| get_i64(&d, "seq"))
            .transpose()?
            .unwrap_or(0);
        let people = self
            .coll("person_identities")
            .count_documents(doc! {"tenant": tenant})
            .await?;
        Ok(counter.wrapping_mul(1_000_003).wrapping_add(people as i64))
    }
}
