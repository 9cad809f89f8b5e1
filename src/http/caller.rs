//! Who is calling, as a handler argument: `Caller<N>` on the gateway APIs, where `N` names
//! what the route needs of the credential's scopes, and `Admin` on the admin API (the xAPI
//! resources take [`super::XapiRequest`]). A handler without one of them serves anyone.
//!
//! Handlers take the caller last: actix extracts arguments in order, so a malformed path,
//! query or body is still answered before the credentials are checked.

use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use sha2::{Digest, Sha256};

use super::error::{ApiError, ApiResult};
use super::AppState;
use crate::accounts::Administrator;
use crate::auth::{parse_basic, Principal, Scope, Scopes, StatementReads};
use crate::store::TenantId;

/// What a route needs of the caller's scopes, and how a refusal names it.
pub trait Need {
    /// The action refused, as in "the credential's scopes (…) do not allow {WHAT}".
    const WHAT: &'static str;
    fn allows(scopes: &Scopes) -> bool;
}

/// An authenticated caller whose scopes allow what `N` needs.
pub struct Caller<N> {
    pub principal: Principal,
    need: PhantomData<N>,
}

impl<N> Caller<N> {
    pub fn tenant(&self) -> TenantId {
        self.principal.tenant
    }
}

impl<N: Need + 'static> FromRequest for Caller<N> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, ApiResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = app_state(req);
        let header = authorization(req);
        Box::pin(async move {
            let principal = state?.auth.authenticate(header.as_deref()).await?;
            principal.require(N::allows(&principal.scopes), N::WHAT)?;
            Ok(Caller {
                principal,
                need: PhantomData,
            })
        })
    }
}

/// The admin API's caller: the operator's admin credential (configured at start-up), or a
/// credential with the `admin` scope, which administers its own tenant only.
pub struct Admin(pub Administrator);

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, ApiResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = app_state(req);
        let header = authorization(req);
        Box::pin(async move {
            let state = state?;
            if is_operator(&state, header.as_deref()) {
                return Ok(Admin(Administrator::Operator));
            }
            let principal = state.auth.authenticate(header.as_deref()).await?;
            principal.require(principal.scopes.has(Scope::Admin), "administration")?;
            Ok(Admin(Administrator::Tenant(principal.tenant)))
        })
    }
}

/// The admin API's caller as [`Admin`], with the credential key it presented (the
/// operator's `admin_key`, or the tenant credential's), which audit records name.
pub struct AdminKey {
    pub admin: Administrator,
    pub key: String,
}

impl FromRequest for AdminKey {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, ApiResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = app_state(req);
        let header = authorization(req);
        Box::pin(async move {
            let state = state?;
            if is_operator(&state, header.as_deref()) {
                return Ok(AdminKey {
                    admin: Administrator::Operator,
                    key: state.settings.admin_key.clone(),
                });
            }
            let principal = state.auth.authenticate(header.as_deref()).await?;
            principal.require(principal.scopes.has(Scope::Admin), "administration")?;
            Ok(AdminKey {
                admin: Administrator::Tenant(principal.tenant),
                key: principal.key,
            })
        })
    }
}

/// Whether the header presents the operator's admin key and secret. Compared as digests,
/// so the time taken says nothing about the secret.
fn is_operator(state: &AppState, header: Option<&str>) -> bool {
    let (Some((key, secret)), Some(expected)) = (
        header.and_then(parse_basic),
        state.settings.admin_secret.as_deref(),
    ) else {
        return false;
    };
    let given = Sha256::digest(format!("{key}\0{secret}"));
    let wanted = Sha256::digest(format!("{}\0{expected}", state.settings.admin_key));
    given == wanted
}

fn app_state(req: &HttpRequest) -> ApiResult<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))
}

fn authorization(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `evidence:read`, for skill evidence.
pub enum EvidenceRead {}

impl Need for EvidenceRead {
    const WHAT: &'static str = "reading skill evidence";
    fn allows(scopes: &Scopes) -> bool {
        scopes.has(Scope::EvidenceRead)
    }
}

/// `people:write`, for defining teams.
pub enum TeamsWrite {}

impl Need for TeamsWrite {
    const WHAT: &'static str = "defining teams";
    fn allows(scopes: &Scopes) -> bool {
        scopes.has(Scope::PeopleWrite)
    }
}

/// `opportunities:write`, for creating, changing and deleting opportunities.
pub enum OpportunitiesWrite {}

impl Need for OpportunitiesWrite {
    const WHAT: &'static str = "changing opportunities";
    fn allows(scopes: &Scopes) -> bool {
        scopes.has(Scope::OpportunitiesWrite)
    }
}

/// `evidence:read`, for people and their identities.
pub enum PeopleRead {}

impl Need for PeopleRead {
    const WHAT: &'static str = "reading people";
    fn allows(scopes: &Scopes) -> bool {
        scopes.has(Scope::EvidenceRead)
    }
}

/// `people:write`, for linking and unlinking identities.
pub enum PeopleWrite {}

impl Need for PeopleWrite {
    const WHAT: &'static str = "linking identities";
    fn allows(scopes: &Scopes) -> bool {
        scopes.has(Scope::PeopleWrite)
    }
}

/// `frameworks:read` or `frameworks:write`, for frameworks, rules, jobs and the catalog.
pub enum FrameworksRead {}

impl Need for FrameworksRead {
    const WHAT: &'static str = "reading frameworks, rules and the catalog";
    fn allows(scopes: &Scopes) -> bool {
        scopes.has(Scope::FrameworksRead) || scopes.has(Scope::FrameworksWrite)
    }
}

/// `frameworks:write`, for changing frameworks, rules and the catalog.
pub enum FrameworksWrite {}

impl Need for FrameworksWrite {
    const WHAT: &'static str = "changing frameworks, rules and the catalog";
    fn allows(scopes: &Scopes) -> bool {
        scopes.has(Scope::FrameworksWrite)
    }
}

/// `connectors:read` or `connectors:write`, for the connectors and their status.
pub enum ConnectorsRead {}

impl Need for ConnectorsRead {
    const WHAT: &'static str = "reading connectors";
    fn allows(scopes: &Scopes) -> bool {
        scopes.has(Scope::ConnectorsRead) || scopes.has(Scope::ConnectorsWrite)
    }
}

/// `connectors:write`, for configuring, running and deleting connectors.
pub enum ConnectorsWrite {}

impl Need for ConnectorsWrite {
    const WHAT: &'static str = "configuring and running connectors";
    fn allows(scopes: &Scopes) -> bool {
        scopes.has(Scope::ConnectorsWrite)
    }
}

/// `evidence:read`, or the right to read every statement, for a statement's tags.
pub enum TagsRead {}

impl Need for TagsRead {
    const WHAT: &'static str = "reading statement tags";
    fn allows(scopes: &Scopes) -> bool {
        scopes.has(Scope::EvidenceRead) || scopes.statement_reads() == Some(StatementReads::All)
    }
}
