//! The document resources (State, Activity Profile, Agent Profile) and the Activities and
//! Agents resources.

use actix_web::http::Method;
use actix_web::web::Data;
use actix_web::HttpResponse;
use serde_json::Value;

use super::{http_date, no_content, AppState, XapiRequest};
use crate::http::error::{ApiError, ApiResult};
use crate::lrs::documents::Upload;
use crate::store::DocumentScope;
use crate::xapi::agent::ifi_key;
use crate::xapi::document::{MissingPrecondition, Preconditions, WriteMode};
use crate::xapi::rules::is_iri;
use crate::xapi::time::parse_query_timestamp;
use crate::xapi::XapiVersion;

/// Which document resource a request is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Resource {
    State,
    ActivityProfile,
    AgentProfile,
}

impl Resource {
    fn id_param(self) -> &'static str {
        match self {
            Resource::State => "stateId",
            Resource::ActivityProfile | Resource::AgentProfile => "profileId",
        }
    }

    fn params(self) -> &'static [&'static str] {
        match self {
            Resource::State => &["activityId", "agent", "registration", "stateId", "since"],
            Resource::ActivityProfile => &["activityId", "profileId", "since"],
            Resource::AgentProfile => &["agent", "profileId", "since"],
        }
    }

    /// What a PUT without `If-Match`/`If-None-Match` gets: 409 over an existing profile
    /// (1.0.3 Communication 3.1.s4.b13) or, in 2.0 (IEEE 9274.1.1 4.1.4), over an existing
    /// document of any kind; a document that does not exist yet is created. 1.0.3 lets
    /// State documents be replaced without headers (Communication 3.1.s3).
    fn when_precondition_missing(
        self,
        version: XapiVersion,
        method: &Method,
    ) -> MissingPrecondition {
        match (self, version) {
            _ if *method != Method::PUT => MissingPrecondition::Allowed,
            (Resource::State, XapiVersion::V1) => MissingPrecondition::Allowed,
            _ => MissingPrecondition::Conflict,
        }
    }
}

pub async fn state(state: Data<AppState>, x: XapiRequest) -> ApiResult<HttpResponse> {
    document(&state, x, Resource::State).await
}

pub async fn activity_profile(state: Data<AppState>, x: XapiRequest) -> ApiResult<HttpResponse> {
    document(&state, x, Resource::ActivityProfile).await
}

pub async fn agent_profile(state: Data<AppState>, x: XapiRequest) -> ApiResult<HttpResponse> {
    document(&state, x, Resource::AgentProfile).await
}

fn activity_id(x: &XapiRequest) -> ApiResult<String> {
    let id = x.required("activityId")?;
    if !is_iri(id) {
        return Err(ApiError::invalid(
            "activityId",
            "iri",
            format!("`{id}` is not an IRI"),
        ));
    }
    Ok(id.to_owned())
}

/// The `agent` parameter, validated, with its IFI key.
fn agent_param(state: &AppState, x: &XapiRequest) -> ApiResult<(Value, String)> {
    let raw = x.required("agent")?;
    let agent: Value = serde_json::from_str(raw).map_err(|_| {
        ApiError::invalid(
            "agent",
            "agent",
            "the agent parameter must be an Agent as JSON",
        )
    })?;
    state
        .lrs
        .validator
        .actor(x.version, &agent)
        .map_err(|v| ApiError::Invalid(v.under("agent")))?;
    let key = ifi_key(&agent)
        .ok_or_else(|| ApiError::invalid("agent", "agent", "the agent must have an identifier"))?;
    Ok((agent, key))
}

fn scope_of(state: &AppState, x: &XapiRequest, resource: Resource) -> ApiResult<DocumentScope> {
    Ok(match resource {
        Resource::State => {
            let registration = match x.param("registration") {
                None => None,
                Some(r) => Some(
                    uuid::Uuid::parse_str(r)
                        .ok()
                        .filter(|_| r.len() == 36)
                        .map(|u| u.hyphenated().to_string())
                        .ok_or_else(|| {
                            ApiError::invalid(
                                "registration",
                                "uuid",
                                format!("`{r}` is not a UUID"),
                            )
                        })?,
                ),
            };
            DocumentScope::State {
                activity_id: activity_id(x)?,
                agent: agent_param(state, x)?.1,
                registration,
            }
        }
        Resource::ActivityProfile => DocumentScope::ActivityProfile {
            activity_id: activity_id(x)?,
        },
        Resource::AgentProfile => DocumentScope::AgentProfile {
            agent: agent_param(state, x)?.1,
        },
    })
}

fn preconditions(x: &XapiRequest, resource: Resource) -> Preconditions {
    Preconditions {
        if_match: x.header("if-match").map(Preconditions::parse_tags),
        if_none_match: x.header("if-none-match").map(Preconditions::parse_tags),
        when_missing: resource.when_precondition_missing(x.version, &x.method),
    }
}

