//! Skill evidence under `/api/v1`: profiles and gaps, experts, adjacent skills and the
//! activities that build a skill, teams and their skill maps, the evidence stream, and the
//! OpenAPI document of these APIs. Reads need `evidence:read`; defining teams needs
//! `people:write`.

use std::collections::HashSet;
use std::time::Duration;

use actix_web::web::{Bytes, Data, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::competency::caller;
use super::AppState;
use crate::auth::{Principal, Scope};
use crate::evidence::service::Options;
use crate::evidence::teams::TeamBody;
use crate::evidence::{FeedFilter, Person};
use crate::http::error::{ApiError, ApiResult};
use crate::store::TenantId;
use crate::xapi::time::parse_query_timestamp;

/// The OpenAPI 3.1 description of `/api/v1`.
const OPENAPI: &str = include_str!("openapi.json");

/// How often an idle stream sends a comment, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub(super) async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}

async fn reader(state: &AppState, req: &HttpRequest) -> ApiResult<Principal> {
    let p = caller(state, req).await?;
    p.require(p.scopes.has(Scope::EvidenceRead), "reading skill evidence")?;
    Ok(p)
}

async fn team_writer(state: &AppState, req: &HttpRequest) -> ApiResult<Principal> {
    let p = caller(state, req).await?;
    p.require(p.scopes.has(Scope::PeopleWrite), "defining teams")?;
    Ok(p)
}

/// The most proofs listed per score.
const MAX_PROOFS: usize = 100;

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

fn options(at: Option<&str>, proofs: Option<usize>) -> ApiResult<Options> {
    let now_millis = match at {
        None => chrono::Utc::now().timestamp_millis(),
        Some(raw) => parse_query_timestamp(raw)
            .ok_or_else(|| {
                ApiError::invalid("at", "timestamp", "at must be an ISO 8601 timestamp")
            })?
            .timestamp_millis(),
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

fn agent_param(raw: Option<&str>) -> ApiResult<Option<Value>> {
    raw.map(|a| {
        serde_json::from_str(a)
            .map_err(|e| ApiError::invalid("agent", "json", format!("agent is not JSON: {e}")))
    })
    .transpose()
}

async fn person_of(state: &AppState, tenant: TenantId, q: &PersonParams) -> ApiResult<Person> {
    let agent = agent_param(q.agent.as_deref())?;
    Ok(state
        .lrs
        .evidence
        .person(tenant, agent.as_ref(), q.person.as_deref())
        .await?)
}

pub(super) async fn profile(
    state: Data<AppState>,
    req: HttpRequest,
    q: Query<PersonParams>,
) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    let opts = options(q.at.as_deref(), q.proofs)?;
    let person = person_of(&state, p.tenant, &q).await?;
    let profile = state.lrs.evidence.profile(p.tenant, person, opts).await?;
    Ok(HttpResponse::Ok().json(profile))
}

pub(super) async fn gaps(
    state: Data<AppState>,
    req: HttpRequest,
    q: Query<PersonParams>,
) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    let opts = options(q.at.as_deref(), q.proofs)?;
    let role = q.role.as_deref().ok_or_else(|| {
        ApiError::invalid("role", "required", "role (a role item IRI) is required")
    })?;
    let person = person_of(&state, p.tenant, &q).await?;
    let gaps = state
        .lrs
        .evidence
        .gaps(p.tenant, person, role, opts)
        .await?;
    Ok(HttpResponse::Ok().json(gaps))
}

/// The item of `/competencies/{item}/…`: a percent-encoded IRI, or an item's code.
async fn item_of(state: &AppState, tenant: TenantId, req: &HttpRequest) -> ApiResult<String> {
    let raw = req.match_info().get("item").unwrap_or_default();
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| ApiError::invalid("item", "utf-8", "the item is not UTF-8"))?;
    let tagger = state.lrs.evidence.tagger(tenant).await?;
    if tagger.item(&decoded).is_some() {
        return Ok(decoded.into_owned());
    }
    let by_code = tagger
        .items()
        .find(|i| {
            i.code
                .as_deref()
                .is_some_and(|c| c.eq_ignore_ascii_case(&decoded))
        })
        .map(|i| i.iri.clone());
    by_code.ok_or_else(|| {
        ApiError::NotFound(format!(
            "no item {decoded} in an active framework (give its IRI, percent-encoded, or its code)"
        ))
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExpertParams {
    limit: Option<u64>,
    offset: Option<u64>,
    at: Option<String>,
    proofs: Option<usize>,
}

/// The largest page of experts, activities or teams.
const MAX_PAGE: u64 = 100;

fn page_limit(limit: Option<u64>, default: u64) -> ApiResult<u64> {
    match limit.unwrap_or(default) {
        0 => Err(ApiError::invalid(
            "limit",
            "range",
            "limit must be at least 1",
        )),
        n if n > MAX_PAGE => Err(ApiError::invalid(
            "limit",
            "range",
            format!("limit must be at most {MAX_PAGE}"),
        )),
        n => Ok(n),
    }
}

pub(super) async fn experts(
    state: Data<AppState>,
    req: HttpRequest,
    q: Query<ExpertParams>,
) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    let item = item_of(&state, p.tenant, &req).await?;
    let opts = options(q.at.as_deref(), q.proofs.or(Some(3)))?;
    let limit = page_limit(q.limit, 20)?;
    let experts = state
        .lrs
        .evidence
        .experts(p.tenant, &item, q.offset.unwrap_or(0), limit, opts)
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
    req: HttpRequest,
    q: Query<AdjacentParams>,
) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    let item = item_of(&state, p.tenant, &req).await?;
    let adjacent = state
        .lrs
        .evidence
        .adjacent(p.tenant, &item, q.min_people.unwrap_or(1))
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
    req: HttpRequest,
    q: Query<LimitParams>,
) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    let item = item_of(&state, p.tenant, &req).await?;
    let limit = page_limit(q.limit, 20)? as usize;
    let activities = state
        .lrs
        .evidence
        .activities(p.tenant, &item, limit)
        .await?;
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
    req: HttpRequest,
    q: Query<TeamListParams>,
) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    let limit = page_limit(q.limit, 50)?;
    let teams = state
        .lrs
        .evidence
        .teams(p.tenant, q.after.as_deref(), limit)
        .await?;
    let after = (teams.len() as u64 == limit)
        .then(|| teams.last().map(|t| t.id.clone()))
        .flatten();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "teams": teams, "next_after": after })))
}

