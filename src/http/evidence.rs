//! Skill evidence under `/api/v1`: profiles and gaps, experts, adjacent skills and the
//! activities that build a skill, teams and their skill maps, the evidence stream, and the
//! OpenAPI document of the gateway. Reads need `evidence:read`; defining teams needs
//! `people:write`.

use std::time::Duration;

use actix_web::web::{Bytes, Data, Json, Path, Query};
use actix_web::HttpResponse;
use futures_util::StreamExt as _;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;

use super::caller::{Caller, EvidenceRead, TeamsWrite};
use super::params::{AgentJson, ItemRef, PageLimit, Timestamp};
use super::AppState;
use crate::evidence::following::Following;
use crate::evidence::service::Options;
use crate::evidence::teams::TeamBody;
use crate::evidence::{FeedEvent, FeedFilter};
use crate::http::error::{ApiError, ApiResult};

/// The OpenAPI 3.1 description of the gateway.
const OPENAPI: &str = include_str!("openapi.json");

/// How often an idle stream sends a comment, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The most proofs listed per score.
const MAX_PROOFS: usize = 100;

/// The largest page of experts, activities or teams.
const MAX_PAGE: u64 = 100;

pub(super) async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}

/// The moment scores are decayed to (`at`, default now) and the proofs listed per score.
fn options(at: Option<&str>, proofs: Option<usize>) -> ApiResult<Options> {
    let now_millis = match Timestamp::optional("at", at)? {
        Some(at) => at,
        None => chrono::Utc::now().timestamp_millis(),
    };
    let proofs = proofs.unwrap_or(5);
    if proofs > MAX_PROOFS {
        return Err(ApiError::invalid(
            "proofs",
            "range",
            format!("proofs must be at most {MAX_PROOFS}"),
        ));
    }
    Ok(Options { now_millis, proofs })
}

/// The parameters of person answers.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PersonParams {
    /// An xAPI Agent as JSON.
    agent: Option<String>,
    /// A person id.
    person: Option<String>,
    /// The moment scores are decayed to (default now).
    at: Option<String>,
    /// Proofs listed per score (default 5).
    proofs: Option<usize>,
    /// The role (item IRI), for gaps.
    role: Option<String>,
}

pub(super) async fn profile(
    state: Data<AppState>,
    q: Query<PersonParams>,
    caller: Caller<EvidenceRead>,
) -> ApiResult<HttpResponse> {
    let opts = options(q.at.as_deref(), q.proofs)?;
    let agent = AgentJson::optional("agent", q.agent.as_deref())?.map(AgentJson::into_value);
    let evidence = &state.lrs.evidence;
    let person = evidence
        .person(caller.tenant(), agent.as_ref(), q.person.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(evidence.profile(caller.tenant(), person, opts).await?))
}

