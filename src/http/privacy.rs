//! Privacy operations under `/api/v1/admin/`: export and erase a person, retention
//! policies and their runs, and the audit records these leave. They need the admin API's
//! caller (`admin` scope, for its own tenant; the operator's admin credential for any,
//! named by `tenant`, the `default` tenant otherwise).

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::web::{Bytes, Data, Json, Path, Query};
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use super::caller::AdminKey;
use super::params::{check_identifiers, AgentJson};
use super::AppState;
use crate::accounts::Administrator;
use crate::http::error::{ApiError, ApiResult};
use crate::privacy::retention::{self, PolicyBody};
use crate::privacy::{Privacy, PrivacyError, Subject};
use crate::store::TenantId;

impl From<PrivacyError> for ApiError {
    fn from(err: PrivacyError) -> Self {
        match err {
            PrivacyError::Invalid(v) => ApiError::Invalid(v),
            PrivacyError::NotFound(what) => ApiError::NotFound(what),
            PrivacyError::Store(e) => e.into(),
        }
    }
}

/// The largest page of audit records.
const MAX_AUDIT_PAGE: usize = 1000;

/// The tenant an admin request acts in: the named one if the caller may, else its own.
async fn tenant_of(state: &AppState, admin: &AdminKey, name: Option<&str>) -> ApiResult<TenantId> {
    match (&admin.admin, name) {
        (Administrator::Tenant(own), None) => Ok(*own),
        (who, name) => Ok((*who)
            .tenant(&state.lrs.store, name.unwrap_or("default"))
            .await?
            .id),
    }
}

/// A `true`/`false` query parameter.
fn flag(name: &str, raw: Option<&str>) -> ApiResult<bool> {
    match raw {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::invalid(
            name,
            "boolean",
            format!("{name} is true or false"),
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExportParams {
    /// An xAPI Agent as JSON: any identity of the person.
    agent: Option<String>,
    /// A person id (of linked identities).
    person: Option<String>,
    tenant: Option<String>,
}

pub(super) async fn export_person(
    state: Data<AppState>,
    q: Query<ExportParams>,
    admin: AdminKey,
) -> ApiResult<HttpResponse> {
    let agent = AgentJson::optional("agent", q.agent.as_deref())?.map(AgentJson::into_value);
    let subject = Subject::from_params(agent.as_ref(), q.person.as_deref())?;
    let tenant = tenant_of(&state, &admin, q.tenant.as_deref()).await?;
    let privacy = Privacy::new(state.lrs.store.clone());
    let person = privacy.person(tenant, &subject).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(8);
    let filename = format!("person-{}.tar", person.id);
    tokio::spawn(async move {
        if let Err(e) = privacy.export(tenant, &person, tx).await {
            tracing::error!(tenant, error = %e, "a person's export stopped part-way");
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, actix_web::Error>(chunk), rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("application/x-tar")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(filename)],
        })
        .streaming(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EraseBody {
    /// An xAPI Agent: any identity of the person.
    agent: Option<Value>,
    /// A person id (of linked identities).
    person: Option<String>,
    /// Only count what would go.
    #[serde(default)]
    dry_run: bool,
    tenant: Option<String>,
}

pub(super) async fn erase_person(
    state: Data<AppState>,
    body: Json<EraseBody>,
    admin: AdminKey,
) -> ApiResult<HttpResponse> {
    if let Some(agent) = &body.agent {
        check_identifiers(agent, "/agent")?;
    }
    let subject = Subject::from_params(body.agent.as_ref(), body.person.as_deref())?;
    let tenant = tenant_of(&state, &admin, body.tenant.as_deref()).await?;
    let report = Privacy::new(state.lrs.store.clone())
        .erase(tenant, &subject, body.dry_run, &admin.key)
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AuditParams {
    after: Option<String>,
    limit: Option<usize>,
    tenant: Option<String>,
}

pub(super) async fn list_audit(
    state: Data<AppState>,
    q: Query<AuditParams>,
    admin: AdminKey,
) -> ApiResult<HttpResponse> {
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_AUDIT_PAGE {
        return Err(ApiError::invalid(
            "limit",
            "range",
            format!("limit is from 1 to {MAX_AUDIT_PAGE}"),
        ));
    }
    let tenant = tenant_of(&state, &admin, q.tenant.as_deref()).await?;
    let records = Privacy::new(state.lrs.store.clone())
        .audit(tenant, q.after.as_deref(), limit)
        .await?;
    let next = (records.len() == limit)
        .then(|| records.last().map(|r| r.id.clone()))
        .flatten();
    Ok(HttpResponse::Ok().json(json!({"records": records, "next_after": next})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TenantParam {
    tenant: Option<String>,
}

pub(super) async fn list_retention(
    state: Data<AppState>,
    q: Query<TenantParam>,
    admin: AdminKey,
) -> ApiResult<HttpResponse> {
    let tenant = tenant_of(&state, &admin, q.tenant.as_deref()).await?;
    let policies = Privacy::new(state.lrs.store.clone())
        .policies(tenant)
        .await?;
    Ok(HttpResponse::Ok().json(policies))
}

pub(super) async fn get_retention(
    state: Data<AppState>,
    id: Path<String>,
    q: Query<TenantParam>,
    admin: AdminKey,
) -> ApiResult<HttpResponse> {
    let tenant = tenant_of(&state, &admin, q.tenant.as_deref()).await?;
    let policy = Privacy::new(state.lrs.store.clone())
        .policy(tenant, &id)
        .await?;
    Ok(HttpResponse::Ok().json(policy))
}

pub(super) async fn put_retention(
    state: Data<AppState>,
    id: Path<String>,
    q: Query<TenantParam>,
    body: Json<PolicyBody>,
    admin: AdminKey,
) -> ApiResult<HttpResponse> {
    let policy = retention::policy(&id, body.into_inner())?;
    let tenant = tenant_of(&state, &admin, q.tenant.as_deref()).await?;
    let created = Privacy::new(state.lrs.store.clone())
        .put_policy(tenant, policy.clone())
        .await?;
    Ok(if created {
        HttpResponse::Created().json(policy)
    } else {
        HttpResponse::Ok().json(policy)
    })
}

pub(super) async fn delete_retention(
    state: Data<AppState>,
    id: Path<String>,
    q: Query<TenantParam>,
    admin: AdminKey,
) -> ApiResult<HttpResponse> {
    let tenant = tenant_of(&state, &admin, q.tenant.as_deref()).await?;
    Privacy::new(state.lrs.store.clone())
        .delete_policy(tenant, &id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RunParams {
    dry_run: Option<String>,
    tenant: Option<String>,
}

pub(super) async fn run_retention(
    state: Data<AppState>,
    id: Path<String>,
    q: Query<RunParams>,
    admin: AdminKey,
) -> ApiResult<HttpResponse> {
    let dry_run = flag("dry_run", q.dry_run.as_deref())?;
    let tenant = tenant_of(&state, &admin, q.tenant.as_deref()).await?;
    let privacy = Privacy::new(state.lrs.store.clone());
    let policy = privacy.policy(tenant, &id).await?;
    let report = privacy
        .run_policy(tenant, &policy, dry_run, &admin.key)
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
