//! The HTTP surface: one route table (`routes`), thin handlers, the xAPI version header on
//! every answer.

mod about;
mod activity_map;
mod admin;
mod caller;
mod competency;
mod connectors;
mod documents;
pub mod error;
mod evidence;
pub mod limits;
pub mod multipart;
mod oauth;
mod opportunities;
pub mod ops;
pub mod params;
mod people;
mod privacy;
mod request;
pub mod routes;
mod statements;
mod ui;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

use crate::auth::{client_label, Authenticator};
use crate::config::Settings;
use crate::ingest::jobs::RetagJobs;
use crate::lrs::Lrs;
use crate::xapi::XapiVersion;

pub use request::XapiRequest;

/// What every handler can reach.
pub struct AppState {
    pub lrs: Lrs,
    pub auth: Authenticator,
    pub settings: Arc<Settings>,
    pub client_versions: ClientVersions,
    pub retag_jobs: Arc<RetagJobs>,
    /// Runs connectors: the scheduler's runtime, shared with the connectors API.
    pub connectors: crate::connectors::runtime::Runtime,
    /// Write requests being served, at most `max_inflight_writes`.
    pub writes: limits::WriteAdmission,
    /// Statement bodies being parsed and stored, at most `max_inflight_statement_bytes`.
    pub statement_room: limits::StatementRoom,
}

/// The xAPI version each credential last spoke. An answer to a request without a usable
/// version header names that version (a 1.0.3 client gets a 1.0.3 error), or the
/// configured default for a client not seen yet.
#[derive(Default)]
pub struct ClientVersions {
    last: RwLock<HashMap<String, XapiVersion>>,
}

impl ClientVersions {
    /// Bounds the memory a flood of distinct keys can take.
    const MAX_CLIENTS: usize = 10_000;

    fn remember(&self, key: String, version: XapiVersion) {
        let known = self.last.read().ok().and_then(|m| m.get(&key).copied());
        if known == Some(version) {
            return;
        }
        if let Ok(mut m) = self.last.write() {
            if m.len() >= Self::MAX_CLIENTS {
                m.clear();
            }
            m.insert(key, version);
        }
    }

    fn last(&self, key: &str) -> Option<XapiVersion> {
        self.last.read().ok().and_then(|m| m.get(key).copied())
    }
}

/// CORS for browser-based content: any origin, the xAPI headers allowed and exposed.
pub fn cors() -> Cors {
    Cors::default()
        .allow_any_origin()
        .allow_any_method()
        .allow_any_header()
        .expose_headers([
            "ETag",
            "Last-Modified",
            "Content-Type",
            "X-Experience-API-Version",
            "X-Experience-API-Consistent-Through",
        ])
        .max_age(3600)
}

/// Answers with the version the client asked for (1.0.x as 1.0.3, 2.0.x as 2.0.0).
async fn version_header(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let asked = req
        .headers()
        .get("x-experience-api-version")
        .and_then(|v| v.to_str().ok())
        .and_then(XapiVersion::parse);
    let key = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(client_label);
    let version = match req.app_data::<web::Data<AppState>>() {
        Some(state) => match (asked, key) {
            (Some(v), Some(k)) => {
                state.client_versions.remember(k, v);
                v
            }
            (Some(v), None) => v,
            (None, Some(k)) => state
                .client_versions
                .last(&k)
                .unwrap_or(state.settings.default_version),
            (None, None) => state.settings.default_version,
        },
        None => asked.unwrap_or(XapiVersion::V2),
    };
    let mut res = next.call(req).await?;
    res.headers_mut().insert(
        HeaderName::from_static("x-experience-api-version"),
        HeaderValue::from_static(version.header_value()),
    );
    Ok(res)
}

/// Every answer of the Statements resource, errors and writes included, says up to when
/// the LRS is consistent (1.0.3 Communication 2.1.3.s2.b5). Read before the handler runs,
/// so a query's answer never claims more than the query saw.
async fn consistent_through(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let through = match state {
        Some(state) => state.lrs.consistent_through().await.ok(),
        None => None,
    };
    let mut res = next.call(req).await?;
    let stamp = through
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(crate::xapi::time::format_timestamp)
        .and_then(|t| HeaderValue::from_str(&t).ok());
    if let Some(value) = stamp {
        res.headers_mut().insert(
            HeaderName::from_static("x-experience-api-consistent-through"),
            value,
        );
    }
    Ok(res)
}

/// A 204 answer.
fn no_content() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// An HTTP date for `Last-Modified`.
fn http_date(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}