pub(super) async fn gaps(
    state: Data<AppState>,
    q: Query<PersonParams>,
    caller: Caller<EvidenceRead>,
) -> ApiResult<HttpResponse> {
    let opts = options(q.at.as_deref(), q.proofs)?;
    let role = q.role.as_deref().ok_or_else(|| {
        ApiError::invalid("role", "required", "role (a role item IRI) is required")
    })?;
    let agent = AgentJson::optional("agent", q.agent.as_deref())?.map(AgentJson::into_value);
    let evidence = &state.lrs.evidence;
    let person = evidence
        .person(caller.tenant(), agent.as_ref(), q.person.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(evidence.gaps(caller.tenant(), person, role, opts).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExpertParams {
    limit: Option<u64>,
    offset: Option<u64>,
    at: Option<String>,
    proofs: Option<usize>,
}

pub(super) async fn experts(
    state: Data<AppState>,
    item: ItemRef,
    q: Query<ExpertParams>,
    caller: Caller<EvidenceRead>,
) -> ApiResult<HttpResponse> {
    let tenant = caller.tenant();
    let item = state
        .lrs
        .competencies
        .item_iri(tenant, item.as_str())
        .await?;
    let opts = options(q.at.as_deref(), q.proofs.or(Some(3)))?;
    let limit = PageLimit::within(q.limit, 20, MAX_PAGE)?;
    let offset = q.offset.unwrap_or(0);
    let experts = state
        .lrs
        .evidence
        .experts(tenant, &item, offset, limit, opts)
        .await?;
    Ok(HttpResponse::Ok().json(experts))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AdjacentParams {
    /// Co-occurring items need at least this many people with both (default 1).
    min_people: Option<u64>,
}

pub(super) async fn adjacent(
    state: Data<AppState>,
    item: ItemRef,
    q: Query<AdjacentParams>,
    caller: Caller<EvidenceRead>,
) -> ApiResult<HttpResponse> {
    let tenant = caller.tenant();
    let item = state
        .lrs
        .competencies
        .item_iri(tenant, item.as_str())
        .await?;
    let min_people = q.min_people.unwrap_or(1);
    let adjacent = state
        .lrs
        .evidence
        .adjacent(tenant, &item, min_people)
        .await?;
    Ok(HttpResponse::Ok().json(adjacent))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LimitParams {
    limit: Option<u64>,
}

pub(super) async fn activities(
    state: Data<AppState>,
    item: ItemRef,
    q: Query<LimitParams>,
    caller: Caller<EvidenceRead>,
) -> ApiResult<HttpResponse> {
    let tenant = caller.tenant();
    let item = state
        .lrs
        .competencies
        .item_iri(tenant, item.as_str())
        .await?;
    let limit = PageLimit::within(q.limit, 20, MAX_PAGE)? as usize;
    let activities = state.lrs.evidence.activities(tenant, &item, limit).await?;
    Ok(HttpResponse::Ok().json(activities))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TeamListParams {
    /// The last team id of the previous page.
    after: Option<String>,
    limit: Option<u64>,
}

pub(super) async fn list_teams(
    state: Data<AppState>,
    q: Query<TeamListParams>,
    caller: Caller<EvidenceRead>,
) -> ApiResult<HttpResponse> {
    let limit = PageLimit::within(q.limit, 50, MAX_PAGE)?;
    let teams = state
        .lrs
        .evidence
        .teams(caller.tenant(), q.after.as_deref(), limit)
        .await?;
    let after = (teams.len() as u64 == limit)
        .then(|| teams.last().map(|t| t.id.clone()))
        .flatten();
    Ok(HttpResponse::Ok().json(json!({ "teams": teams, "next_after": after })))
}

pub(super) async fn create_team(
    state: Data<AppState>,
    body: Json<TeamBody>,
    caller: Caller<TeamsWrite>,
) -> ApiResult<HttpResponse> {
    super::params::check_agents(&body.members, "/members")?;
    let (team, _) = state
        .lrs
        .evidence
        .put_team(caller.tenant(), None, body.into_inner())
        .await?;
    Ok(HttpResponse::Created().json(team))
}

pub(super) async fn get_team(
    state: Data<AppState>,
    id: Path<String>,
    caller: Caller<EvidenceRead>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(state.lrs.evidence.team(caller.tenant(), &id).await?))
}

pub(super) async fn put_team(
    state: Data<AppState>,
    id: Path<String>,
    body: Json<TeamBody>,
    caller: Caller<TeamsWrite>,
) -> ApiResult<HttpResponse> {
    super::params::check_agents(&body.members, "/members")?;
    let (team, created) = state
        .lrs
        .evidence
        .put_team(caller.tenant(), Some(&id), body.into_inner())
        .await?;
    Ok(if created {
        HttpResponse::Created().json(team)
    } else {
        HttpResponse::Ok().json(team)
    })
}

pub(super) async fn delete_team(
    state: Data<AppState>,
    id: Path<String>,
    caller: Caller<TeamsWrite>,
) -> ApiResult<HttpResponse> {
    state.lrs.evidence.delete_team(caller.tenant(), &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TeamSkillParams {
    role: Option<String>,
    at: Option<String>,
}

pub(super) async fn team_skills(
    state: Data<AppState>,
    id: Path<String>,
    q: Query<TeamSkillParams>,
    caller: Caller<EvidenceRead>,
) -> ApiResult<HttpResponse> {
    let opts = options(q.at.as_deref(), None)?;
    let skills = state
        .lrs
        .evidence
        .team_skills(caller.tenant(), &id, q.role.as_deref(), opts.now_millis)
        .await?;
    Ok(HttpResponse::Ok().json(skills))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StreamParams {
    agent: Option<String>,
    person: Option<String>,
    team: Option<String>,
    /// An item IRI.
    item: Option<String>,
}

/// Server-Sent Events of new evidence for a person (by `agent` or `person` id), a team's
/// members or everyone, optionally about one item.
pub(super) async fn stream(
    state: Data<AppState>,
    q: Query<StreamParams>,
    caller: Caller<EvidenceRead>,
) -> ApiResult<HttpResponse> {
    let agent = AgentJson::optional("agent", q.agent.as_deref())?;
    let following = match (agent, &q.person, &q.team) {
        (Some(agent), _, _) => Following::Agent(agent.into_value()),
        (None, Some(person), _) => Following::Person(person.clone()),
        (None, None, Some(team)) => Following::Team(team.clone()),
        (None, None, None) => Following::Everyone,
    };
    let filter = state
        .lrs
        .evidence
        .feed_filter(caller.tenant(), following, q.item.clone())
        .await?;
    Ok(event_stream(state.lrs.feed.subscribe(), filter))
}

/// The stream's answer: `evidence` events (JSON) as statements are stored, `lagged` when
/// the subscriber fell behind, and a comment every 15 s while idle.
fn event_stream(receiver: Receiver<std::sync::Arc<FeedEvent>>, filter: FeedFilter) -> HttpResponse {
    let opening = futures_util::stream::once(async { Ok(Bytes::from_static(b": subscribed\n\n")) });
    let events = futures_util::stream::unfold((receiver, filter), |(mut rx, filter)| async move {
        loop {
            let chunk = match tokio::time::timeout(KEEP_ALIVE, rx.recv()).await {
                Err(_) => ": keep-alive\n\n".to_owned(),
                Ok(Ok(e)) if filter.accepts(&e) => {
                    let data = serde_json::to_string(&*e).unwrap_or_default();
                    format!("event: evidence\ndata: {data}\n\n")
                }
                Ok(Ok(_)) => continue,
                Ok(Err(RecvError::Lagged(missed))) => {
                    format!("event: lagged\ndata: {{\"missed\":{missed}}}\n\n")
                }
                Ok(Err(RecvError::Closed)) => return None,
            };
            return Some((Ok::<_, actix_web::Error>(Bytes::from(chunk)), (rx, filter)));
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(opening.chain(events))
}
