//! The learning-experience answers under `/api/v1`: opportunities and their candidates,
//! the opportunities a person fits, upskilling needs for a role, and a person's
//! recommendations. Reads need `evidence:read`; writing opportunities needs
//! `opportunities:write`.
//!
//! Paged answers take `limit` and `cursor` (an opaque position from the previous answer's
//! `more`, which is the path and query of the next page).

use actix_web::web::{Data, Json, Path, Query};
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use super::caller::{Caller, EvidenceRead, OpportunitiesWrite};
use super::error::{ApiError, ApiResult};
use super::params::{AgentJson, PageLimit, Timestamp};
use super::AppState;
use crate::evidence::service::Options;

/// The largest page.
const MAX_PAGE: u64 = 100;
/// The most proofs listed per need.
const MAX_PROOFS: usize = 100;

/// The furthest page position: far past any answer, and small enough that positions add
/// without overflow.
const MAX_CURSOR: u64 = 999_999_999_999_999;

/// A page position: a non-negative whole number (at most 15 digits).
fn cursor_of(raw: Option<&str>) -> ApiResult<u64> {
    match raw {
        None => Ok(0),
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|c| *c <= MAX_CURSOR)
            .ok_or_else(|| {
                ApiError::invalid(
                    "cursor",
                    "cursor",
                    "cursor is the `more` of a previous answer",
                )
            }),
    }
}

/// `more`: the path and query of the next page.
fn more(path: &str, extra: &[(&str, &str)], limit: u64, next: Option<u64>) -> Option<String> {
    let next = next?;
    let mut query: Vec<String> = extra
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencoding(v)))
        .collect();
    query.push(format!("limit={limit}"));
    query.push(format!("cursor={next}"));
    Some(format!("{path}?{}", query.join("&")))
}

/// Everything but the unreserved characters (RFC 3986 §2.3) is encoded.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn urlencoding(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, COMPONENT).to_string()
}

fn options(at: Option<&str>, proofs: Option<usize>) -> ApiResult<Options> {
    let now_millis = match Timestamp::optional("at", at)? {
        Some(at) => at,
        None => chrono::Utc::now().timestamp_millis(),
    };
    let proofs = proofs.unwrap_or(3);
    if proofs > MAX_PROOFS {
        return Err(ApiError::invalid(
            "proofs",
            "range",
            format!("proofs must be at most {MAX_PROOFS}"),
        ));
    }
    Ok(Options { now_millis, proofs })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListParams {
    /// `open` or `closed`.
    status: Option<String>,
    /// The last id of the previous page.
    after: Option<String>,
    limit: Option<u64>,
}

pub(super) async fn list_opportunities(
    state: Data<AppState>,
    q: Query<ListParams>,
    caller: Caller<EvidenceRead>,
) -> ApiResult<HttpResponse> {
    let limit = PageLimit::within(q.limit, 50, MAX_PAGE)?;
    if let Some(status) = q.status.as_deref() {
        if !crate::evidence::opportunities::STATUSES.contains(&status) {
            return Err(ApiError::invalid(
                "status",
                "enum",
                "status is open or closed",
            ));
        }
    }
    let list = state
        .lrs
        .evidence
        .opportunities(
            caller.tenant(),
            q.status.as_deref(),
            q.after.as_deref(),
            limit,
        )
        .await?;
    let after = (list.len() as u64 == limit)
        .then(|| list.last().map(|o| o.id.clone()))
        .flatten();
    Ok(HttpResponse::Ok().json(json!({ "opportunities": list, "next_after": after })))
}

pub(super) async fn create_opportunity(
    state: Data<AppState>,
    body: Json<Value>,
    caller: Caller<OpportunitiesWrite>,
) -> ApiResult<HttpResponse> {
    let (opportunity, _) = state
        .lrs
        .evidence
        .put_opportunity(caller.tenant(), None, &body)
        .await?;
    Ok(HttpResponse::Created().json(opportunity))
}

pub(super) async fn get_opportunity(
    state: Data<AppState>,
    id: Path<String>,
    caller: Caller<EvidenceRead>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(state.lrs.evidence.opportunity(caller.tenant(), &id).await?))
}

pub(super) async fn put_opportunity(
    state: Data<AppState>,
    id: Path<String>,
    body: Json<Value>,
    caller: Caller<OpportunitiesWrite>,
) -> ApiResult<HttpResponse> {
    let (opportunity, created) = state
        .lrs
        .evidence
        .put_opportunity(caller.tenant(), Some(&id), &body)
        .await?;
    Ok(if created {
        HttpResponse::Created().json(opportunity)
    } else {
        HttpResponse::Ok().json(opportunity)
    })
}

