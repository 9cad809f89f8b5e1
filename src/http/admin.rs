//! The admin API under `/api/v1/admin/`: tenants and their credentials. The operator's
//! admin credential (configured at start-up) reaches every tenant; a credential with the
//! `admin` scope reaches only its own, and any other tenant looks absent to it.

use actix_web::web::{Data, Json, Path};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::AppState;
use crate::accounts;
use crate::auth::{parse_basic, Scope};
use crate::http::error::{ApiError, ApiResult};
use crate::store::{Tenant, TenantId};

/// Who is administering.
enum Admin {
    Operator,
    Tenant(TenantId),
}

async fn admin(state: &AppState, req: &HttpRequest) -> ApiResult<Admin> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let (Some((key, secret)), Some(expected)) = (
        header.and_then(parse_basic),
        state.settings.admin_secret.as_deref(),
    ) {
        // Compared as digests, so the time taken says nothing about the secret.
        let given = Sha256::digest(format!("{key}\0{secret}"));
        let wanted = Sha256::digest(format!("{}\0{expected}", state.settings.admin_key));
        if given == wanted {
            return Ok(Admin::Operator);
        }
    }
    let principal = state.auth.authenticate(header).await?;
    principal.require(principal.scopes.has(Scope::Admin), "administration")?;
    Ok(Admin::Tenant(principal.tenant))
}

fn operator_only(admin: &Admin) -> ApiResult<()> {
    match admin {
        Admin::Operator => Ok(()),
        Admin::Tenant(_) => Err(ApiError::Forbidden(
            "only the operator's admin credential manages tenants".into(),
        )),
    }
}

/// The named tenant, if this admin may see it (otherwise it is reported absent).
async fn visible_tenant(state: &AppState, admin: &Admin, name: &str) -> ApiResult<Tenant> {
    let tenant = accounts::tenant(&state.lrs.store, name).await;
    match (admin, tenant) {
        (Admin::Tenant(own), Ok(t)) if t.id != *own => {
            Err(ApiError::NotFound(format!("no tenant `{name}`")))
        }
        (_, found) => Ok(found?),
    }
}

pub(super) async fn list_tenants(
    state: Data<AppState>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let admin = admin(&state, &req).await?;
    let tenants: Vec<accounts::TenantView> = match admin {
        Admin::Operator => state.lrs.store.tenants.tenants().await?,
        Admin::Tenant(own) => state
            .lrs
            .store
            .tenants
            .tenant(own)
            .await?
            .into_iter()
            .collect(),
    }
    .into_iter()
    .map(Into::into)
    .collect();
    Ok(HttpResponse::Ok().json(tenants))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewTenant {
    name: String,
}

pub(super) async fn create_tenant(
    state: Data<AppState>,
    req: HttpRequest,
    body: Json<NewTenant>,
) -> ApiResult<HttpResponse> {
    operator_only(&admin(&state, &req).await?)?;
    let tenant = accounts::create_tenant(&state.lrs.store, &body.name).await?;
    Ok(HttpResponse::Created().json(tenant))
}

pub(super) async fn get_tenant(
    state: Data<AppState>,
    req: HttpRequest,
    name: Path<String>,
) -> ApiResult<HttpResponse> {
    let admin = admin(&state, &req).await?;
    let tenant = visible_tenant(&state, &admin, &name).await?;
    Ok(HttpResponse::Ok().json(accounts::TenantView::from(tenant)))
}

pub(super) async fn list_credentials(
    state: Data<AppState>,
    req: HttpRequest,
    name: Path<String>,
) -> ApiResult<HttpResponse> {
    let admin = admin(&state, &req).await?;
    let tenant = visible_tenant(&state, &admin, &name).await?;
    Ok(HttpResponse::Ok().json(accounts::credentials(&state.lrs.store, &tenant).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewCredential {
    name: String,
    /// Scope names, e.g. `["statements/write", "statements/read/mine"]`.
    scopes: Vec<String>,
}

pub(super) async fn create_credential(
    state: Data<AppState>,
    req: HttpRequest,
    name: Path<String>,
    body: Json<NewCredential>,
) -> ApiResult<HttpResponse> {
    let admin = admin(&state, &req).await?;
    let tenant = visible_tenant(&state, &admin, &name).await?;
    let issued = accounts::issue_credential(
        &state.lrs.store,
        &tenant,
        &body.name,
        &body.scopes.join(" "),
    )
    .await?;
    Ok(HttpResponse::Created().json(issued))
}

pub(super) async fn revoke_credential(
    state: Data<AppState>,
    req: HttpRequest,
    path: Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let admin = admin(&state, &req).await?;
    let (name, key) = path.into_inner();
    let tenant = visible_tenant(&state, &admin, &name).await?;
    accounts::revoke_credential(&state.lrs.store, &tenant, &key).await?;
    Ok(HttpResponse::NoContent().finish())
}
