//! Connectors on MongoDB: `connectors` (unique per tenant and id; configuration and run
//! state as JSON text), `leases` (`_id` = the lease's name) and `dead_letters` (unique per
//! tenant, connector and statement id). A lease is taken by one atomic update, upserting,
//! of the lease whose owner is the asker or whose time is up: when another owner holds
//! it unexpired the filter matches nothing and the upsert's insert collides with the
//! existing `_id` — a duplicate-key error, which means "not acquired".

use async_trait::async_trait;
use mongodb::bson::{doc, Document as BsonDocument};
use mongodb::IndexModel;
use serde_json::Value;

use super::{backend, collect, get_i64, get_str, index, is_duplicate_key, MongoStore};
use crate::store::connectors::{lease_prefix, ConnectorRecord, ConnectorStore, DeadLetter};
use crate::store::{StoreError, StoreResult, TenantId};

fn connector_of(d: &BsonDocument) -> StoreResult<(TenantId, ConnectorRecord)> {
    Ok((
        get_i64(d, "tenant")?,
        ConnectorRecord {
            id: get_str(d, "id")?,
            config: serde_json::from_str(&get_str(d, "config")?).map_err(backend)?,
            updated_millis: get_i64(d, "updated")?,
        },
    ))
}

pub(super) fn dead_letter_of(d: &BsonDocument) -> StoreResult<DeadLetter> {
    Ok(DeadLetter {
        statement_id: get_str(d, "statement_id")?,
        error: get_str(d, "error")?,
        attempts: u32::try_from(get_i64(d, "attempts")?).map_err(backend)?,
        failed_millis: get_i64(d, "failed")?,
    })
}

impl MongoStore {
    /// The connectors' collections and their indexes (see `create_indexes`).
    pub(super) fn connector_indexes() -> Vec<(&'static str, Vec<IndexModel>)> {
        vec![
            ("connectors", vec![index(doc! {"tenant": 1, "id": 1}, true)]),
            (
                "dead_letters",
                vec![
                    index(doc! {"tenant": 1, "connector": 1, "statement_id": 1}, true),
                    index(doc! {"tenant": 1, "connector": 1, "failed": 1}, false),
                ],
            ),
        ]
    }

    async fn connectors_matching(
        &self,
        filter: BsonDocument,
    ) -> StoreResult<Vec<(TenantId, ConnectorRecord)>> {
        let cursor = self
            .coll("connectors")
            .find(filter)
            .sort(doc! {"tenant": 1, "id": 1})
            .await?;
        collect(cursor).await?.iter().map(connector_of).collect()
    }
}

#[async_trait]
impl ConnectorStore for MongoStore {
    async fn connectors(&self, tenant: TenantId) -> StoreResult<Vec<ConnectorRecord>> {
        let all = self.connectors_matching(doc! {"tenant": tenant}).await?;
        Ok(all.into_iter().map(|(_, r)| r).collect())
    }

    async fn all_connectors(&self) -> StoreResult<Vec<(TenantId, ConnectorRecord)>> {
        self.connectors_matching(doc! {}).await
    }

    async fn connector(&self, tenant: TenantId, id: &str) -> StoreResult<Option<ConnectorRecord>> {
        let found = self
            .coll("connectors")
            .find_one(doc! {"tenant": tenant, "id": id})
            .await?;
        Ok(found
            .as_ref()
            .map(connector_of)
            .transpose()?
            .map(|(_, r)| r))
    }

    async fn put_connector(&self, tenant: TenantId, record: ConnectorRecord) -> StoreResult<bool> {
        let update = doc! {"$set": {
            "config": record.config.to_string(),
            "updated": record.updated_millis,
        }};
        let result = self
            .upsert(
                "connectors",
                doc! {"tenant": tenant, "id": &record.id},
                update,
            )
            .await?;
        Ok(result.upserted_id.is_some())
    }

