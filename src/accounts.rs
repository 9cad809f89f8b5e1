//! Tenants and their credentials, as operators manage them (the `lrsgate tenant` and
//! `lrsgate credential` commands and the admin API share these rules).

use serde::Serialize;
use serde_json::Value;

use crate::auth::{authority_for, hash_secret, random_token, Scopes};
use crate::store::{Credential, Store, StoreError, Tenant};
use crate::xapi::Violation;

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A tenant name or scope list that breaks a rule; names the field.
    #[error("{0}")]
    Invalid(#[from] Violation),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type AccountResult<T> = Result<T, AccountError>;

/// A tenant as shown to operators.
#[derive(Debug, Clone, Serialize)]
pub struct TenantView {
    pub id: i64,
    pub name: String,
    pub created: String,
}

impl From<Tenant> for TenantView {
    fn from(t: Tenant) -> Self {
        TenantView {
            id: t.id,
            name: t.name,
            created: crate::xapi::time::format_millis(t.created_millis),
        }
    }
}

/// A credential as shown to operators: never its secret or hash.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialView {
    pub key: String,
    pub name: String,
    pub tenant: String,
    pub scopes: Vec<String>,
    pub authority: Value,
}

/// A new credential: the only time its secret is shown.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedCredential {
    #[serde(flatten)]
    pub credential: CredentialView,
    pub secret: String,
}

fn view(c: Credential, tenant: &Tenant) -> CredentialView {
    CredentialView {
        scopes: c.scopes.split_whitespace().map(str::to_owned).collect(),
        key: c.key,
        name: c.name,
        tenant: tenant.name.clone(),
        authority: c.authority,
    }
}

/// Tenant names: 1–63 of `a-z 0-9 - _ .`, starting with a letter or digit.
pub fn check_tenant_name(name: &str) -> AccountResult<()> {
    let ok = (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Violation::new(
            "name",
            "tenant-name",
            format!("`{name}` is not a tenant name: 1 to 63 of a-z, 0-9, '-', '_', '.', starting with a letter or digit"),
        ).into())
    }
}

pub async fn create_tenant(store: &Store, name: &str) -> AccountResult<TenantView> {
    check_tenant_name(name)?;
    Ok(store.tenants.create_tenant(name).await?.into())
}

/// The tenant of this name; `NotFound` otherwise.
pub async fn tenant(store: &Store, name: &str) -> AccountResult<Tenant> {
    store
        .tenants
        .tenant_named(name)
        .await?
        .ok_or_else(|| AccountError::NotFound(format!("no tenant `{name}`")))
}

/// Parses and checks the scopes a credential is given (at least one).
pub fn parse_scopes(text: &str) -> AccountResult<Scopes> {
    let scopes = Scopes::parse(text).map_err(|unknown| {
        Violation::new(
            "scopes",
            "scope",
            format!("`{unknown}` is not a scope (statements/write, statements/read, statements/read/mine, state, define, profile, all/read, all, evidence:read, frameworks:read, frameworks:write, admin, or xapi:read|write|all)"),
        )
    })?;
    if scopes.is_empty() {
        return Err(
            Violation::new("scopes", "scope", "a credential needs at least one scope").into(),
        );
    }
    Ok(scopes)
}

/// Creates a credential in `tenant` with a random key and secret.
pub async fn issue_credential(
    store: &Store,
    tenant: &Tenant,
    name: &str,
    scopes: &str,
) -> AccountResult<IssuedCredential> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(Violation::new(
            "name",
            "credential-name",
            "a credential needs a name of 1 to 200 characters",
        )
        .into());
    }
    let scopes = parse_scopes(scopes)?;
    let (key, secret) = (random_token(10), random_token(20));
    let credential = Credential {
        tenant: tenant.id,
        authority: authority_for(&key, name),
        key,
        secret_hash: hash_secret(&secret).await?,
        name: name.to_owned(),
        scopes: scopes.to_string(),
    };
    store
        .credentials
        .save_credential(credential.clone())
        .await?;
    Ok(IssuedCredential {
        credential: view(credential, tenant),
        secret,
    })
}

pub async fn credentials(store: &Store, tenant: &Tenant) -> AccountResult<Vec<CredentialView>> {
    Ok(store
        .credentials
        .credentials(tenant.id)
        .await?
        .into_iter()
        .map(|c| view(c, tenant))
        .collect())
}

pub async fn revoke_credential(store: &Store, tenant: &Tenant, key: &str) -> AccountResult<()> {
    if store.credentials.delete_credential(tenant.id, key).await? {
        Ok(())
    } else {
        Err(AccountError::NotFound(format!(
            "tenant `{}` has no credential `{key}`",
            tenant.name
        )))
    }
}

/// Who administers: the operator (every tenant), or a credential with the `admin` scope, to
/// which every tenant but its own looks absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Administrator {
    Operator,
    Tenant(crate::store::TenantId),
}

impl Administrator {
    /// The tenants this administrator sees.
    pub async fn tenants(self, store: &Store) -> AccountResult<Vec<TenantView>> {
        let tenants = match self {
            Administrator::Operator => store.tenants.tenants().await?,
            Administrator::Tenant(own) => store.tenants.tenant(own).await?.into_iter().collect(),
        };
        Ok(tenants.into_iter().map(Into::into).collect())
    }

    /// The named tenant, if this administrator sees it; `NotFound` otherwise.
    pub async fn tenant(self, store: &Store, name: &str) -> AccountResult<Tenant> {
        let found = tenant(store, name).await?;
        match self {
            Administrator::Tenant(own) if found.id != own => {
                Err(AccountError::NotFound(format!("no tenant `{name}`")))
            }
            _ => Ok(found),
        }
    }
}
