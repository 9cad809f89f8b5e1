//! New evidence as statements arrive, for Server-Sent Events subscribers. Each gateway
//! tells its own subscribers about the statements it stores; a subscriber too slow to keep
//! up is told how many events it missed.

use std::collections::HashSet;
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

use super::{EvidenceItem, Weight};
use crate::store::TenantId;
use crate::xapi::time::format_millis;

/// Events kept for subscribers that fall behind.
const BACKLOG: usize = 4096;

/// One new evidence item.
#[derive(Debug, Clone, Serialize)]
pub struct FeedEvent {
    #[serde(skip)]
    pub tenant: TenantId,
    pub person: String,
    pub identity: String,
    pub item: String,
    pub statement: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub activity: String,
    pub verb: String,
    pub at: String,
    pub weight: Weight,
}

impl FeedEvent {
    pub fn new(tenant: TenantId, person: String, e: &EvidenceItem) -> Self {
        FeedEvent {
            tenant,
            person,
            identity: e.identity.clone(),
            item: e.item.clone(),
            statement: e.statement.clone(),
            activity: e.activity.clone(),
            verb: e.verb.clone(),
            at: format_millis(e.at_millis),
            weight: e.weight,
        }
    }
}

/// Which events a subscriber wants: its tenant's, narrowed by any of the filters.
#[derive(Debug, Clone, Default)]
pub struct FeedFilter {
    pub tenant: TenantId,
    pub people: Option<HashSet<String>>,
    pub item: Option<String>,
}

impl FeedFilter {
    pub fn accepts(&self, e: &FeedEvent) -> bool {
        e.tenant == self.tenant
            && self.people.as_ref().is_none_or(|p| p.contains(&e.person))
            && self.item.as_ref().is_none_or(|i| *i == e.item)
    }
}

#[derive(Clone)]
pub struct Feed {
    sender: broadcast::Sender<Arc<FeedEvent>>,
}

impl Default for Feed {
    fn default() -> Self {
        Feed {
            sender: broadcast::channel(BACKLOG).0,
        }
    }
}

impl Feed {
    /// Whether anyone listens (events are only built then).
    pub fn listened(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    pub fn publish(&self, events: Vec<FeedEvent>) {
        for e in events {
            // An error only means nobody listens any more.
            let _ = self.sender.send(Arc::new(e));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<FeedEvent>> {
        self.sender.subscribe()
    }
}
