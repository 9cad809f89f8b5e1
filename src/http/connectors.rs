//! Connectors under `/api/v1/connectors`: configure (a JSON object with the connector's
//! `kind`, its fields, `every_minutes` and `enabled`), list and read with status, delete,
//! run now, and a forwarder's dead letters (list, replay). Reads need `connectors:read`
//! (or `connectors:write`), everything else `connectors:write`. Secret fields
//! (`client_secret`, `password`, `token`, `secret`, and names ending so) are shown as
//! `***`; a configuration sent back with `***` keeps the stored secret.

use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data, Json, Path, Query};
use actix_web::HttpResponse;
use chrono::{SecondsFormat, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::caller::{Caller, ConnectorsRead, ConnectorsWrite};
use super::AppState;
use crate::connectors::runtime::{
    check_id, is_secret_field, masked, status_of, unmask, Connector, RunError, Schedule, Trigger,
    MASK,
};
use crate::connectors::RunOutcome;
use crate::http::error::{ApiError, ApiResult};
use crate::store::connectors::ConnectorRecord;
use crate::store::TenantId;

/// Dead letters listed when the request sets no `limit`, and the cap on it.
const DEAD_LETTERS_PAGE: usize = 1000;

fn timestamp(millis: Option<i64>) -> Value {
    millis
        .and_then(|m| Utc.timestamp_millis_opt(m).single())
        .map_or(Value::Null, |t| {
            Value::from(t.to_rfc3339_opts(SecondsFormat::Millis, true))
        })
}

/// The first `high_water_mark`-like member of a connector's state (at its top level or
/// one level down), as the connector saved it.
fn high_water_mark(state: &Value) -> Value {
    let hit = |map: &serde_json::Map<String, Value>| {
        map.iter()
            .find(|(k, v)| k.contains("high_water") && !v.is_null())
            .map(|(_, v)| v.clone())
    };
    let Some(map) = state.as_object() else {
        return Value::Null;
    };
    hit(map)
        .or_else(|| map.values().filter_map(Value::as_object).find_map(hit))
        .unwrap_or(Value::Null)
}

/// A connector as the API shows it: its configuration (secrets masked) and its status.
async fn view(state: &AppState, tenant: TenantId, record: &ConnectorRecord) -> ApiResult<Value> {
    let store = &state.lrs.store;
    let (status, own_state) = status_of(store, tenant, &record.id).await?;
    let now = Utc::now().timestamp_millis();
    let parsed = Connector::parse(&record.id, &record.config);
    let schedule = Schedule::of(&record.config).ok();
    let next_run = schedule.and_then(|s| s.next_run_millis(&status, now).map(|n| n.max(now)));
    let health = if status.running_since_millis.is_some() {
        "running"
    } else if parsed.is_err() || status.consecutive_failures > 0 {
        "failing"
    } else if status.runs == 0 {
        "never-run"
    } else {
        "ok"
    };
    let own_state = own_state.unwrap_or(Value::Null);
    Ok(json!({
        "id": record.id,
        "kind": record.config.get("kind").cloned().unwrap_or(Value::Null),
        "enabled": schedule.is_none_or(|s| s.enabled),
        "every_minutes": schedule.and_then(|s| s.every_minutes),
        "config": masked(&record.config),
        "config_error": parsed.err().map(|e| e.to_string()),
        "updated": timestamp(Some(record.updated_millis)),
        "status": {
            "health": health,
            "running": status.running_since_millis.is_some(),
            "running_since": timestamp(status.running_since_millis),
            "running_here": state.connectors.is_running_here(tenant, &record.id),
            "last_started": timestamp(status.last_started_millis),
            "last_finished": timestamp(status.last_finished_millis),
            "last_success": timestamp(status.last_success_millis),
            "next_run": timestamp(next_run),
            "last_error": status.last_error,
            "consecutive_failures": status.consecutive_failures,
            "runs": status.runs,
            "failures": status.failures,
            "last_outcome": status.last_outcome,
            "totals": status.totals,
            "high_water_mark": high_water_mark(&own_state),
        },
        "state": masked(&own_state),
    }))
}

async fn record_of(state: &AppState, tenant: TenantId, id: &str) -> ApiResult<ConnectorRecord> {
    state
        .lrs
        .store
        .connectors
        .connector(tenant, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no connector `{id}`")))
}

pub(super) async fn list(
    state: Data<AppState>,
    caller: Caller<ConnectorsRead>,
) -> ApiResult<HttpResponse> {
    let tenant = caller.tenant();
    let records = state.lrs.store.connectors.connectors(tenant).await?;
    let mut connectors = Vec::with_capacity(records.len());
    for record in &records {
        connectors.push(view(&state, tenant, record).await?);
    }
    Ok(HttpResponse::Ok().json(json!({ "connectors": connectors })))
}

pub(super) async fn get(
    state: Data<AppState>,
    id: Path<String>,
    caller: Caller<ConnectorsRead>,
) -> ApiResult<HttpResponse> {
    let record = record_of(&state, caller.tenant(), &id).await?;
    Ok(HttpResponse::Ok().json(view(&state, caller.tenant(), &record).await?))
}

/// The JSON pointer of a secret field still `***` (shown masked, with nothing stored to
/// keep).
fn masked_secret(value: &Value, at: &str) -> Option<String> {
    match value {
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
            if is_secret_field(k) && v.as_str() == Some(MASK) {
                Some(here)
            } else {
                masked_secret(v, &here)
            }
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| masked_secret(v, &format!("{at}/{i}"))),
        _ => None,
    }
}

pub(super) async fn put(
    state: Data<AppState>,
    id: Path<String>,
    body: Json<Value>,
    caller: Caller<ConnectorsWrite>,
) -> ApiResult<HttpResponse> {
    let tenant = caller.tenant();
    check_id(&id).map_err(|e| ApiError::invalid("id", "connector-id", e.message))?;
    let connectors = &state.lrs.store.connectors;
    let mut config = body.into_inner();
    if let Some(stored) = connectors.connector(tenant, &id).await? {
        unmask(&mut config, &stored.config);
    }
    if let Some(pointer) = masked_secret(&config, "") {
        return Err(ApiError::invalid(
            pointer,
            "connector-secret",
            "this secret is `***` and none is stored to keep: send its value",
        ));
    }
    Connector::parse(&id, &config)
        .map_err(|e| ApiError::invalid(e.pointer, "connector-config", e.message))?;
    let record = ConnectorRecord {
        id: id.into_inner(),
        config,
        updated_millis: Utc::now().timestamp_millis(),
    };
    let created = connectors.put_connector(tenant, record.clone()).await?;
    tracing::info!(tenant, connector = %record.id, created, "connector configured");
    let body = view(&state, tenant, &record).await?;
    Ok(if created {
        HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/connectors/{}", record.id)))
            .json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}

pub(super) async fn delete(
    state: Data<AppState>,
    id: Path<String>,
    caller: Caller<ConnectorsWrite>,
) -> ApiResult<HttpResponse> {
    let tenant = caller.tenant();
    if state
        .lrs
        .store
        .connectors
        .delete_connector(tenant, &id)
        .await?
    {
        tracing::info!(tenant, connector = %id, "connector deleted");
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(ApiError::NotFound(format!("no connector `{id}`")))
    }
}

/// A run's failure as an answer: busy is 409, a failed run 502 (the other side or the
/// connector's configuration failed; its status keeps the error).
fn run_error(e: RunError) -> ApiResult<HttpResponse> {
    match e {
        RunError::NotFound(id) => Err(ApiError::NotFound(format!("no connector `{id}`"))),
        RunError::Busy(message) => Err(ApiError::Conflict(message)),
        RunError::Unsupported(message) => {
            Err(ApiError::invalid("kind", "connector-dead-letters", message))
        }
        RunError::Failed(message) => Ok(HttpResponse::build(StatusCode::BAD_GATEWAY)
            .json(json!({"error": {"code": "connector_failed", "message": message}}))),
        RunError::NotDue => Err(ApiError::Conflict("the connector is not due".into())),
        RunError::Store(e) => Err(e.into()),
    }
}

fn outcome_json(outcome: &RunOutcome) -> Value {
    json!({
        "read": outcome.read,
        "stored": outcome.stored,
        "rejected": outcome.rejected,
    })
}

pub(super) async fn run(
    state: Data<AppState>,
    id: Path<String>,
    caller: Caller<ConnectorsWrite>,
) -> ApiResult<HttpResponse> {
    let (runtime, tenant, id) = (state.connectors.clone(), caller.tenant(), id.into_inner());
    // In its own task, so a client that goes away does not cut the run short.
    let task = tokio::spawn(async move { runtime.run(tenant, &id, Trigger::Manual).await });
    let result = task
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the connector run panicked: {e}")))?;
    match result {
        Ok(report) => Ok(HttpResponse::Ok().json(json!({
            "connector": report.connector,
            "started": timestamp(Some(report.started_millis)),
            "finished": timestamp(Some(report.finished_millis)),
            "outcome": outcome_json(&report.outcome),
        }))),
        Err(e) => run_error(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeadLetterParams {
    limit: Option<usize>,
}

pub(super) async fn dead_letters(
    state: Data<AppState>,
    id: Path<String>,
    params: Query<DeadLetterParams>,
    caller: Caller<ConnectorsRead>,
) -> ApiResult<HttpResponse> {
    let tenant = caller.tenant();
    record_of(&state, tenant, &id).await?;
    let limit = match params.limit {
        None | Some(0) => DEAD_LETTERS_PAGE,
        Some(n) => n.min(DEAD_LETTERS_PAGE),
    };
    let letters = state
        .lrs
        .store
        .connectors
        .dead_letters(tenant, &id, limit)
        .await?;
    let letters: Vec<Value> = letters
        .iter()
        .map(|l| {
            json!({
                "statement_id": l.statement_id,
                "error": l.error,
                "attempts": l.attempts,
                "failed": timestamp(Some(l.failed_millis)),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "dead_letters": letters })))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ReplayBody {
    /// Statement ids to send again; absent or empty: every dead letter.
    #[serde(default)]
    ids: Vec<String>,
}

pub(super) async fn replay(
    state: Data<AppState>,
    id: Path<String>,
    body: Bytes,
    caller: Caller<ConnectorsWrite>,
) -> ApiResult<HttpResponse> {
    let ids = if body.iter().all(u8::is_ascii_whitespace) {
        Vec::new()
    } else {
        serde_json::from_slice::<ReplayBody>(&body)
            .map_err(|e| ApiError::invalid("body", "json", e.to_string()))?
            .ids
    };
    let (runtime, tenant, id) = (state.connectors.clone(), caller.tenant(), id.into_inner());
    let task = tokio::spawn(async move { runtime.replay(tenant, &id, &ids).await });
    let result = task
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("the replay panicked: {e}")))?;
    match result {
        Ok(outcome) => Ok(HttpResponse::Ok().json(outcome_json(&outcome))),
        Err(e) => run_error(e),
    }
}
