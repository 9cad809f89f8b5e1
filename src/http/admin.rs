//! The admin API under `/api/v1/admin/`: tenants and their credentials. The operator's
//! admin credential (configured at start-up) reaches every tenant; a credential with the
//! `admin` scope reaches only its own, and any other tenant looks absent to it.

use actix_web::web::{Data, Json, Path};
use actix_web::HttpResponse;
use serde::Deserialize;

use super::caller::Admin;
use super::AppState;
use crate::accounts::{self, Administrator};
use crate::http::error::{ApiError, ApiResult};

pub(super) async fn list_tenants(state: Data<AppState>, admin: Admin) -> ApiResult<HttpResponse> {
    let tenants = admin.0.tenants(&state.lrs.store).await?;
    Ok(HttpResponse::Ok().json(tenants))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewTenant {
    name: String,
}

pub(super) async fn create_tenant(
    state: Data<AppState>,
    body: Json<NewTenant>,
    admin: Admin,
) -> ApiResult<HttpResponse> {
    if admin.0 != Administrator::Operator {
        return Err(ApiError::Forbidden(
            "only the operator's admin credential manages tenants".into(),
        ));
    }
    let tenant = accounts::create_tenant(&state.lrs.store, &body.name).await?;
    Ok(HttpResponse::Created().json(tenant))
}

pub(super) async fn get_tenant(
    state: Data<AppState>,
    name: Path<String>,
    admin: Admin,
) -> ApiResult<HttpResponse> {
    let tenant = admin.0.tenant(&state.lrs.store, &name).await?;
    Ok(HttpResponse::Ok().json(accounts::TenantView::from(tenant)))
}

pub(super) async fn list_credentials(
    state: Data<AppState>,
    name: Path<String>,
    admin: Admin,
) -> ApiResult<HttpResponse> {
    let tenant = admin.0.tenant(&state.lrs.store, &name).await?;
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
    name: Path<String>,
    body: Json<NewCredential>,
    admin: Admin,
) -> ApiResult<HttpResponse> {
    let store = &state.lrs.store;
    let tenant = admin.0.tenant(store, &name).await?;
    let scopes = body.scopes.join(" ");
    let issued = accounts::issue_credential(store, &tenant, &body.name, &scopes).await?;
    Ok(HttpResponse::Created().json(issued))
}

pub(super) async fn revoke_credential(
    state: Data<AppState>,
    path: Path<(String, String)>,
    admin: Admin,
) -> ApiResult<HttpResponse> {
    let (name, key) = path.into_inner();
    let tenant = admin.0.tenant(&state.lrs.store, &name).await?;
    accounts::revoke_credential(&state.lrs.store, &tenant, &key).await?;
    Ok(HttpResponse::NoContent().finish())
}
