//! Linked identities on MongoDB: `person_identities`, unique per (tenant, ifi). A link of
//! several identities is several upserts, each followed by moving the identity's evidence:
//! a failure part-way leaves some linked, and repeating the link completes it.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::Utc;
use mongodb::bson::doc;

use super::{collect, get_str, MongoStore};
use crate::store::people::{own_person, LinkedIdentity, PeopleStore};
use crate::store::{StoreResult, TenantId};

#[async_trait]
impl PeopleStore for MongoStore {
    async fn linked_people(
        &self,
        tenant: TenantId,
        ifis: &[String],
    ) -> StoreResult<HashMap<String, String>> {
        if ifis.is_empty() {
            return Ok(HashMap::new());
        }
        let cursor = self
            .coll("person_identities")
            .find(doc! {"tenant": tenant, "ifi": {"$in": ifis}})
            .await?;
        collect(cursor)
            .await?
            .iter()
            .map(|d| Ok((get_str(d, "ifi")?, get_str(d, "person")?)))
            .collect()
    }

    async fn person_identities(
        &self,
        tenant: TenantId,
        person: &str,
    ) -> StoreResult<Vec<LinkedIdentity>> {
        let cursor = self
            .coll("person_identities")
            .find(doc! {"tenant": tenant, "person": person})
            .sort(doc! {"ifi": 1})
            .await?;
        collect(cursor)
            .await?
            .iter()
            .map(|d| {
                Ok(LinkedIdentity {
                    ifi: get_str(d, "ifi")?,
                    person: get_str(d, "person")?,
                    agent: get_str(d, "agent")?,
                })
            })
            .collect()
    }

    async fn link_identities(
        &self,
        tenant: TenantId,
        identities: Vec<LinkedIdentity>,
    ) -> StoreResult<()> {
        let now = Utc::now().timestamp_millis();
        for i in identities {
            let from = self.person_now(tenant, &i.ifi).await?;
            let set = doc! {"$set": {"person": &i.person, "agent": &i.agent, "updated": now}};
            self.upsert(
                "person_identities",
                doc! {"tenant": tenant, "ifi": &i.ifi},
                set,
            )
            .await?;
            self.move_identity(tenant, &i.ifi, &from, &i.person).await?;
        }
        Ok(())
    }

    async fn unlink_identity(&self, tenant: TenantId, ifi: &str) -> StoreResult<bool> {
        let from = self.person_now(tenant, ifi).await?;
        let deleted = self
            .coll("person_identities")
            .delete_one(doc! {"tenant": tenant, "ifi": ifi})
            .await?;
        self.move_identity(tenant, ifi, &from, &own_person(ifi))
            .await?;
        Ok(deleted.deleted_count > 0)
    }
}

impl MongoStore {
    /// The person an identity is now.
    async fn person_now(&self, tenant: TenantId, ifi: &str) -> StoreResult<String> {
        let mut people = self.people_of(tenant, &[ifi.to_owned()]).await?;
        Ok(people.remove(ifi).unwrap_or_else(|| own_person(ifi)))
    }
}