fn since_param(x: &XapiRequest) -> ApiResult<Option<i64>> {
    x.param("since")
        .map(|v| {
            parse_query_timestamp(v)
                .map(|t| t.timestamp_millis())
                .ok_or_else(|| {
                    ApiError::invalid(
                        "since",
                        "timestamp",
                        format!("`{v}` is not an ISO 8601 timestamp"),
                    )
                })
        })
        .transpose()
}

async fn document(state: &AppState, x: XapiRequest, resource: Resource) -> ApiResult<HttpResponse> {
    let write = !matches!(x.method, Method::GET | Method::HEAD);
    let scopes = &x.principal.scopes;
    match resource {
        Resource::State => x
            .principal
            .require(scopes.can_state(write), "this use of State documents")?,
        _ => x
            .principal
            .require(scopes.can_profile(write), "this use of profile documents")?,
    }
    x.only_params(resource.params())?;
    let scope = scope_of(state, &x, resource)?;
    let tenant = x.principal.tenant;
    let id = x.param(resource.id_param()).map(str::to_owned);
    if id.is_some() && x.param("since").is_some() {
        return Err(ApiError::invalid(
            "since",
            "since",
            format!(
                "`since` lists ids; it cannot be combined with {}",
                resource.id_param()
            ),
        ));
    }
    let lrs = &state.lrs;
    match (x.method.clone(), id) {
        (Method::GET | Method::HEAD, Some(id)) => {
            let doc = lrs.document(tenant, &scope, &id).await?;
            Ok(HttpResponse::Ok()
                .content_type(doc.content_type.clone())
                .insert_header(("ETag", format!("\"{}\"", doc.etag)))
                .insert_header(("Last-Modified", http_date(doc.updated_millis)))
                .body(doc.content))
        }
        (Method::GET | Method::HEAD, None) => {
            let ids = lrs.document_ids(tenant, &scope, since_param(&x)?).await?;
            Ok(HttpResponse::Ok().json(ids))
        }
        (method @ (Method::PUT | Method::POST), Some(id)) => {
            let mode = if method == Method::PUT {
                WriteMode::Replace
            } else {
                WriteMode::Merge
            };
            let pre = preconditions(&x, resource);
            let upload = Upload {
                content_type: x.content_type().to_owned(),
                content: x.body.clone(),
            };
            let doc = lrs
                .write_document(tenant, &scope, &id, upload, mode, &pre)
                .await?;
            Ok(HttpResponse::NoContent()
                .insert_header(("ETag", format!("\"{}\"", doc.etag)))
                .finish())
        }
        (Method::PUT | Method::POST, None) => Err(ApiError::invalid(
            resource.id_param(),
            "required-parameter",
            format!("the `{}` parameter is required", resource.id_param()),
        )),
        (Method::DELETE, id) => {
            if id.is_none() && resource != Resource::State {
                return Err(ApiError::invalid(
                    "profileId",
                    "required-parameter",
                    "the `profileId` parameter is required",
                ));
            }
            lrs.delete_documents(tenant, &scope, id.as_deref(), &preconditions(&x, resource))
                .await?;
            Ok(no_content())
        }
        _ => Err(ApiError::invalid(
            "method",
            "method",
            "documents accept GET, HEAD, PUT, POST and DELETE",
        )),
    }
}

/// GET /activities?activityId=…: the Activity with its merged definition.
pub async fn activities(state: Data<AppState>, x: XapiRequest) -> ApiResult<HttpResponse> {
    if !matches!(x.method, Method::GET | Method::HEAD) {
        return Err(ApiError::invalid(
            "method",
            "method",
            "activities accept GET and HEAD",
        ));
    }
    x.principal.require(
        x.principal.scopes.can_read_definitions(),
        "reading activity definitions",
    )?;
    x.only_params(&["activityId"])?;
    let id = activity_id(&x)?;
    Ok(HttpResponse::Ok().json(state.lrs.activity(x.principal.tenant, &id).await?))
}

/// GET /agents?agent=…: the Person object.
pub async fn agents(state: Data<AppState>, x: XapiRequest) -> ApiResult<HttpResponse> {
    if !matches!(x.method, Method::GET | Method::HEAD) {
        return Err(ApiError::invalid(
            "method",
            "method",
            "agents accept GET and HEAD",
        ));
    }
    x.principal
        .require(x.principal.scopes.can_read_definitions(), "reading agents")?;
    x.only_params(&["agent"])?;
    let (agent, key) = agent_param(&state, &x)?;
    Ok(HttpResponse::Ok().json(state.lrs.person(x.principal.tenant, &agent, &key).await?))
}
