//! Documents (State, Activity Profile, Agent Profile) and the Activities and Agents
//! resources.

use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::Lrs;
use super::{LrsError, LrsResult};
use crate::store::{Document, DocumentScope, TenantId};
use crate::xapi::agent::{ifi_key as ifi_key_of, IFI_PROPERTIES};
use crate::xapi::document::{is_json_content_type, Preconditions, WriteMode};
use crate::xapi::Violation;

/// The documents a request addresses: the State documents of an activity and agent (and
/// registration), or the profile documents of an activity or of an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Documents {
    State {
        activity_id: String,
        /// The agent's IFI key.
        agent: String,
        registration: Option<String>,
    },
    ActivityProfile {
        activity_id: String,
    },
    AgentProfile {
        /// The agent's IFI key.
        agent: String,
    },
}

impl Documents {
    fn scope(&self) -> DocumentScope {
        match self.clone() {
            Documents::State {
                activity_id,
                agent,
                registration,
            } => DocumentScope::State {
                activity_id,
                agent,
                registration,
            },
            Documents::ActivityProfile { activity_id } => {
                DocumentScope::ActivityProfile { activity_id }
            }
            Documents::AgentProfile { agent } => DocumentScope::AgentProfile { agent },
        }
    }
}

/// A document body as a client sent it.
pub struct Upload {
    pub content_type: String,
    pub content: Bytes,
}

impl Lrs {
    pub async fn document(
        &self,
        tenant: TenantId,
        documents: &Documents,
        id: &str,
    ) -> LrsResult<Document> {
        self.store
            .documents
            .document(tenant, &documents.scope(), id)
            .await?
            .ok_or_else(|| LrsError::NotFound(format!("no document `{id}`")))
    }

    pub async fn document_ids(
        &self,
        tenant: TenantId,
        documents: &Documents,
        since: Option<i64>,
    ) -> LrsResult<Vec<String>> {
        Ok(self
            .store
            .documents
            .document_ids(tenant, &documents.scope(), since)
            .await?)
    }

    /// PUT (replace) or POST (merge) a document.
    pub async fn write_document(
        &self,
        tenant: TenantId,
        documents: &Documents,
        id: &str,
        upload: Upload,
        mode: WriteMode,
        preconditions: &Preconditions,
    ) -> LrsResult<Document> {
        let Upload {
            content_type,
            content,
        } = upload;
        let content_type = if content_type.is_empty() {
            "application/octet-stream"
        } else {
            content_type.as_str()
        };
        if mode == WriteMode::Merge {
            let is_object = is_json_content_type(content_type)
                && matches!(
                    serde_json::from_slice::<Value>(&content),
                    Ok(Value::Object(_))
                );
            if !is_object {
                return Err(Violation::new(
                    "body",
                    "document-merge",
                    "POST merges JSON: the body must be a JSON object sent as application/json",
                )
                .into());
            }
        }
        let new = Document {
            content_type: content_type.to_owned(),
            content,
            etag: String::new(),
            updated_millis: 0,
        };
        Ok(self
            .store
            .documents
            .write_document(tenant, &documents.scope(), id, new, mode, preconditions)
            .await?)
    }

    pub async fn delete_documents(
        &self,
        tenant: TenantId,
        documents: &Documents,
        id: Option<&str>,
        preconditions: &Preconditions,
    ) -> LrsResult<()> {
        Ok(self
            .store
            .documents
            .delete_documents(tenant, &documents.scope(), id, preconditions)
            .await?)
    }

    /// The Activity object for an id: its definition merged from every statement seen.
    pub async fn activity(&self, tenant: TenantId, activity_id: &str) -> LrsResult<Value> {
        let definition = self
            .store
            .actors
            .activity_definition(tenant, activity_id)
            .await?;
        let mut activity = json!({ "objectType": "Activity", "id": activity_id });
        if let (Some(def), Some(obj)) = (definition, activity.as_object_mut()) {
            obj.insert("definition".into(), def);
        }
        Ok(activity)
    }

    /// The Person object for an agent: every name seen with its identifier.
    pub async fn person(&self, tenant: TenantId, agent: &Value, ifi_key: &str) -> LrsResult<Value> {
        // The agent itself first, then the other identities linked to its person.
        let mut identities = vec![(ifi_key.to_owned(), agent.clone())];
        for other in self.people.person(tenant, agent).await?.identities {
            if let Some(key) = ifi_key_of(&other).filter(|k| k != ifi_key) {
                identities.push((key, other));
            }
        }
        let mut names: Vec<String> = Vec::new();
        let mut ifis: Map<String, Value> = Map::new();
        for (key, identity) in &identities {
            let mut known = self.store.actors.agent_names(tenant, key).await?;
            known.extend(
                identity
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            );
            for name in known {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            for property in IFI_PROPERTIES {
                if let Some(v) = identity.get(property) {
                    let values = ifis.entry(property).or_insert_with(|| json!([]));
                    if let Some(list) = values.as_array_mut().filter(|l| !l.contains(v)) {
                        list.push(v.clone());
                    }
                }
            }
        }
        let mut person = Map::new();
        person.insert("objectType".into(), json!("Person"));
        if !names.is_empty() {
            person.insert("name".into(), json!(names));
        }
        for property in IFI_PROPERTIES {
            if let Some(values) = ifis.remove(property) {
                person.insert(property.into(), values);
            }
        }
        Ok(Value::Object(person))
    }
}
