//! The competency APIs under `/api/v1/`: statement tags, frameworks (our JSON or IMS CASE),
//! tagging rules, the activity catalog and retag jobs. Every call acts in the caller's
//! tenant; reads need `frameworks:read` (or `frameworks:write`), changes `frameworks:write`,
//! and a statement's tags `evidence:read` or the right to read every statement.

use actix_web::web::{Data, Json, Path, Query};
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use super::caller::{Caller, FrameworksRead, FrameworksWrite, TagsRead};
use super::params::PageLimit;
use super::AppState;
use crate::competency::case;
use crate::competency::Alignment;
use crate::http::error::{ApiError, ApiResult};

pub(super) async fn statement_tags(
    state: Data<AppState>,
    id: Path<String>,
    caller: Caller<TagsRead>,
) -> ApiResult<HttpResponse> {
    let tags = state
        .lrs
        .competencies
        .statement_tags(caller.tenant(), &id)
        .await?;
    Ok(HttpResponse::Ok().json(tags))
}

pub(super) async fn list_frameworks(
    state: Data<AppState>,
    caller: Caller<FrameworksRead>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(state.lrs.competencies.frameworks(caller.tenant()).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateParams {
    /// Whether the new version tags statements at once (default true).
    active: Option<bool>,
}

pub(super) async fn create_framework(
    state: Data<AppState>,
    params: Query<CreateParams>,
    body: Json<Value>,
    caller: Caller<FrameworksWrite>,
) -> ApiResult<HttpResponse> {
    let view = state
        .lrs
        .competencies
        .create_framework(caller.tenant(), &body, params.active.unwrap_or(true))
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
    id: Path<String>,
    params: Query<FormatParams>,
    caller: Caller<FrameworksRead>,
) -> ApiResult<HttpResponse> {
    let view = state
        .lrs
        .competencies
        .framework(caller.tenant(), &id)
        .await?;
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
    id: Path<String>,
    body: Json<FrameworkPatch>,
    caller: Caller<FrameworksWrite>,
) -> ApiResult<HttpResponse> {
    let view = state
        .lrs
        .competencies
        .set_framework_active(caller.tenant(), &id, body.active)
        .await?;
    Ok(HttpResponse::Ok().json(view.summary))
}

pub(super) async fn delete_framework(
    state: Data<AppState>,
    id: Path<String>,
    caller: Caller<FrameworksWrite>,
) -> ApiResult<HttpResponse> {
    state
        .lrs
        .competencies
        .delete_framework(caller.tenant(), &id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) async fn list_rules(
    state: Data<AppState>,
    caller: Caller<FrameworksRead>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(state.lrs.competencies.rules(caller.tenant()).await?))
}

pub(super) async fn get_rule(
    state: Data<AppState>,
    id: Path<String>,
    caller: Caller<FrameworksRead>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(state.lrs.competencies.rule(caller.tenant(), &id).await?))
}

pub(super) async fn create_rule(
    state: Data<AppState>,
    body: Json<Value>,
    caller: Caller<FrameworksWrite>,
) -> ApiResult<HttpResponse> {
    if let Some(id) = body.get("id").and_then(Value::as_str) {
        if state
            .lrs
            .competencies
            .rule(caller.tenant(), id)
            .await
            .is_ok()
        {
            return Err(ApiError::Conflict(format!(
                "tagging rule `{id}` exists; PUT /api/v1/tagging/rules/{id} replaces it"
            )));
        }
    }
    let (rule, _) = state
        .lrs
        .competencies
        .put_rule(caller.tenant(), &body)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/tagging/rules/{}", rule.id)))
        .json(rule))
}

pub(super) async fn put_rule(
    state: Data<AppState>,
    id: Path<String>,
    body: Json<Value>,
    caller: Caller<FrameworksWrite>,
) -> ApiResult<HttpResponse> {
    let mut body = body.into_inner();
    let Some(fields) = body.as_object_mut() else {
        return Err(ApiError::invalid(
            "",
            "rule",
            "a tagging rule is a JSON object",
        ));
    };
    match fields.get("id").and_then(Value::as_str) {
        Some(given) if given != id.as_str() => {
            return Err(ApiError::invalid(
                "/id",
                "rule-id",
                format!("the body's id `{given}` is not the path's `{id}`"),
            ))
        }
        Some(_) => {}
        None => {
            fields.insert("id".into(), json!(id.as_str()));
        }
    }
    let (rule, created) = state
        .lrs
        .competencies
        .put_rule(caller.tenant(), &body)
        .await?;
    Ok(if created {
        HttpResponse::Created().json(rule)
    } else {
        HttpResponse::Ok().json(rule)
    })
}

pub(super) async fn delete_rule(
    state: Data<AppState>,
    id: Path<String>,
    caller: Caller<FrameworksWrite>,
) -> ApiResult<HttpResponse> {
    state
        .lrs
        .competencies
        .delete_rule(caller.tenant(), &id)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub(super) async fn retag(
    state: Data<AppState>,
    caller: Caller<FrameworksWrite>,
) -> ApiResult<HttpResponse> {
    let (job, started) = state
        .retag_jobs
        .start(state.lrs.ingest.clone(), caller.tenant());
    let location = ("Location", format!("/api/v1/tagging/jobs/{}", job.id));
    Ok(if started {
        HttpResponse::Accepted().insert_header(location).json(job)
    } else {
        HttpResponse::Ok().insert_header(location).json(job)
    })
}

pub(super) async fn job(
    state: Data<AppState>,
    id: Path<String>,
    caller: Caller<FrameworksRead>,
) -> ApiResult<HttpResponse> {
    let job = state
        .retag_jobs
        .get(caller.tenant(), &id)
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
    params: Query<CatalogParams>,
    caller: Caller<FrameworksRead>,
) -> ApiResult<HttpResponse> {
    let competencies = &state.lrs.competencies;
    if let Some(id) = &params.activity_id {
        let alignments = competencies.alignments(caller.tenant(), id).await?;
        return Ok(HttpResponse::Ok().json(json!({ "activityId": id, "alignments": alignments })));
    }
    let limit = PageLimit::clamped(params.limit, 100, 1000);
    let page = competencies
        .catalog(caller.tenant(), params.after.as_deref(), limit)
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
    body: Json<CatalogEntry>,
    caller: Caller<FrameworksWrite>,
) -> ApiResult<HttpResponse> {
    let CatalogEntry {
        activity_id,
        alignments,
    } = body.into_inner();
    state
        .lrs
        .competencies
        .put_alignments(caller.tenant(), &activity_id, alignments.clone())
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "activityId": activity_id, "alignments": alignments })))
}

pub(super) async fn delete_alignments(
    state: Data<AppState>,
    params: Query<CatalogParams>,
    caller: Caller<FrameworksWrite>,
) -> ApiResult<HttpResponse> {
    let id = params
        .activity_id
        .as_deref()
        .ok_or_else(|| ApiError::invalid("activityId", "required", "activityId is required"))?;
    let competencies = &state.lrs.competencies;
    competencies.alignments(caller.tenant(), id).await?;
    competencies
        .put_alignments(caller.tenant(), id, Vec::new())
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
