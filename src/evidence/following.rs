//! Whom a subscriber of the evidence stream follows: one person (by agent or id), the
//! members of a team, or everyone in the tenant.

use std::collections::HashSet;

use serde_json::Value;

use super::Evidence;
use super::{EvidenceResult, FeedFilter, People};
use crate::store::TenantId;

/// Whom a stream follows.
pub enum Following {
    Everyone,
    /// The person an agent is.
    Agent(Value),
    /// A person by id.
    Person(String),
    /// A team's members (by team id).
    Team(String),
}

impl Evidence {
    /// The filter of a stream following `following`, narrowed to `item` when given.
    pub async fn feed_filter(
        &self,
        tenant: TenantId,
        following: Following,
        item: Option<String>,
    ) -> EvidenceResult<FeedFilter> {
        let people = match following {
            Following::Everyone => None,
            Following::Agent(agent) => {
                let people = People::new(self.store().clone());
                Some(HashSet::from([people.person(tenant, &agent).await?.id]))
            }
            Following::Person(id) => Some(HashSet::from([id])),
            Following::Team(id) => Some(self.team_people(tenant, &id).await?),
        };
        Ok(FeedFilter {
            tenant,
            people,
            item,
        })
    }
}