    async fn delete_connector(&self, tenant: TenantId, id: &str) -> StoreResult<bool> {
        let deleted = self
            .coll("connectors")
            .delete_one(doc! {"tenant": tenant, "id": id})
            .await?;
        self.coll("dead_letters")
            .delete_many(doc! {"tenant": tenant, "connector": id})
            .await?;
        let lease = lease_prefix(tenant, id);
        let parts = format!("^{}:", regex::escape(&lease));
        self.coll("leases")
            .delete_many(doc! {"$or": [{"_id": &lease}, {"_id": {"$regex": parts}}]})
            .await?;
        Ok(deleted.deleted_count > 0)
    }

    async fn connector_state(&self, tenant: TenantId, id: &str) -> StoreResult<Option<Value>> {
        let found = self
            .coll("connectors")
            .find_one(doc! {"tenant": tenant, "id": id})
            .await?;
        match found.as_ref().and_then(|d| d.get_str("state").ok()) {
            Some(text) => Ok(Some(serde_json::from_str(text).map_err(backend)?)),
            None => Ok(None),
        }
    }

    async fn put_connector_state(
        &self,
        tenant: TenantId,
        id: &str,
        state: Value,
    ) -> StoreResult<()> {
        let result = self
            .coll("connectors")
            .update_one(
                doc! {"tenant": tenant, "id": id},
                doc! {"$set": {"state": state.to_string()}},
            )
            .await?;
        if result.matched_count == 0 {
            return Err(StoreError::Conflict(format!(
                "connector `{id}` does not exist (deleted while it ran?)"
            )));
        }
        Ok(())
    }

    async fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        now_millis: i64,
        ttl_millis: i64,
    ) -> StoreResult<bool> {
        let expires = now_millis.saturating_add(ttl_millis);
        let filter = doc! {
            "_id": name,
            "$or": [{"owner": owner}, {"expires": {"$lte": now_millis}}],
        };
        let update = doc! {"$set": {"owner": owner, "expires": expires}};
        match self
            .coll("leases")
            .update_one(filter, update)
            .upsert(true)
            .await
        {
            Ok(r) => Ok(r.matched_count == 1 || r.upserted_id.is_some()),
            // Another owner holds it unexpired (or took it between our look and insert).
            Err(e) if is_duplicate_key(&e) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    async fn release_lease(&self, name: &str, owner: &str) -> StoreResult<()> {
        self.coll("leases")
            .delete_one(doc! {"_id": name, "owner": owner})
            .await?;
        Ok(())
    }

    async fn add_dead_letters(
        &self,
        tenant: TenantId,
        connector: &str,
        letters: Vec<DeadLetter>,
    ) -> StoreResult<()> {
        for l in letters {
            let update = doc! {"$set": {
                "error": &l.error,
                "attempts": i64::from(l.attempts),
                "failed": l.failed_millis,
            }};
            self.upsert(
                "dead_letters",
                doc! {"tenant": tenant, "connector": connector, "statement_id": &l.statement_id},
                update,
            )
            .await?;
        }
        Ok(())
    }

    async fn dead_letters(
        &self,
        tenant: TenantId,
        connector: &str,
        limit: usize,
    ) -> StoreResult<Vec<DeadLetter>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let cursor = self
            .coll("dead_letters")
            .find(doc! {"tenant": tenant, "connector": connector})
            .sort(doc! {"failed": 1, "statement_id": 1})
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .await?;
        collect(cursor).await?.iter().map(dead_letter_of).collect()
    }

    async fn remove_dead_letters(
        &self,
        tenant: TenantId,
        connector: &str,
        statement_ids: &[String],
    ) -> StoreResult<u64> {
        if statement_ids.is_empty() {
            return Ok(0);
        }
        let deleted = self
            .coll("dead_letters")
            .delete_many(doc! {
                "tenant": tenant,
                "connector": connector,
                "statement_id": {"$in": statement_ids},
            })
            .await?;
        Ok(deleted.deleted_count)
    }
}
