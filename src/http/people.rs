//! People under `/api/v1/people`: who an agent is, and linking the identities one learner
//! uses on different systems. Reads need `evidence:read`, links `people:write`.

use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

use super::competency::caller;
use super::AppState;
use crate::auth::{Principal, Scope};
use crate::http::error::{ApiError, ApiResult};

async fn reader(state: &AppState, req: &HttpRequest) -> ApiResult<Principal> {
    let p = caller(state, req).await?;
    p.require(p.scopes.has(Scope::EvidenceRead), "reading people")?;
    Ok(p)
}

async fn writer(state: &AppState, req: &HttpRequest) -> ApiResult<Principal> {
    let p = caller(state, req).await?;
    p.require(p.scopes.has(Scope::PeopleWrite), "linking identities")?;
    Ok(p)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AgentParam {
    /// An xAPI Agent as JSON.
    agent: String,
}

fn agent_of(param: &AgentParam) -> ApiResult<Value> {
    serde_json::from_str(&param.agent)
        .map_err(|e| ApiError::invalid("agent", "json", format!("agent is not JSON: {e}")))
}

pub(super) async fn person_of_agent(
    state: Data<AppState>,
    req: HttpRequest,
    params: Query<AgentParam>,
) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    let person = state
        .lrs
        .people
        .person(p.tenant, &agent_of(&params)?)
        .await?;
    Ok(HttpResponse::Ok().json(person))
}

pub(super) async fn person(
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<String>,
) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    Ok(HttpResponse::Ok().json(state.lrs.people.person_by_id(p.tenant, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LinkBody {
    /// Agents that are one person; the first one's person id is kept.
    agents: Vec<Value>,
}

pub(super) async fn link(
    state: Data<AppState>,
    req: HttpRequest,
    body: Json<LinkBody>,
) -> ApiResult<HttpResponse> {
    let p = writer(&state, &req).await?;
    let person = state.lrs.people.link(p.tenant, &body.agents).await?;
    Ok(HttpResponse::Ok().json(person))
}

pub(super) async fn unlink(
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<String>,
    params: Query<AgentParam>,
) -> ApiResult<HttpResponse> {
    let p = writer(&state, &req).await?;
    state
        .lrs
        .people
        .unlink(p.tenant, &id, &agent_of(&params)?)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
