//! Retention: per-tenant policies ("statements stored more than N days ago", optionally
//! only of a verb or about activities under an id prefix) and the job that applies them.
//! The job runs in every gateway but one at a time: it holds the store's `retention` lease
//! (the connectors' lease) while it works. At start it also completes erasures a crash cut
//! short (MongoDB). A run that deleted something leaves an audit record per policy.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Privacy, PrivacyError, PrivacyResult};
use crate::store::privacy::{AuditRecord, RetentionCounts, RetentionPolicy};
use crate::store::{Store, TenantId};
use crate::xapi::Violation;

/// How often the job looks at the policies.
pub const EVERY: Duration = Duration::from_secs(3600);
/// The first run waits this long after start, so a starting gateway serves first.
const FIRST_AFTER: Duration = Duration::from_secs(60);
/// The job's lease: longer than a run usually takes; renewed at each policy.
const LEASE: &str = "privacy:retention";
const LEASE_TTL_MILLIS: i64 = 15 * 60 * 1000;
const DAY_MILLIS: i64 = 86_400_000;
/// The longest a policy may keep statements: 1000 years.
const MAX_DAYS: u32 = 365_000;

/// A policy as the API receives it (the id comes from the path).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    pub older_than_days: Option<i64>,
    pub verb: Option<String>,
    pub activity_prefix: Option<String>,
}

/// What a run of one policy answers.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub policy: String,
    pub dry_run: bool,
    /// Statements stored at or before this moment were considered.
    pub cutoff: String,
    #[serde(flatten)]
    pub counts: RetentionCounts,
}

/// Checks a policy's id and body.
pub fn policy(id: &str, body: PolicyBody) -> PrivacyResult<RetentionPolicy> {
    let valid_id = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid_id {
        return Err(Violation::new(
            "id",
            "policy-id",
            "a policy id is 1 to 64 letters, digits, '-', '_' or '.'",
        )
        .into());
    }
    let days = body.older_than_days.ok_or_else(|| {
        Violation::new(
            "/older_than_days",
            "required",
            "older_than_days is required",
        )
    })?;
    let days = u32::try_from(days)
        .ok()
        .filter(|d| *d <= MAX_DAYS)
        .ok_or_else(|| {
            Violation::new(
                "/older_than_days",
                "range",
                format!("older_than_days is a whole number from 0 to {MAX_DAYS}"),
            )
        })?;
    let iri = |field: &str, value: Option<String>| -> PrivacyResult<Option<String>> {
        match value {
            Some(v) if iri_string::types::IriStr::new(&v).is_err() => Err(Violation::new(
                format!("/{field}"),
                "iri",
                format!("{field} is not an absolute IRI"),
            )
            .into()),
            other => Ok(other),
        }
    };
    let verb = iri("verb", body.verb)?;
    let activity_prefix = match body.activity_prefix {
        Some(p) if p.is_empty() || p.len() > 2048 || p.chars().any(char::is_control) => {
            return Err(Violation::new(
                "/activity_prefix",
                "prefix",
                "activity_prefix is 1 to 2048 characters without control characters",
            )
            .into())
        }
        other => other,
    };
    Ok(RetentionPolicy {
        id: id.to_owned(),
        older_than_days: days,
        verb,
        activity_prefix,
    })
}

impl Privacy {
    pub async fn policies(&self, tenant: TenantId) -> PrivacyResult<Vec<RetentionPolicy>> {
        Ok(self.store().privacy.retention_policies(tenant).await?)
    }

    pub async fn policy(&self, tenant: TenantId, id: &str) -> PrivacyResult<RetentionPolicy> {
        self.policies(tenant)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| PrivacyError::NotFound(format!("no retention policy `{id}`")))
    }

    /// Creates or replaces a policy; whether it was new.
    pub async fn put_policy(
        &self,
        tenant: TenantId,
        policy: RetentionPolicy,
    ) -> PrivacyResult<bool> {
        Ok(self
            .store()
            .privacy
            .put_retention_policy(tenant, policy)
            .await?)
    }

    pub async fn delete_policy(&self, tenant: TenantId, id: &str) -> PrivacyResult<()> {
        if self
            .store()
            .privacy
            .delete_retention_policy(tenant, id)
            .await?
        {
            Ok(())
        } else {
            Err(PrivacyError::NotFound(format!(
                "no retention policy `{id}`"
            )))
        }
    }

    /// Applies one policy now (or counts what it would delete); a real run that deleted
    /// something leaves an audit record by `by`.
    pub async fn run_policy(
        &self,
        tenant: TenantId,
        policy: &RetentionPolicy,
        dry_run: bool,
        by: &str,
    ) -> PrivacyResult<RunReport> {
        let now = chrono::Utc::now().timestamp_millis();
        let cutoff = now - i64::from(policy.older_than_days) * DAY_MILLIS;
        let counts = self
            .store()
            .privacy
            .apply_retention(tenant, policy, cutoff, dry_run)
            .await?;
        if !dry_run && counts.statements_deleted > 0 {
            let mut audit = AuditRecord::new("retention", by, Some(policy.id.clone()));
            audit.counts = serde_json::to_value(counts).unwrap_or_default();
            self.store().privacy.add_audit(tenant, audit).await?;
        }
        Ok(RunReport {
            policy: policy.id.clone(),
            dry_run,
            cutoff: crate::xapi::time::format_millis(cutoff),
            counts,
        })
    }

    /// Applies every tenant's policies once, holding the retention lease (`owner` names
    /// this gateway); false when another gateway holds it.
    pub async fn run_all(&self, owner: &str) -> PrivacyResult<bool> {
        let store = self.store();
        let now = || chrono::Utc::now().timestamp_millis();
        if !store
            .connectors
            .acquire_lease(LEASE, owner, now(), LEASE_TTL_MILLIS)
            .await?
        {
            return Ok(false);
        }
        let policies = store.privacy.all_retention_policies().await?;
        for (tenant, policy) in policies {
            store
                .connectors
                .acquire_lease(LEASE, owner, now(), LEASE_TTL_MILLIS)
                .await?;
            match self.run_policy(tenant, &policy, false, "retention").await {
                Ok(report) if report.counts.statements_deleted > 0 => tracing::info!(
                    tenant,
                    policy = %policy.id,
                    statements = report.counts.statements_deleted,
                    "retention policy applied"
                ),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(tenant, policy = %policy.id, error = %e, "applying a retention policy failed")
                }
            }
        }
        store.connectors.release_lease(LEASE, owner).await?;
        Ok(true)
    }
}

/// Starts the job: completes interrupted erasures, then applies the policies every
/// [`EVERY`]. It ends with the runtime.
pub fn start(store: Store) {
    let privacy = Privacy::new(store);
    let owner = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
    tokio::spawn(async move {
        match privacy.store().privacy.resume_erasures().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(erasures = n, "completed erasures interrupted earlier"),
            Err(e) => {
                tracing::warn!(error = %e, "completing interrupted erasures failed; retried at the next start")
            }
        }
        tokio::time::sleep(FIRST_AFTER).await;
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = privacy.run_all(&owner).await {
                tracing::warn!(error = %e, "the retention job failed; it runs again in an hour");
            }
        }
    });
}
