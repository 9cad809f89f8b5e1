//! Privacy operations an operator owes the people in the store: export everything held
//! about a person (`archive`), erase a person, and delete statements by age under
//! per-tenant retention policies (`retention`, with its scheduled job). Each change leaves
//! an audit record (who asked, when, counts; never personal data). The store does the
//! work (`store::privacy`); this module resolves whom a request means and checks input.

pub mod archive;
pub mod cli;
pub mod retention;

use std::collections::BTreeSet;

use rand::RngCore as _;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::store::people::own_person;
use crate::store::privacy::{AuditRecord, EraseCounts, ErasePlan};
use crate::store::{Store, StoreError, TenantId};
use crate::xapi::agent::{agent_of_ifi, ifi_key, is_group};
use crate::xapi::Violation;

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    /// A parameter or body that breaks a rule; names the field.
    #[error("{0}")]
    Invalid(#[from] Violation),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub type PrivacyResult<T> = Result<T, PrivacyError>;

/// Whom a request means: an Agent (any one of the person's identities) or a person id.
#[derive(Debug, Clone)]
pub enum Subject {
    Agent(Value),
    Person(String),
}

impl Subject {
    /// From the `agent` (Agent JSON) and `person` parameters: exactly one of them.
    pub fn from_params(agent: Option<&Value>, person: Option<&str>) -> PrivacyResult<Self> {
        match (agent, person) {
            (Some(a), None) => Ok(Subject::Agent(a.clone())),
            (None, Some(p)) if !p.trim().is_empty() => Ok(Subject::Person(p.to_owned())),
            (None, Some(_)) => {
                Err(Violation::new("person", "required", "person must not be empty").into())
            }
            (Some(_), Some(_)) => {
                Err(
                    Violation::new("person", "one-of", "give either agent or person, not both")
                        .into(),
                )
            }
            (None, None) => Err(Violation::new(
                "agent",
                "required",
                "give the person's agent (an xAPI Agent as JSON) or person id",
            )
            .into()),
        }
    }
}

/// A person as found: every identity (IFI key) and every person id they count under.
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub id: String,
    pub ifis: Vec<String>,
    /// The person's id and each identity's own.
    #[serde(skip)]
    pub ids: Vec<String>,
}

impl Person {
    /// The identities as IFI-only Agents.
    pub fn agents(&self) -> Vec<Value> {
        self.ifis.iter().filter_map(|k| agent_of_ifi(k)).collect()
    }
}

/// What an erasure answers.
#[derive(Debug, Clone, Serialize)]
pub struct EraseReport {
    pub dry_run: bool,
    /// The audit record of a real run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<String>,
    #[serde(flatten)]
    pub counts: EraseCounts,
    /// Evidence items of the person removed with their statements.
    pub evidence_deleted: u64,
}

#[derive(Clone)]
pub struct Privacy {
    store: Store,
}

impl Privacy {
    pub fn new(store: Store) -> Self {
        Privacy { store }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The person a subject means, with every linked identity.
    pub async fn person(&self, tenant: TenantId, subject: &Subject) -> PrivacyResult<Person> {
        let (id, given) = match subject {
            Subject::Agent(agent) => {
                if is_group(agent) {
                    return Err(Violation::new(
                        "agent",
                        "agent",
                        "a person is an Agent, not a Group",
                    )
                    .into());
                }
                let ifi = ifi_key(agent).ok_or_else(|| {
                    Violation::new(
                        "agent",
                        "agent-ifi",
                        "an Agent needs exactly one of mbox, mbox_sha1sum, openid or account",
                    )
                })?;
                let people = self
                    .store
                    .people
                    .people_of(tenant, std::slice::from_ref(&ifi))
                    .await?;
                let id = people
                    .get(&ifi)
                    .cloned()
                    .unwrap_or_else(|| own_person(&ifi));
                (id, Some(ifi))
            }
            Subject::Person(id) => (id.clone(), None),
        };
        let mut ifis: BTreeSet<String> = self
            .store
            .people
            .person_identities(tenant, &id)
            .await?
            .into_iter()
            .map(|i| i.ifi)
            .collect();
        ifis.extend(given);
        if ifis.is_empty() {
            return Err(PrivacyError::NotFound(format!(
                "no linked identities for person {id}; name the person by agent"
            )));
        }
        let mut ids: BTreeSet<String> = ifis.iter().map(|i| own_person(i)).collect();
        ids.insert(id.clone());
        Ok(Person {
            id,
            ifis: ifis.into_iter().collect(),
            ids: ids.into_iter().collect(),
        })
    }

    /// Erases a person (see `store::privacy`), or with `dry_run` counts what would go.
    /// `by` names who asked, for the audit record.
    pub async fn erase(
        &self,
        tenant: TenantId,
        subject: &Subject,
        dry_run: bool,
        by: &str,
    ) -> PrivacyResult<EraseReport> {
        let person = self.person(tenant, subject).await?;
        let mut evidence_deleted = 0;
        for id in &person.ids {
            evidence_deleted += self
                .store
                .evidence
                .person_evidence(tenant, id, None)
                .await?
                .len() as u64;
        }
        let audit = AuditRecord::new("erase", by, None);
        let audit_id = audit.id.clone();
        let plan = ErasePlan {
            ifis: person.ifis.clone(),
            people: person.ids.clone(),
            pseudonym: pseudonym_name(&person.id),
            audit,
        };
        let counts = self
            .store
            .privacy
            .erase_person(tenant, plan, dry_run)
            .await?;
        if !dry_run {
            tracing::info!(tenant, audit = %audit_id, statements = counts.statements_deleted, "a person was erased");
        }
        Ok(EraseReport {
            dry_run,
            audit: (!dry_run).then_some(audit_id),
            counts,
            evidence_deleted,
        })
    }

    /// A tenant's audit records, oldest first.
    pub async fn audit(
        &self,
        tenant: TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> PrivacyResult<Vec<AuditRecord>> {
        Ok(self
            .store
            .privacy
            .audit_records(tenant, after, limit)
            .await?)
    }
}

/// The pseudonymous account name an erased person's mentions get: a hash of their person
/// id under a key drawn for this erasure and never kept, so every mention in the store
/// gets the same name while nobody — the operator included — can tie it back to them.
fn pseudonym_name(person: &str) -> String {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    let digest = Sha256::new()
        .chain_update(key)
        .chain_update(person.as_bytes())
        .finalize();
    hex::encode(&digest[..16])
}
