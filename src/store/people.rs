//! The storage contract of people: which agent identities (IFIs) were linked into one
//! person. An identity never linked is its own person (see `evidence::people`), so nothing
//! is written for the many learners who only ever use one identity.

use std::collections::HashMap;

use async_trait::async_trait;

use super::{StoreResult, TenantId};

/// The id of the person an identity is until it is linked.
pub fn own_person(ifi: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("urn:lrsgate:person:{ifi}").as_bytes(),
    )
    .to_string()
}

/// An identity linked to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedIdentity {
    /// The identity's IFI key (see `xapi::agent::ifi_key`).
    pub ifi: String,
    pub person: String,
    /// The identity as an Agent object (JSON text), to show it back.
    pub agent: String,
}

#[async_trait]
pub trait PeopleStore: Send + Sync {
    /// The persons of those of `ifis` that are linked.
    async fn linked_people(
        &self,
        tenant: TenantId,
        ifis: &[String],
    ) -> StoreResult<HashMap<String, String>>;
    /// The person of each identity: the one it is linked to, else its own.
    async fn people_of(
        &self,
        tenant: TenantId,
        ifis: &[String],
    ) -> StoreResult<HashMap<String, String>> {
        let linked = self.linked_people(tenant, ifis).await?;
        Ok(ifis
            .iter()
            .map(|ifi| {
                let person = linked.get(ifi).cloned().unwrap_or_else(|| own_person(ifi));
                (ifi.clone(), person)
            })
            .collect())
    }

    /// The identities linked to a person, by IFI key.
    async fn person_identities(
        &self,
        tenant: TenantId,
        person: &str,
    ) -> StoreResult<Vec<LinkedIdentity>>;
    /// Links each identity to its person, moving it from any other (and its evidence
    /// with it).
    async fn link_identities(
        &self,
        tenant: TenantId,
        identities: Vec<LinkedIdentity>,
    ) -> StoreResult<()>;
    /// Removes an identity's link (its evidence returns to its own person); whether it
    /// had one.
    async fn unlink_identity(&self, tenant: TenantId, ifi: &str) -> StoreResult<bool>;
}
