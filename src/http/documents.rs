//! The document resources (State, Activity Profile, Agent Profile) and the Activities and
//! Agents resources.

use actix_web::http::Method;
use actix_web::web::Data;
use actix_web::HttpResponse;

use super::params::{Iri, Timestamp, Uuid, XapiAgent};
use super::{http_date, no_content, AppState, XapiRequest};
use crate::http::error::{ApiError, ApiResult};
use crate::lrs::documents::{Documents, Upload};
use crate::xapi::document::{MissingPrecondition, Preconditions, WriteMode};
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

    /// Whether the caller's scopes allow this use of the resource.
    fn authorize(self, x: &XapiRequest) -> ApiResult<()> {
        let write = !matches!(x.method, Method::GET | Method::HEAD);
        let scopes = &x.principal.scopes;
        let (allowed, what) = match self {
            Resource::State => (scopes.can_state(write), "this use of State documents"),
            _ => (scopes.can_profile(write), "this use of profile documents"),
        };
        Ok(x.principal.require(allowed, what)?)
    }

    /// What a PUT without `If-Match`/`If-None-Match` gets: 409 over an existing profile
    /// (1.0.3 Communication 3.1.s4.b13) or, in 2.0 (IEEE 9274.1.1 4.1.4), over an existing
    /// document of any kind; a document that does not exist yet is created, unless
    /// `strict` asks for 1.0.3's client rule (3.1.s3.b1) to be enforced on profiles. 1.0.3
    /// lets State documents be replaced without headers (Communication 3.1.s3).
    fn when_precondition_missing(
        self,
        version: XapiVersion,
        method: &Method,
        strict: bool,
    ) -> MissingPrecondition {
        match (self, version) {
            _ if *method != Method::PUT => MissingPrecondition::Allowed,
            (Resource::State, XapiVersion::V1) => MissingPrecondition::Allowed,
            (_, XapiVersion::V1) if strict => MissingPrecondition::Required,
            _ => MissingPrecondition::Conflict,
        }
    }

    /// The documents the request's parameters address.
    fn documents(self, state: &AppState, x: &XapiRequest) -> ApiResult<Documents> {
        let agent = || -> ApiResult<String> {
            let raw = x.required("agent")?;
            let validator = &state.lrs.validator;
            Ok(XapiAgent::parse(raw, "an Agent", validator, x.version)?.ifi)
        };
        let activity_id = || -> ApiResult<String> {
            Ok(Iri::parse("activityId", x.required("activityId")?)?.into_string())
        };
        Ok(match self {
            Resource::State => {
                let registration = Uuid::optional("registration", x.param("registration"))?;
                Documents::State {
                    activity_id: activity_id()?,
                    agent: agent()?,
                    registration,
                }
            }
            Resource::ActivityProfile => Documents::ActivityProfile {
                activity_id: activity_id()?,
            },
            Resource::AgentProfile => Documents::AgentProfile { agent: agent()? },
        })
    }

    fn preconditions(self, state: &AppState, x: &XapiRequest) -> Preconditions {
        let strict = state.settings.strict_profile_preconditions;
        Preconditions {
            if_match: x.header("if-match").map(Preconditions::parse_tags),
            if_none_match: x.header("if-none-match").map(Preconditions::parse_tags),
            when_missing: self.when_precondition_missing(x.version, &x.method, strict),
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

async fn document(state: &AppState, x: XapiRequest, resource: Resource) -> ApiResult<HttpResponse> {
    resource.authorize(&x)?;
    x.only_params(resource.params())?;
    let documents = resource.documents(state, &x)?;
    let id = x.param(resource.id_param());
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
    match (&x.method, id) {
        (&Method::GET | &Method::HEAD, id) => read_documents(state, &x, &documents, id).await,
        (&Method::PUT | &Method::POST, Some(id)) => {
            write_document(state, &x, resource, &documents, id).await
        }
        (&Method::PUT | &Method::POST, None) => Err(ApiError::invalid(
            resource.id_param(),
            "required-parameter",
            format!("the `{}` parameter is required", resource.id_param()),
        )),
        (&Method::DELETE, id) => delete_documents(state, &x, resource, &documents, id).await,
        _ => Err(x.unserved()),
    }
}

/// GET/HEAD one document (with `id`), or the ids of the documents (changed `since`).
async fn read_documents(
    state: &AppState,
    x: &XapiRequest,
    documents: &Documents,
    id: Option<&str>,
) -> ApiResult<HttpResponse> {
    let (lrs, tenant) = (&state.lrs, x.principal.tenant);
    let Some(id) = id else {
        let since = Timestamp::optional("since", x.param("since"))?;
        return Ok(HttpResponse::Ok().json(lrs.document_ids(tenant, documents, since).await?));
    };
    let doc = lrs.document(tenant, documents, id).await?;
    Ok(HttpResponse::Ok()
        .content_type(doc.content_type.clone())
        .insert_header(("ETag", format!("\"{}\"", doc.etag)))
        .insert_header(("Last-Modified", http_date(doc.updated_millis)))
        .body(doc.content))
}

/// DELETE one document (with `id`) or, for State, every document of the activity and agent.
async fn delete_documents(
    state: &AppState,
    x: &XapiRequest,
    resource: Resource,
    documents: &Documents,
    id: Option<&str>,
) -> ApiResult<HttpResponse> {
    if id.is_none() && resource != Resource::State {
        return Err(ApiError::invalid(
            "profileId",
            "required-parameter",
            "the `profileId` parameter is required",
        ));
    }
    let pre = resource.preconditions(state, x);
    state
        .lrs
        .delete_documents(x.principal.tenant, documents, id, &pre)
        .await?;
    Ok(no_content())
}

/// PUT (replace) or POST (merge) one document.
async fn write_document(
    state: &AppState,
    x: &XapiRequest,
    resource: Resource,
    documents: &Documents,
    id: &str,
) -> ApiResult<HttpResponse> {
    let mode = if x.method == Method::PUT {
        WriteMode::Replace
    } else {
        WriteMode::Merge
    };
    let upload = Upload {
        content_type: x.content_type().to_owned(),
        content: x.body.clone(),
    };
    let pre = resource.preconditions(state, x);
    let doc = state
        .lrs
        .write_document(x.principal.tenant, documents, id, upload, mode, &pre)
        .await?;
    Ok(HttpResponse::NoContent()
        .insert_header(("ETag", format!("\"{}\"", doc.etag)))
        .finish())
}

/// GET /activities?activityId=…: the Activity with its merged definition.
pub async fn activities(state: Data<AppState>, x: XapiRequest) -> ApiResult<HttpResponse> {
    x.principal.require(
        x.principal.scopes.can_read_definitions(),
        "reading activity definitions",
    )?;
    x.only_params(&["activityId"])?;
    let id = Iri::parse("activityId", x.required("activityId")?)?;
    let activity = state
        .lrs
        .activity(x.principal.tenant, &id.into_string())
        .await?;
    Ok(HttpResponse::Ok().json(activity))
}

/// GET /agents?agent=…: the Person object.
pub async fn agents(state: Data<AppState>, x: XapiRequest) -> ApiResult<HttpResponse> {
    x.principal
        .require(x.principal.scopes.can_read_definitions(), "reading agents")?;
    x.only_params(&["agent"])?;
    let raw = x.required("agent")?;
    let agent = XapiAgent::parse(raw, "an Agent", &state.lrs.validator, x.version)?;
    let person = state
        .lrs
        .person(x.principal.tenant, &agent.agent, &agent.ifi)
        .await?;
    Ok(HttpResponse::Ok().json(person))
}
