//! Tenants and credentials on MongoDB.

use async_trait::async_trait;
use chrono::Utc;
use mongodb::bson::{doc, Document as BsonDocument};
use mongodb::options::ReturnDocument;

use super::{backend, binary, collect, get_bytes, get_i64, get_str, is_duplicate_key, MongoStore};
use crate::store::{
    Credential, CredentialStore, SigningKey, StoreError, StoreResult, Tenant, TenantId, TenantStore,
};

pub(super) fn credential_of(d: &BsonDocument) -> StoreResult<Credential> {
    Ok(Credential {
        tenant: get_i64(d, "tenant")?,
        key: get_str(d, "_id")?,
        secret_hash: get_str(d, "secret_hash")?,
        name: get_str(d, "name")?,
        authority: serde_json::from_str(&get_str(d, "authority")?).map_err(backend)?,
        // Credentials saved before scopes existed keep full xAPI access.
        scopes: get_str(d, "scopes").unwrap_or_else(|_| "all".into()),
    })
}

pub(super) fn tenant_of(d: &BsonDocument) -> StoreResult<Tenant> {
    Ok(Tenant {
        id: get_i64(d, "_id")?,
        name: get_str(d, "name")?,
        created_millis: get_i64(d, "created")?,
    })
}

#[async_trait]
impl CredentialStore for MongoStore {
    async fn credential(&self, key: &str) -> StoreResult<Option<Credential>> {
        let found = self.coll("credentials").find_one(doc! {"_id": key}).await?;
        found.as_ref().map(credential_of).transpose()
    }

    async fn save_credential(&self, c: Credential) -> StoreResult<()> {
        let now = Utc::now().timestamp_millis();
        self.coll("credentials")
            .update_one(
                doc! {"_id": &c.key},
                doc! {
                    "$set": {
                        "tenant": c.tenant,
                        "secret_hash": &c.secret_hash,
                        "name": &c.name,
                        "authority": c.authority.to_string(),
                        "scopes": &c.scopes,
                    },
                    "$setOnInsert": {"created": now},
                },
            )
            .upsert(true)
            .await?;
        Ok(())
    }

    async fn credential_count(&self) -> StoreResult<u64> {
        Ok(self.coll("credentials").count_documents(doc! {}).await?)
    }

    async fn credentials(&self, tenant: TenantId) -> StoreResult<Vec<Credential>> {
        let cursor = self
            .coll("credentials")
            .find(doc! {"tenant": tenant})
            .sort(doc! {"_id": 1})
            .await?;
        collect(cursor).await?.iter().map(credential_of).collect()
    }

    async fn delete_credential(&self, tenant: TenantId, key: &str) -> StoreResult<bool> {
        let deleted = self
            .coll("credentials")
            .delete_one(doc! {"_id": key, "tenant": tenant})
            .await?;
        Ok(deleted.deleted_count > 0)
    }

    async fn signing_keys(&self) -> StoreResult<Vec<SigningKey>> {
        let cursor = self
            .coll("signing_keys")
            .find(doc! {})
            .sort(doc! {"created": 1, "_id": 1})
            .await?;
        collect(cursor)
            .await?
            .iter()
            .map(|d| {
                Ok(SigningKey {
                    kid: get_str(d, "_id")?,
                    secret: get_bytes(d, "secret")?.to_vec(),
                    created_millis: get_i64(d, "created")?,
                })
            })
            .collect()
    }

    async fn add_signing_key(&self, key: SigningKey) -> StoreResult<()> {
        self.coll("signing_keys")
            .insert_one(
                doc! {"_id": key.kid, "secret": binary(key.secret), "created": key.created_millis},
            )
            .await?;
        Ok(())
    }
}

#[async_trait]
impl TenantStore for MongoStore {
    async fn create_tenant(&self, name: &str) -> StoreResult<Tenant> {
        let counter = self
            .coll("counters")
            .find_one_and_update(doc! {"_id": "tenants"}, doc! {"$inc": {"seq": 1_i64}})
            .return_document(ReturnDocument::After)
            .await?
            .ok_or_else(|| backend(anyhow::anyhow!("the tenant counter is missing")))?;
        let tenant = Tenant {
            id: get_i64(&counter, "seq")?,
            name: name.to_owned(),
            created_millis: Utc::now().timestamp_millis(),
        };
        let inserted = self
            .coll("tenants")
            .insert_one(doc! {"_id": tenant.id, "name": name, "created": tenant.created_millis})
            .await;
        match inserted {
            Ok(_) => Ok(tenant),
            Err(e) if is_duplicate_key(&e) => Err(StoreError::Conflict(format!(
                "a tenant named `{name}` exists already"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    async fn tenant(&self, id: TenantId) -> StoreResult<Option<Tenant>> {
        let found = self.coll("tenants").find_one(doc! {"_id": id}).await?;
        found.as_ref().map(tenant_of).transpose()
    }

    async fn tenant_named(&self, name: &str) -> StoreResult<Option<Tenant>> {
        let found = self.coll("tenants").find_one(doc! {"name": name}).await?;
        found.as_ref().map(tenant_of).transpose()
    }

    async fn tenants(&self) -> StoreResult<Vec<Tenant>> {
        let cursor = self
            .coll("tenants")
            .find(doc! {})
            .sort(doc! {"_id": 1})
            .await?;
        collect(cursor).await?.iter().map(tenant_of).collect()
    }
}
