//! What operators and their tools ask of a running gateway: `/metrics` (Prometheus),
//! `/health/live` and `/health/ready` (load balancers, Kubernetes probes), the middleware
//! that counts and times every request, and the client side of `lrsgate health`.
//!
//! None of these routes takes credentials: probes and scrapers carry none. `/metrics`
//! says nothing about any tenant's data, and it can be moved off the public listener
//! to an address of its own (`metrics_listen`).

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::error::ApiError;
use super::AppState;
use crate::metrics::{method_label, RequestTimer, Scrape, OPENMETRICS_TEXT, PROMETHEUS_TEXT};
use crate::store::Store;

/// The route template a request matched, kept with its resource by the route table so
/// the request metrics never see a raw path.
#[derive(Clone, Copy)]
pub struct RouteTemplate(pub &'static str);

/// The route label of a request no route matched.
const UNMATCHED: &str = "unmatched";

/// How long one readiness check may take before it counts as failed; below the
/// three-second probe timeout the README suggests.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Marks the app on the `metrics_listen` address, whose `/metrics` always answers.
#[derive(Clone, Copy)]
pub struct MetricsListener;

/// Counts and times every request by route template, method and status. Wraps the
/// whole app, so 404s and answers of other middleware are counted too.
pub async fn record_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let timer = RequestTimer::start(method_label(req.method().as_str()));
    match next.call(req).await {
        Ok(res) => {
            let route = res
                .request()
                .app_data::<RouteTemplate>()
                .map_or(UNMATCHED, |r| r.0);
            timer.finish(route, res.status().as_u16());
            Ok(res)
        }
        Err(e) => {
            let status = e.as_response_error().status_code().as_u16();
            timer.finish(UNMATCHED, status);
            Err(e)
        }
    }
}

/// `GET /metrics`: the Prometheus exposition, with the store's queue and the evidence
/// journal's lag read now. On the main listener it answers 404 when `metrics_listen`
/// moves it elsewhere.
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let here = req.app_data::<MetricsListener>().is_some();
    if !here && state.settings.metrics_listen.is_some() {
        return Err(ApiError::NotFound(
            "metrics are served on the metrics_listen address".into(),
        ));
    }
    let text = scrape(&state.lrs.store).finish();
    let openmetrics = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    let content_type = if openmetrics {
        OPENMETRICS_TEXT
    } else {
        PROMETHEUS_TEXT
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static(content_type)))
        .body(text))
}

/// The process's metrics plus what the store says now.
fn scrape(store: &Store) -> Scrape {
    let mut scrape = Scrape::new();
    if let Some(queue) = &store.write_queue {
        scrape.count(
            "lrsgate_store_writer_queue_depth",
            "Write requests queued for the SQLite writer or being written",
            queue.depth() as u64,
        );
        scrape.count(
            "lrsgate_store_writer_queue_capacity",
            "The most write requests the SQLite writer admits at once",
            queue.capacity() as u64,
        );
    }
    let lag = store.ops.evidence_lag();
    scrape.count(
        "lrsgate_evidence_journal_lag_entries",
        "Evidence journal entries committed but not applied to the evidence file yet",
        lag.entries,
    );
    scrape.gauge(
        "lrsgate_evidence_journal_lag_seconds",
        "Age of the oldest evidence journal entry not applied yet",
        lag.seconds,
    );
    scrape
}

/// `GET /health/live`: the process is up and serving HTTP.
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "live" }))
}

/// `GET /health/ready`: 200 when the store answers, its migrations have run and the
/// evidence journal's lag is under `ready_max_evidence_lag_secs`; otherwise 503 naming
/// the checks that failed.
pub async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let store = &state.lrs.store;
    let reachable = match tokio::time::timeout(CHECK_TIMEOUT, store.ops.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("the store did not answer: {e}")),
        Err(_) => Err(format!(
            "the store did not answer within {} s",
            CHECK_TIMEOUT.as_secs()
        )),
    };
    let migrations = match &reachable {
        Err(_) => Err("not checked: the store is unreachable".to_owned()),
        Ok(()) => match tokio::time::timeout(CHECK_TIMEOUT, store.ops.schema_current()).await {
            Ok(Ok(current)) => current,
            Ok(Err(e)) => Err(format!("reading the schema version failed: {e}")),
            Err(_) => Err(format!(
                "reading the schema version took over {} s",
                CHECK_TIMEOUT.as_secs()
            )),
        },
    };
    let lag = store.ops.evidence_lag();
    let threshold = state.settings.ready_max_evidence_lag_secs;
    let lagging = (lag.seconds > threshold as f64).then(|| {
        format!(
            "evidence trails its journal by {:.0} s ({} entries), over the {threshold} s threshold",
            lag.seconds, lag.entries
        )
    });
    let check = |outcome: &Result<(), String>| match outcome {
        Ok(()) => json!({ "ok": true }),
        Err(e) => json!({ "ok": false, "error": e }),
    };
    let mut evidence = json!({
        "ok": lagging.is_none(),
        "entries": lag.entries,
        "seconds": lag.seconds,
        "threshold_seconds": threshold,
    });
    if let Some(e) = &lagging {
        evidence["error"] = Value::from(e.as_str());
    }
    let failed: Vec<&str> = [
        ("store", reachable.is_err()),
        ("migrations", migrations.is_err()),
        ("evidence_lag", lagging.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, failed)| failed.then_some(name))
    .collect();
    let body = json!({
        "status": if failed.is_empty() { "ready" } else { "unready" },
        "failed": failed,
        "checks": {
            "store": check(&reachable),
            "migrations": check(&migrations),
            "evidence_lag": evidence,
        },
    });
    if failed.is_empty() {
        HttpResponse::Ok().json(body)
    } else {
        tracing::warn!(?failed, "readiness check failed");
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// The URL a process on this machine reaches `listen` at: a wildcard address becomes
/// the loopback address of its family.
pub fn local_url(listen: &str, path: &str) -> String {
    let host_port = match listen.rsplit_once(':') {
        Some(("0.0.0.0", port)) => format!("127.0.0.1:{port}"),
        Some(("[::]", port)) => format!("[::1]:{port}"),
        _ => listen.to_owned(),
    };
    format!("http://{host_port}{path}")
}

/// `lrsgate health`: GETs `url` and returns its body when the answer is 2xx, or an error
/// carrying the status and body.
pub async fn probe(url: &str) -> anyhow::Result<String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()?;
    let response = client.get(url).send().await?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if status.is_success() {
        Ok(body)
    } else {
        anyhow::bail!("{url} answered {status}: {body}")
    }
}

#[cfg(test)]
mod tests {
    use super::local_url;

    #[test]
    fn wildcard_addresses_are_probed_on_loopback() {
        assert_eq!(
            local_url("0.0.0.0:8080", "/health/ready"),
            "http://127.0.0.1:8080/health/ready"
        );
        assert_eq!(local_url("[::]:80", "/x"), "http://[::1]:80/x");
        assert_eq!(local_url("10.0.0.5:9", "/x"), "http://10.0.0.5:9/x");
    }
}
