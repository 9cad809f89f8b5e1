//! People under `/api/v1/people`: who an agent is, and linking the identities one learner
//! uses on different systems. Reads need `evidence:read`, links `people:write`.

use actix_web::web::{Data, Json, Path, Query};
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::Value;

use super::caller::{Caller, PeopleRead, PeopleWrite};
use super::params::AgentJson;
use super::AppState;
use crate::http::error::ApiResult;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AgentParam {
    /// An xAPI Agent as JSON.
    agent: String,
}

pub(super) async fn person_of_agent(
    state: Data<AppState>,
    params: Query<AgentParam>,
    caller: Caller<PeopleRead>,
) -> ApiResult<HttpResponse> {
    let agent = AgentJson::parse("agent", &params.agent)?.into_value();
    let person = state.lrs.people.person(caller.tenant(), &agent).await?;
    Ok(HttpResponse::Ok().json(person))
}

pub(super) async fn person(
    state: Data<AppState>,
    id: Path<String>,
    caller: Caller<PeopleRead>,
) -> ApiResult<HttpResponse> {
    let person = state.lrs.people.person_by_id(caller.tenant(), &id).await?;
    Ok(HttpResponse::Ok().json(person))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LinkBody {
    /// Agents that are one person; the first one's person id is kept.
    agents: Vec<Value>,
}

pub(super) async fn link(
    state: Data<AppState>,
    body: Json<LinkBody>,
    caller: Caller<PeopleWrite>,
) -> ApiResult<HttpResponse> {
    super::params::check_agents(&body.agents, "/agents")?;
    let person = state.lrs.people.link(caller.tenant(), &body.agents).await?;
    Ok(HttpResponse::Ok().json(person))
}

pub(super) async fn unlink(
    state: Data<AppState>,
    id: Path<String>,
    params: Query<AgentParam>,
    caller: Caller<PeopleWrite>,
) -> ApiResult<HttpResponse> {
    let agent = AgentJson::parse("agent", &params.agent)?.into_value();
    state
        .lrs
        .people
        .unlink(caller.tenant(), &id, &agent)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
