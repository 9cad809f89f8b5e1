//! The competency APIs under `/api/v1/`: statement tags, frameworks (our JSON or IMS CASE),
//! tagging rules, the activity catalog and retag jobs. Every call acts in the caller's
//! tenant; reads need `frameworks:read` (or `frameworks:write`), changes `frameworks:write`,
//! and a statement's tags `evidence:read` or the right to read every statement.

use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::AppState;
use crate::auth::{Principal, Scope, StatementReads};
use crate::competency::case;
use crate::competency::Alignment;
use crate::http::error::{ApiError, ApiResult};

/// The authenticated caller of a gateway API.
pub(super) async fn caller(state: &AppState, req: &HttpRequest) -> ApiResult<Principal> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    Ok(state.auth.authenticate(header).await?)
}

async fn reader(state: &AppState, req: &HttpRequest) -> ApiResult<Principal> {
    let p = caller(state, req).await?;
    let s = &p.scopes;
    p.require(
        s.has(Scope::FrameworksRead) || s.has(Scope::FrameworksWrite),
        "reading frameworks, rules and the catalog",
    )?;
    Ok(p)
}

async fn writer(state: &AppState, req: &HttpRequest) -> ApiResult<Principal> {
    let p = caller(state, req).await?;
    p.require(
        p.scopes.has(Scope::FrameworksWrite),
        "changing frameworks, rules and the catalog",
    )?;
    Ok(p)
}

pub(super) async fn statement_tags(
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<String>,
) -> ApiResult<HttpResponse> {
    let p = caller(&state, &req).await?;
    let s = &p.scopes;
    p.require(
        s.has(Scope::EvidenceRead) || s.statement_reads() == Some(StatementReads::All),
        "reading statement tags",
    )?;
    let tags = state.lrs.competencies.statement_tags(p.tenant, &id).await?;
    Ok(HttpResponse::Ok().json(tags))
}