pub(super) async fn delete_opportunity(
    state: Data<AppState>,
    id: Path<String>,
    caller: Caller<OpportunitiesWrite>,
) -> ApiResult<HttpResponse> {
    state
        .lrs
        .evidence
        .delete_opportunity(caller.tenant(), &id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CandidateParams {
    limit: Option<u64>,
    cursor: Option<String>,
    at: Option<String>,
    proofs: Option<usize>,
}

pub(super) async fn candidates(
    state: Data<AppState>,
    id: Path<String>,
    q: Query<CandidateParams>,
    caller: Caller<EvidenceRead>,
) -> ApiResult<HttpResponse> {
    let opts = options(q.at.as_deref(), q.proofs)?;
    let limit = PageLimit::within(q.limit, 20, MAX_PAGE)?;
    let offset = cursor_of(q.cursor.as_deref())?;
    let answer = state
        .lrs
        .evidence
        .candidates(caller.tenant(), &id, offset, limit, opts)
        .await?;
    let path = format!("/api/v1/opportunities/{}/candidates", urlencoding(&id));
    let mut body = serde_json::to_value(&answer).map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(more) = more(&path, &[], limit, answer.next_offset) {
        body["more"] = json!(more);
    }
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PersonParams {
    agent: Option<String>,
    person: Option<String>,
    limit: Option<u64>,
    at: Option<String>,
    proofs: Option<usize>,
    /// A role (item IRI), for recommendations.
    role: Option<String>,
}

pub(super) async fn person_opportunities(
    state: Data<AppState>,
    q: Query<PersonParams>,
    caller: Caller<EvidenceRead>,
) -> ApiResult<HttpResponse> {
    if q.role.is_some() {
        return Err(ApiError::invalid(
            "role",
            "unknown-parameter",
            "role is for recommendations",
        ));
    }
    let opts = options(q.at.as_deref(), q.proofs)?;
    let limit = PageLimit::within(q.limit, 10, MAX_PAGE)? as usize;
    let agent = AgentJson::optional("agent", q.agent.as_deref())?.map(AgentJson::into_value);
    let evidence = &state.lrs.evidence;
    let person = evidence
        .person(caller.tenant(), agent.as_ref(), q.person.as_deref())
        .await?;
    let answer = evidence
        .person_opportunities(caller.tenant(), person, limit, opts)
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

pub(super) async fn recommendations(
    state: Data<AppState>,
    q: Query<PersonParams>,
    caller: Caller<EvidenceRead>,
) -> ApiResult<HttpResponse> {
    let opts = options(q.at.as_deref(), q.proofs)?;
    let limit = PageLimit::within(q.limit, 10, MAX_PAGE)? as usize;
    let agent = AgentJson::optional("agent", q.agent.as_deref())?.map(AgentJson::into_value);
    let tenant = caller.tenant();
    let role = q.role.clone();
    let evidence = &state.lrs.evidence;
    let person = evidence
        .person(tenant, agent.as_ref(), q.person.as_deref())
        .await?;
    let answer = evidence
        .recommendations(tenant, person, agent, role.as_deref(), limit, opts)
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UpskillingParams {
    role: Option<String>,
    team: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

pub(super) async fn upskilling(
    state: Data<AppState>,
    q: Query<UpskillingParams>,
    caller: Caller<EvidenceRead>,
) -> ApiResult<HttpResponse> {
    let tenant = caller.tenant();
    let role = q.role.as_deref().ok_or_else(|| {
        ApiError::invalid("role", "required", "role (a role item IRI) is required")
    })?;
    let role = role.to_owned();
    let limit = PageLimit::within(q.limit, 20, MAX_PAGE)?;
    let offset = cursor_of(q.cursor.as_deref())?;
    let now = chrono::Utc::now().timestamp_millis();
    let answer = state
        .lrs
        .evidence
        .upskilling(tenant, &role, q.team.as_deref(), offset, limit, now)
        .await?;
    let mut extra = vec![("role", role.as_str())];
    if let Some(team) = q.team.as_deref() {
        extra.push(("team", team));
    }
    let mut body = serde_json::to_value(&answer).map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(more) = more("/api/v1/upskilling", &extra, limit, answer.next_offset) {
        body["more"] = json!(more);
    }
    Ok(HttpResponse::Ok().json(body))
}
