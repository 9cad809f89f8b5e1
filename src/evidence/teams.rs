//! Teams: identified xAPI Groups seen in statements (their members accumulate as they
//! appear) or teams defined through the API; a team's skill map and its gaps against a
//! role, read from the per-person sums (no evidence rows are scanned).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::scoring::total;
use super::service::{item_ref, Basis, Evidence, ItemRef};
use super::{EvidenceError, EvidenceResult};
use crate::competency::ItemKind;
use crate::store::evidence::{SeenTeam, Team, TeamOrigin};
use crate::store::TenantId;
use crate::xapi::agent::{ids_only, ifi_key, is_group};
use crate::xapi::json::at;
use crate::xapi::Violation;

/// The teams a statement names: its actor and `context.team`, when they are identified
/// Groups (anonymous ones have nothing to keep them apart).
pub fn seen_teams(statement: &Value) -> Vec<SeenTeam> {
    [statement.get("actor"), at(statement, "/context/team")]
        .into_iter()
        .flatten()
        .filter(|g| is_group(g))
        .filter_map(|group| {
            let key = ifi_key(group)?;
            let members = group
                .get("member")
                .and_then(Value::as_array)
                .map(|m| m.iter().filter_map(member).collect())
                .unwrap_or_default();
            Some(SeenTeam {
                id: team_id(&key),
                name: group
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or(&key)
                    .to_owned(),
                group: key,
                members,
            })
        })
        .collect()
}

/// The id of the team an identified Group is, the same on every gateway.
pub fn team_id(group_ifi: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("urn:lrsgate:team:{group_ifi}").as_bytes(),
    )
    .to_string()
}

/// A member as kept: (IFI key, IFI-only Agent JSON).
fn member(agent: &Value) -> Option<(String, String)> {
    if is_group(agent) {
        return None;
    }
    let key = ifi_key(agent)?;
    let mut agent = ids_only(agent);
    agent["objectType"] = json!("Agent");
    Some((key, agent.to_string()))
}

/// A team as the API shows it.
#[derive(Debug, Serialize)]
pub struct TeamView {
    pub id: String,
    pub name: String,
    pub origin: TeamOrigin,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<Value>,
    pub members: Vec<Value>,
}

impl From<Team> for TeamView {
    fn from(t: Team) -> Self {
        TeamView {
            group: t
                .group
                .as_deref()
                .and_then(crate::xapi::agent::agent_of_ifi),
            members: t
                .members
                .iter()
                .filter_map(|(_, a)| serde_json::from_str(a).ok())
                .collect(),
            id: t.id,
            name: t.name,
            origin: t.origin,
        }
    }
}

/// A team defined through the API.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    pub name: String,
    /// xAPI Agents.
    pub members: Vec<Value>,
}

/// A member's standing in one item.
#[derive(Debug, Serialize)]
pub struct MemberScore {
    pub person: String,
    pub score: f64,
    pub level: u8,
    pub evidence: u64,
}

/// One item of a team's skill map.
#[derive(Debug, Serialize)]
pub struct TeamSkill {
    pub item: ItemRef,
    /// Members with positive evidence.
    pub members: u64,
    /// members ÷ team size.
    pub coverage: f64,
    /// Mean score of those members.
    pub strength: f64,
    pub best_level: u8,
    /// The members' scores, highest first; each decomposes in their profile.
    pub scores: Vec<MemberScore>,
}

/// A role need against the team.
#[derive(Debug, Serialize)]
pub struct TeamNeed {
    pub item: ItemRef,
    pub target_level: u8,
    /// Members at or above the target level.
    pub members_at_level: u64,
    pub best_level: u8,
    /// No member reaches the target level.
    pub gap: bool,
}

#[derive(Debug, Serialize)]
pub struct TeamSkills {
    pub team: TeamView,
    pub basis: Basis,
    /// Team members (people, after linking identities).
    pub size: u64,
    /// Most covered first.
    pub skills: Vec<TeamSkill>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<ItemRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<TeamNeed>,
}

impl Evidence {
    pub async fn teams(
        &self,
        tenant: TenantId,
        after: Option<&str>,
        limit: u64,
    ) -> EvidenceResult<Vec<TeamView>> {
        let teams = self.store().evidence.teams(tenant, after, limit).await?;
        Ok(teams.into_iter().map(TeamView::from).collect())
    }

    async fn stored_team(&self, tenant: TenantId, id: &str) -> EvidenceResult<Team> {
        self.store()
            .evidence
            .team(tenant, id)
            .await?
            .ok_or_else(|| EvidenceError::NotFound(format!("no team {id}")))
    }

    pub async fn team(&self, tenant: TenantId, id: &str) -> EvidenceResult<TeamView> {
        Ok(self.stored_team(tenant, id).await?.into())
    }