pub(super) async fn create_team(
    state: Data<AppState>,
    req: HttpRequest,
    body: Json<TeamBody>,
) -> ApiResult<HttpResponse> {
    let p = team_writer(&state, &req).await?;
    let (team, _) = state
        .lrs
        .evidence
        .put_team(p.tenant, None, body.into_inner())
        .await?;
    Ok(HttpResponse::Created().json(team))
}

pub(super) async fn get_team(
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<String>,
) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    Ok(HttpResponse::Ok().json(state.lrs.evidence.team(p.tenant, &id).await?))
}

pub(super) async fn put_team(
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<String>,
    body: Json<TeamBody>,
) -> ApiResult<HttpResponse> {
    let p = team_writer(&state, &req).await?;
    let (team, created) = state
        .lrs
        .evidence
        .put_team(p.tenant, Some(&id), body.into_inner())
        .await?;
    Ok(if created {
        HttpResponse::Created().json(team)
    } else {
        HttpResponse::Ok().json(team)
    })
}

pub(super) async fn delete_team(
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<String>,
) -> ApiResult<HttpResponse> {
    let p = team_writer(&state, &req).await?;
    state.lrs.evidence.delete_team(p.tenant, &id).await?;
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
    req: HttpRequest,
    id: Path<String>,
    q: Query<TeamSkillParams>,
) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    let opts = options(q.at.as_deref(), None)?;
    let skills = state
        .lrs
        .evidence
        .team_skills(p.tenant, &id, q.role.as_deref(), opts.now_millis)
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

/// The people a stream is narrowed to: a person (by agent or id) or a team's members.
async fn stream_people(
    state: &AppState,
    tenant: TenantId,
    q: &StreamParams,
) -> ApiResult<Option<HashSet<String>>> {
    if let Some(agent) = agent_param(q.agent.as_deref())? {
        let person = state.lrs.people.person(tenant, &agent).await?;
        return Ok(Some(HashSet::from([person.id])));
    }
    if let Some(id) = &q.person {
        return Ok(Some(HashSet::from([id.clone()])));
    }
    let Some(team) = &q.team else {
        return Ok(None);
    };
    let team = state.lrs.evidence.team(tenant, team).await?;
    let mut people = HashSet::new();
    for member in &team.members {
        people.insert(state.lrs.people.person(tenant, member).await?.id);
    }
    Ok(Some(people))
}

/// Server-Sent Events: `evidence` events (JSON) as statements are stored, `lagged` when
/// the subscriber fell behind, and a comment every 15 s while idle.
pub(super) async fn stream(
    state: Data<AppState>,
    req: HttpRequest,
    q: Query<StreamParams>,
) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    let filter = FeedFilter {
        tenant: p.tenant,
        people: stream_people(&state, p.tenant, &q).await?,
        item: q.item.clone(),
    };
    let receiver = state.lrs.feed.subscribe();
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
    use futures_util::StreamExt as _;
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(opening.chain(events)))
}
