//! The activity-equivalence table: `GET/PUT/DELETE /api/v1/activity-equivalences`. A row
//! says that statements about `alias` (e.g. LinkedIn Learning's `urn:li:lyndaCourse:…`)
//! count as about `canonical` (the LMS's course IRI) for tagging, evidence and activity
//! statistics. Like the catalog it is tagging configuration: reads need
//! `frameworks:read` (or `frameworks:write`), changes `frameworks:write`. Rows change
//! what later statements derive; `POST /api/v1/tagging/retag` applies them to those
//! stored before.

use actix_web::web::{Data, Json, Query};
use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use super::caller::{Caller, FrameworksRead, FrameworksWrite};
use super::error::{ApiError, ApiResult};
use super::params::PageLimit;
use super::AppState;
use crate::ingest::equivalence::{PutError, MANUAL};
use crate::store::activity_map::Equivalence;
use crate::xapi::Violation;

impl From<PutError> for ApiError {
    fn from(err: PutError) -> Self {
        match err {
            PutError::Invalid(v) => ApiError::Invalid(v),
            PutError::Store(e) => e.into(),
        }
    }
}

fn view(e: &Equivalence) -> Value {
    json!({"alias": e.alias, "canonical": e.canonical, "source": e.source})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListParams {
    after: Option<String>,
    limit: Option<usize>,
}

/// A page of the table by alias; `next` is the `after` of the following page.
pub(super) async fn list_equivalences(
    state: Data<AppState>,
    params: Query<ListParams>,
    caller: Caller<FrameworksRead>,
) -> ApiResult<HttpResponse> {
    let limit = PageLimit::clamped(params.limit, 100, 1000);
    let page = state
        .lrs
        .ingest
        .activity_map()
        .list(caller.tenant(), params.after.as_deref(), limit)
        .await?;
    let next = (page.len() == limit)
        .then(|| page.last().map(|e| e.alias.clone()))
        .flatten();
    let rows: Vec<Value> = page.iter().map(view).collect();
    Ok(HttpResponse::Ok().json(json!({ "equivalences": rows, "next": next })))
}

/// Creates or replaces rows: one `{alias, canonical[, source]}` or a list of them.
pub(super) async fn put_equivalences(
    state: Data<AppState>,
    body: Json<Value>,
    caller: Caller<FrameworksWrite>,
) -> ApiResult<HttpResponse> {
    let (rows, many) = parse_rows(&body)?;
    let stored = state
        .lrs
        .ingest
        .activity_map()
        .put(caller.tenant(), rows)
        .await?;
    let views: Vec<Value> = stored.iter().map(view).collect();
    let body = match (many, views.as_slice()) {
        (false, [one]) => one.clone(),
        _ => json!({ "equivalences": views }),
    };
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeleteParams {
    alias: Option<String>,
}

/// Removes the row of `?alias=`.
pub(super) async fn delete_equivalence(
    state: Data<AppState>,
    params: Query<DeleteParams>,
    caller: Caller<FrameworksWrite>,
) -> ApiResult<HttpResponse> {
    let alias = params
        .alias
        .as_deref()
        .ok_or_else(|| ApiError::invalid("alias", "required", "alias is required"))?;
    let deleted = state
        .lrs
        .ingest
        .activity_map()
        .delete(caller.tenant(), alias)
        .await?;
    if !deleted {
        return Err(ApiError::NotFound(format!(
            "no activity equivalence has alias `{alias}`"
        )));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The rows of a PUT body, each with the JSON pointer of its place, and whether the body
/// was a list.
fn parse_rows(body: &Value) -> Result<(Vec<(String, Equivalence)>, bool), Violation> {
    match body {
        Value::Array(list) if list.is_empty() => Err(Violation::new(
            "",
            "non-empty",
            "give at least one {alias, canonical} row",
        )),
        Value::Array(list) => {
            let rows = list
                .iter()
                .enumerate()
                .map(|(i, row)| parse_row(row, &format!("/{i}")))
                .collect::<Result<_, _>>()?;
            Ok((rows, true))
        }
        row => Ok((vec![parse_row(row, "")?], false)),
    }
}

fn parse_row(row: &Value, at: &str) -> Result<(String, Equivalence), Violation> {
    let Some(fields) = row.as_object() else {
        return Err(Violation::new(
            at,
            "type",
            "a row is an object {alias, canonical[, source]}",
        ));
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "alias" | "canonical" | "source"))
    {
        return Err(Violation::new(
            format!("{at}/{unknown}"),
            "unknown-field",
            format!("`{unknown}` is not a field of a row (alias, canonical, source)"),
        ));
    }
    let text = |name: &str, required: bool| -> Result<Option<String>, Violation> {
        match fields.get(name) {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            None if !required => Ok(None),
            None => Err(Violation::new(
                format!("{at}/{name}"),
                "required",
                format!("`{name}` is required"),
            )),
            Some(_) => Err(Violation::new(
                format!("{at}/{name}"),
                "type",
                format!("`{name}` is a string"),
            )),
        }
    };
    let alias = text("alias", true)?.unwrap_or_default();
    let canonical = text("canonical", true)?.unwrap_or_default();
    let source = text("source", false)?.unwrap_or_else(|| MANUAL.to_owned());
    if source.is_empty() || source.len() > 64 {
        return Err(Violation::new(
            format!("{at}/source"),
            "length",
            "`source` names who set the row in 1 to 64 characters",
        ));
    }
    Ok((
        at.to_owned(),
        Equivalence {
            alias,
            canonical,
            source,
        },
    ))
}
