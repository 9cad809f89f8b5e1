//! People: the same learner arrives as an LMS account, a LinkedIn Learning account and an
//! e-mail address. Each identity (IFI) is its own person until identities are linked; a
//! person's id is then shared by every identity linked to it. An identity never linked
//! has the id every gateway derives from its IFI (a UUID v5), so nothing is written for it.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{json, Value};

use super::{EvidenceError, EvidenceResult};
pub use crate::store::people::own_person;
use crate::store::people::LinkedIdentity;
use crate::store::{Store, StoreResult, TenantId};
use crate::xapi::agent::{ids_only, ifi_key, is_group};
use crate::xapi::Violation;

/// A person and the identities known to be it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    pub id: String,
    /// Agents, each with its IFI only.
    pub identities: Vec<Value>,
}

#[derive(Clone)]
pub struct People {
    store: Store,
}

/// An identity of an agent given to the API: its IFI key and its IFI-only Agent.
fn identity(agent: &Value, pointer: &str) -> EvidenceResult<(String, Value)> {
    if is_group(agent) {
        return Err(Violation::new(
            pointer,
            "agent",
            "a person's identity is an Agent, not a Group",
        )
        .into());
    }
    let key = ifi_key(agent).ok_or_else(|| {
        Violation::new(
            pointer,
            "agent-ifi",
            "an Agent needs exactly one of mbox, mbox_sha1sum, openid or account",
        )
    })?;
    let mut agent = ids_only(agent);
    agent["objectType"] = json!("Agent");
    Ok((key, agent))
}

impl People {
    pub fn new(store: Store) -> Self {
        People { store }
    }

    /// The person of each identity (IFI key).
    pub async fn people_of(
        &self,
        tenant: TenantId,
        ifis: &[String],
    ) -> StoreResult<HashMap<String, String>> {
        self.store.people.people_of(tenant, ifis).await
    }

    async fn person_of(&self, tenant: TenantId, ifi: &str) -> StoreResult<String> {
        let mut people = self.people_of(tenant, &[ifi.to_owned()]).await?;
        Ok(people.remove(ifi).unwrap_or_else(|| own_person(ifi)))
    }

    /// The identities linked to a person, as Agents.
    async fn linked(&self, tenant: TenantId, person: &str) -> EvidenceResult<Vec<LinkedIdentity>> {
        Ok(self.store.people.person_identities(tenant, person).await?)
    }

    fn agents_of(linked: &[LinkedIdentity]) -> Vec<Value> {
        linked
            .iter()
            .filter_map(|i| serde_json::from_str(&i.agent).ok())
            .collect()
    }

    /// The person an agent is, with all its identities.
    pub async fn person(&self, tenant: TenantId, agent: &Value) -> EvidenceResult<Person> {
        let (ifi, agent) = identity(agent, "agent")?;
        let id = self.person_of(tenant, &ifi).await?;
        let linked = self.linked(tenant, &id).await?;
        let identities = if linked.is_empty() {
            vec![agent]
        } else {
            Self::agents_of(&linked)
        };
        Ok(Person { id, identities })
    }

    /// A person by id; `NotFound` unless identities are linked to it.
    pub async fn person_by_id(&self, tenant: TenantId, id: &str) -> EvidenceResult<Person> {
        let linked = self.linked(tenant, id).await?;
        if linked.is_empty() {
            return Err(EvidenceError::NotFound(format!(
                "no linked identities for person {id}; look a person up by agent"
            )));
        }
        Ok(Person {
            id: id.to_owned(),
            identities: Self::agents_of(&linked),
        })
    }

    /// Makes the agents one person: the first agent's, joined by every identity of the
    /// others' persons.
    pub async fn link(&self, tenant: TenantId, agents: &[Value]) -> EvidenceResult<Person> {
        if agents.len() < 2 {
            return Err(Violation::new(
                "/agents",
                "link-agents",
                "linking needs at least two agents",
            )
            .into());
        }
        let given = agents
            .iter()
            .enumerate()
            .map(|(i, a)| identity(a, &format!("/agents/{i}")))
            .collect::<EvidenceResult<Vec<_>>>()?;
        let target = self.person_of(tenant, &given[0].0).await?;
        let mut members: HashMap<String, String> = HashMap::new();
        for (ifi, agent) in &given {
            let person = self.person_of(tenant, ifi).await?;
            for linked in self.linked(tenant, &person).await? {
                members.insert(linked.ifi, linked.agent);
            }
            members.insert(ifi.clone(), agent.to_string());
        }
        let rows = members
            .into_iter()
            .map(|(ifi, agent)| LinkedIdentity {
                ifi,
                person: target.clone(),
                agent,
            })
            .collect();
        self.store.people.link_identities(tenant, rows).await?;
        self.person_by_id(tenant, &target).await
    }

    /// Takes an identity out of a person: it becomes its own person again. The rest keep
    /// the person's id unless it was the unlinked identity's own; then they take the id
    /// of the first remaining identity (a single one left is simply its own person).
    pub async fn unlink(
        &self,
        tenant: TenantId,
        person: &str,
        agent: &Value,
    ) -> EvidenceResult<()> {
        let (ifi, _) = identity(agent, "agent")?;
        let linked = self.linked(tenant, person).await?;
        if !linked.iter().any(|i| i.ifi == ifi) {
            return Err(EvidenceError::NotFound(format!(
                "the agent is not linked to person {person}"
            )));
        }
        self.store.people.unlink_identity(tenant, &ifi).await?;
        let rest: Vec<LinkedIdentity> = linked.into_iter().filter(|i| i.ifi != ifi).collect();
        match rest.as_slice() {
            [only] => {
                self.store.people.unlink_identity(tenant, &only.ifi).await?;
            }
            [first, ..] if person == own_person(&ifi) => {
                let id = own_person(&first.ifi);
                let moved = rest
                    .iter()
                    .map(|i| LinkedIdentity {
                        person: id.clone(),
                        ..i.clone()
                    })
                    .collect();
                self.store.people.link_identities(tenant, moved).await?;
            }
            _ => {}
        }
        Ok(())
    }
}