pub(super) async fn list_frameworks(
    state: Data<AppState>,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    Ok(HttpResponse::Ok().json(state.lrs.competencies.frameworks(p.tenant).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateParams {
    /// Whether the new version tags statements at once (default true).
    active: Option<bool>,
}

pub(super) async fn create_framework(
    state: Data<AppState>,
    req: HttpRequest,
    params: Query<CreateParams>,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    let p = writer(&state, &req).await?;
    let view = state
        .lrs
        .competencies
        .create_framework(p.tenant, &body, params.active.unwrap_or(true))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/frameworks/{}", view.summary.id),
        ))
        .json(view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FormatParams {
    /// `case` for an IMS CASE package; our JSON otherwise.
    format: Option<String>,
}

pub(super) async fn get_framework(
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<String>,
    params: Query<FormatParams>,
) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    let view = state.lrs.competencies.framework(p.tenant, &id).await?;
    match params.format.as_deref() {
        None | Some("json") => Ok(HttpResponse::Ok().json(view)),
        Some("case") => {
            Ok(HttpResponse::Ok().json(case::export(&view.framework, &view.summary.updated)))
        }
        Some(other) => Err(ApiError::invalid(
            "format",
            "framework-format",
            format!("format `{other}` is not `json` or `case`"),
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FrameworkPatch {
    active: bool,
}

pub(super) async fn patch_framework(
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<String>,
    body: Json<FrameworkPatch>,
) -> ApiResult<HttpResponse> {
    let p = writer(&state, &req).await?;
    let view = state
        .lrs
        .competencies
        .set_framework_active(p.tenant, &id, body.active)
        .await?;
    Ok(HttpResponse::Ok().json(view.summary))
}

pub(super) async fn delete_framework(
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<String>,
) -> ApiResult<HttpResponse> {
    let p = writer(&state, &req).await?;
    state
        .lrs
        .competencies
        .delete_framework(p.tenant, &id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) async fn list_rules(state: Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    Ok(HttpResponse::Ok().json(state.lrs.competencies.rules(p.tenant).await?))
}

pub(super) async fn get_rule(
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<String>,
) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    Ok(HttpResponse::Ok().json(state.lrs.competencies.rule(p.tenant, &id).await?))
}

pub(super) async fn create_rule(
    state: Data<AppState>,
    req: HttpRequest,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    let p = writer(&state, &req).await?;
    if let Some(id) = body.get("id").and_then(Value::as_str) {
        if state.lrs.competencies.rule(p.tenant, id).await.is_ok() {
            return Err(ApiError::Conflict(format!(
                "tagging rule `{id}` exists; PUT /api/v1/tagging/rules/{id} replaces it"
            )));
        }
    }
    let (rule, _) = state.lrs.competencies.put_rule(p.tenant, &body).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/tagging/rules/{}", rule.id)))
        .json(rule))
}

pub(super) async fn put_rule(
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<String>,
    body: Json<Value>,
) -> ApiResult<HttpResponse> {
    let p = writer(&state, &req).await?;
    let mut body = body.into_inner();
    match body.get("id").and_then(Value::as_str) {
        Some(given) if given != id.as_str() => {
            return Err(ApiError::invalid(
                "/id",
                "rule-id",
                format!("the body's id `{given}` is not the path's `{id}`"),
            ))
        }
        Some(_) => {}
        None => body["id"] = json!(id.as_str()),
    }
    let (rule, created) = state.lrs.competencies.put_rule(p.tenant, &body).await?;
    Ok(if created {
        HttpResponse::Created().json(rule)
    } else {
        HttpResponse::Ok().json(rule)
    })
}

pub(super) async fn delete_rule(
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<String>,
) -> ApiResult<HttpResponse> {
    let p = writer(&state, &req).await?;
    state.lrs.competencies.delete_rule(p.tenant, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) async fn retag(state: Data<AppState>, req: HttpRequest) -> ApiResult<HttpResponse> {
    let p = writer(&state, &req).await?;
    let (job, started) = state
        .retag_jobs
        .start(state.lrs.ingest.clone(), p.tenant);
    let location = ("Location", format!("/api/v1/tagging/jobs/{}", job.id));
    Ok(if started {
        HttpResponse::Accepted().insert_header(location).json(job)
    } else {
        HttpResponse::Ok().insert_header(location).json(job)
    })
}

pub(super) async fn job(
    state: Data<AppState>,
    req: HttpRequest,
    id: Path<String>,
) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    let job = state
        .retag_jobs
        .get(p.tenant, &id)
        .ok_or_else(|| ApiError::NotFound(format!("no retag job {id}")))?;
    Ok(HttpResponse::Ok().json(job))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct CatalogParams {
    activity_id: Option<String>,
    after: Option<String>,
    limit: Option<usize>,
}

/// One activity's alignments (`?activityId=`), or a page of the catalog.
pub(super) async fn catalog(
    state: Data<AppState>,
    req: HttpRequest,
    params: Query<CatalogParams>,
) -> ApiResult<HttpResponse> {
    let p = reader(&state, &req).await?;
    let competencies = &state.lrs.competencies;
    if let Some(id) = &params.activity_id {
        let alignments = competencies.alignments(p.tenant, id).await?;
        return Ok(HttpResponse::Ok().json(json!({ "activityId": id, "alignments": alignments })));
    }
    let limit = params.limit.unwrap_or(100).clamp(1, 1000);
    let page = competencies
        .catalog(p.tenant, params.after.as_deref(), limit)
        .await?;
    let next = (page.len() == limit)
        .then(|| page.last().map(|(id, _)| id.clone()))
        .flatten();
    let entries: Vec<Value> = page
        .into_iter()
        .map(|(id, alignments)| json!({ "activityId": id, "alignments": alignments }))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "activities": entries, "next": next })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct CatalogEntry {
    activity_id: String,
    alignments: Vec<Alignment>,
}

pub(super) async fn put_alignments(
    state: Data<AppState>,
    req: HttpRequest,
    body: Json<CatalogEntry>,
) -> ApiResult<HttpResponse> {
    let p = writer(&state, &req).await?;
    let CatalogEntry {
        activity_id,
        alignments,
    } = body.into_inner();
    state
        .lrs
        .competencies
        .put_alignments(p.tenant, &activity_id, alignments.clone())
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "activityId": activity_id, "alignments": alignments })))
}

pub(super) async fn delete_alignments(
    state: Data<AppState>,
    req: HttpRequest,
    params: Query<CatalogParams>,
) -> ApiResult<HttpResponse> {
    let p = writer(&state, &req).await?;
    let id = params
        .activity_id
        .as_deref()
        .ok_or_else(|| ApiError::invalid("activityId", "required", "activityId is required"))?;
    let competencies = &state.lrs.competencies;
    competencies.alignments(p.tenant, id).await?;
    competencies
        .put_alignments(p.tenant, id, Vec::new())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