    /// Creates (`id` None) or replaces a team defined through the API; whether it is new.
    pub async fn put_team(
        &self,
        tenant: TenantId,
        id: Option<&str>,
        body: TeamBody,
    ) -> EvidenceResult<(TeamView, bool)> {
        if body.name.trim().is_empty() {
            return Err(Violation::new("/name", "team-name", "a team needs a name").into());
        }
        let mut members = BTreeMap::new();
        for (i, agent) in body.members.iter().enumerate() {
            let (key, agent) = member(agent).ok_or_else(|| {
                Violation::new(
                    format!("/members/{i}"),
                    "agent-ifi",
                    "a member is an Agent with exactly one of mbox, mbox_sha1sum, openid or account",
                )
            })?;
            members.insert(key, agent);
        }
        let team = Team {
            id: id.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned),
            name: body.name,
            origin: TeamOrigin::Api,
            group: None,
            members: members.into_iter().collect(),
        };
        let created = self.store().evidence.put_team(tenant, team.clone()).await?;
        Ok((team.into(), created))
    }

    pub async fn delete_team(&self, tenant: TenantId, id: &str) -> EvidenceResult<()> {
        if !self.store().evidence.delete_team(tenant, id).await? {
            return Err(EvidenceError::NotFound(format!("no team {id}")));
        }
        Ok(())
    }

    /// The team's skill map, and with `role` its needs against that role.
    pub async fn team_skills(
        &self,
        tenant: TenantId,
        id: &str,
        role: Option<&str>,
        now_millis: i64,
    ) -> EvidenceResult<TeamSkills> {
        let tagger = self.tagger(tenant).await?;
        let team = self.stored_team(tenant, id).await?;
        let ifis: Vec<String> = team.members.iter().map(|(k, _)| k.clone()).collect();
        let mut people: Vec<String> = self
            .store()
            .people
            .people_of(tenant, &ifis)
            .await?
            .into_values()
            .collect();
        people.sort();
        people.dedup();
        let size = people.len() as u64;
        let sums = self.store().evidence.person_items(tenant, &people).await?;
        let w = self.weights();
        let mut by_item: HashMap<String, Vec<MemberScore>> = HashMap::new();
        for s in sums {
            let score = w.score_at(s.normalized, now_millis);
            by_item.entry(s.item).or_default().push(MemberScore {
                person: s.person,
                score,
                level: w.level(score),
                evidence: s.evidence,
            });
        }
        let mut skills: Vec<TeamSkill> = by_item
            .into_iter()
            .map(|(item, mut scores)| {
                scores.sort_by(|a, b| b.score.total_cmp(&a.score));
                let positive: Vec<&MemberScore> = scores.iter().filter(|s| s.score > 0.0).collect();
                let members = positive.len() as u64;
                TeamSkill {
                    item: item_ref(&tagger, &item),
                    members,
                    coverage: members as f64 / size.max(1) as f64,
                    strength: total(positive.iter().map(|s| s.score)) / members.max(1) as f64,
                    best_level: scores.iter().map(|s| s.level).max().unwrap_or(0),
                    scores,
                }
            })
            .collect();
        skills.sort_by(|a, b| {
            b.coverage
                .total_cmp(&a.coverage)
                .then(b.strength.total_cmp(&a.strength))
                .then_with(|| a.item.iri.cmp(&b.item.iri))
        });
        let (role_ref, needs) = match role {
            None => (None, Vec::new()),
            Some(role) => {
                let known = tagger.role(role).ok_or_else(|| {
                    EvidenceError::NotFound(format!("no role {role} in an active framework"))
                })?;
                let needs = known
                    .needs
                    .iter()
                    .map(|need| {
                        let scores = skills
                            .iter()
                            .find(|s| s.item.iri == need.item)
                            .map_or(&[][..], |s| &s.scores[..]);
                        let at_level =
                            scores.iter().filter(|s| s.level >= need.level).count() as u64;
                        TeamNeed {
                            item: item_ref(&tagger, &need.item),
                            target_level: need.level,
                            members_at_level: at_level,
                            best_level: scores.iter().map(|s| s.level).max().unwrap_or(0),
                            gap: at_level == 0,
                        }
                    })
                    .collect();
                let role_ref = ItemRef {
                    iri: known.iri.clone(),
                    name: Some(known.name.clone()),
                    kind: Some(ItemKind::Role),
                };
                (Some(role_ref), needs)
            }
        };
        Ok(TeamSkills {
            team: team.into(),
            basis: self.basis(now_millis),
            size,
            skills,
            role: role_ref,
            needs,
        })
    }
}

impl Evidence {
    /// The people a team's members are, resolved in one call.
    pub async fn team_people(&self, tenant: TenantId, id: &str) -> EvidenceResult<HashSet<String>> {
        let team = self.stored_team(tenant, id).await?;
        let ifis: Vec<String> = team.members.into_iter().map(|(ifi, _)| ifi).collect();
        let people = self.store().people.people_of(tenant, &ifis).await?;
        Ok(people.into_values().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identified_groups_are_teams_and_anonymous_ones_are_not() {
        let group = json!({
            "objectType": "Group", "name": "Platform team",
            "account": { "homePage": "https://hr.example.com", "name": "platform" },
            "member": [{ "mbox": "mailto:ann@example.com", "name": "Ann" }]
        });
        let s = json!({
            "actor": { "objectType": "Group", "member": [{ "mbox": "mailto:bo@example.com" }] },
            "context": { "team": group }
        });
        let teams = seen_teams(&s);
        assert_eq!(teams.len(), 1);
        assert_eq!(teams[0].name, "Platform team");
        assert_eq!(
            teams[0].id,
            team_id("account:https://hr.example.com|platform")
        );
        let [(key, agent)] = &teams[0].members[..] else {
            panic!("one member expected");
        };
        assert_eq!(key, "mbox:mailto:ann@example.com");
        let agent: Value = serde_json::from_str(agent).unwrap();
        assert_eq!(
            agent,
            json!({ "objectType": "Agent", "mbox": "mailto:ann@example.com" })
        );
    }
}
