//! Retag jobs: one at a time per tenant, in the background, with their progress. Asking
//! for a retag while one runs returns the running job (retagging is idempotent, so a
//! second run would only repeat it). Job state lives in the gateway that runs the job.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

use super::Ingest;
use crate::store::TenantId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Running,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct RetagJob {
    pub id: String,
    pub state: JobState,
    /// Statements looked at so far.
    pub processed: u64,
    /// Statements whose tags changed.
    pub changed: u64,
    pub started: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip)]
    tenant: TenantId,
}

/// Bounds the finished jobs remembered.
const KEEP_FINISHED: usize = 100;

#[derive(Default)]
pub struct RetagJobs {
    jobs: Mutex<HashMap<String, RetagJob>>,
}

fn now_text() -> String {
    crate::xapi::time::format_timestamp(chrono::Utc::now())
}

impl RetagJobs {
    /// Starts a retag of the tenant, or returns the one running; whether it is new.
    pub fn start(self: &Arc<Self>, ingest: Arc<Ingest>, tenant: TenantId) -> (RetagJob, bool) {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(running) = jobs
            .values()
            .find(|j| j.tenant == tenant && j.state == JobState::Running)
        {
            return (running.clone(), false);
        }
        if jobs.len() >= KEEP_FINISHED {
            jobs.retain(|_, j| j.state == JobState::Running);
        }
        let job = RetagJob {
            id: uuid::Uuid::new_v4().to_string(),
            state: JobState::Running,
            processed: 0,
            changed: 0,
            started: now_text(),
            finished: None,
            error: None,
            tenant,
        };
        jobs.insert(job.id.clone(), job.clone());
        drop(jobs);

        let registry = self.clone();
        let id = job.id.clone();
        tokio::spawn(async move {
            let progress = |processed, changed| {
                registry.update(&id, |j| {
                    j.processed = processed;
                    j.changed = changed;
                });
            };
            let result = ingest.retag(tenant, progress).await;
            registry.update(&id, |j| {
                j.finished = Some(now_text());
                match result {
                    Ok((processed, changed)) => {
                        j.state = JobState::Succeeded;
                        j.processed = processed;
                        j.changed = changed;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, tenant, "retag failed");
                        j.state = JobState::Failed;
                        j.error = Some(e.to_string());
                    }
                }
            });
        });
        (job, true)
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut RetagJob)) {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(job) = jobs.get_mut(id) {
            change(job);
        }
    }

    /// A job of the tenant's.
    pub fn get(&self, tenant: TenantId, id: &str) -> Option<RetagJob> {
        let jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        jobs.get(id).filter(|j| j.tenant == tenant).cloned()
    }
}
