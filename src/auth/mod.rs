//! Authentication of every client: HTTP Basic against hashed credentials, bearer tokens
//! the gateway issued itself (`POST /oauth2/token`), and bearer tokens of trusted identity
//! providers. A verified principal carries its tenant, its scopes and the `authority`
//! written into its statements.

mod error;
mod issuer;
mod limit;
pub mod scope;
mod token;

pub use error::{AuthError, AuthResult};
pub use issuer::ExternalIdentity;
pub use scope::{Scope, Scopes, StatementReads};
pub use token::Claims;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::config::{CredentialConfig, Settings};
use crate::store::{Credential, CredentialStore, Store, TenantId, TenantStore, DEFAULT_TENANT};
use issuer::ExternalIssuer;
use limit::RateLimit;
use token::OwnTokens;

/// Who is calling: resolved from a credential.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub tenant: TenantId,
    pub key: String,
    pub authority: Value,
    pub scopes: Scopes,
}

impl Principal {
    fn of(credential: Credential) -> Self {
        // Scopes are checked when a credential is saved; an unknown name grants nothing.
        let scopes = Scopes::parse(&credential.scopes).unwrap_or_default();
        Self::with_scopes(credential, scopes)
    }

    fn with_scopes(credential: Credential, scopes: Scopes) -> Self {
        Principal {
            tenant: credential.tenant,
            scopes,
            key: credential.key,
            authority: credential.authority,
        }
    }

    /// `Forbidden` unless `allowed`; `what` names the action in the answer.
    pub fn require(&self, allowed: bool, what: &str) -> Result<(), AuthError> {
        if allowed {
            Ok(())
        } else {
            Err(AuthError::Forbidden(format!(
                "the credential's scopes ({}) do not allow {what}",
                self.scopes
            )))
        }
    }
}

/// Verifies every kind of credential, then counts the request against the caller's rate.
///
/// Argon2 is deliberately slow and memory-hungry (19 MiB per hash), so a successful Basic
/// verification is remembered (under a SHA-256 of the presented pair) as the stored hash it
/// matched, and verifications run one at a time: concurrent first requests of one client
/// wait for a single hash, and a flood of wrong secrets cannot multiply the memory. Every
/// request still reads the credential, so a revoked or changed credential stops working at
/// once on every gateway, for Basic and for the tokens issued to it alike.
pub struct Authenticator {
    credentials: Arc<dyn CredentialStore>,
    tenants: Arc<dyn TenantStore>,
    tokens: OwnTokens,
    issuers: Vec<ExternalIssuer>,
    limit: Option<RateLimit>,
    verified: Mutex<HashMap<[u8; 32], String>>,
    verifying: tokio::sync::Mutex<()>,
}

/// What an `Authorization` header presents.
enum Presented<'a> {
    Basic(String, String),
    Bearer(&'a str),
}

impl<'a> Presented<'a> {
    fn parse(header: &'a str) -> Option<Self> {
        let (scheme, value) = header.trim().split_once(' ')?;
        if scheme.eq_ignore_ascii_case("bearer") {
            Some(Presented::Bearer(value.trim()))
        } else {
            parse_basic(header).map(|(key, secret)| Presented::Basic(key, secret))
        }
    }
}

impl Authenticator {
    /// Loads the token signing keys (creating the first) and the trusted issuers' keys.
    pub async fn start(store: &Store, settings: &Settings) -> anyhow::Result<Self> {
        let tokens = OwnTokens::start(
            store.credentials.clone(),
            settings.token_issuer.clone(),
            settings.token_lifetime_secs,
        )
        .await?;
        let issuers = settings
            .issuers
            .iter()
            .map(|c| {
                ExternalIssuer::load(c).map_err(|e| e.context(format!("issuer `{}`", c.issuer)))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if let Some(clash) = issuers.iter().find(|i| i.issuer() == tokens.issuer()) {
            anyhow::bail!(
                "issuer `{}` is the gateway's own token_issuer; give it another",
                clash.issuer()
            );
        }
        Ok(Authenticator {
            credentials: store.credentials.clone(),
            tenants: store.tenants.clone(),
            tokens,
            issuers,
            limit: RateLimit::new(settings.rate_limit_per_minute, settings.rate_limit_burst),
            verified: Mutex::new(HashMap::new()),
            verifying: tokio::sync::Mutex::new(()),
        })
    }

    /// Whether this pair was verified before against the hash the credential still has.
    fn remembered(&self, fingerprint: &[u8; 32], credential: &Credential) -> bool {
        self.verified
            .lock()
            .is_ok_and(|m| m.get(fingerprint) == Some(&credential.secret_hash))
    }

    fn remember(&self, fingerprint: [u8; 32], hash: String) {
        if let Ok(mut m) = self.verified.lock() {
            if m.len() >= MAX_REMEMBERED {
                m.clear();
            }
            m.insert(fingerprint, hash);
        }
    }

    /// Authenticates an `Authorization` header value and counts the request.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, AuthError> {
        let principal = match authorization.and_then(Presented::parse) {
            Some(Presented::Basic(key, secret)) => Principal::of(self.client(&key, secret).await?),
            Some(Presented::Bearer(token)) => self.bearer(token).await?,
            None => return Err(AuthError::Unauthorized),
        };
        self.count(&principal.key)?;
        Ok(principal)
    }

    /// Counts a request of the credential or token subject against its rate.
    pub fn count(&self, key: &str) -> Result<(), AuthError> {
        self.limit.as_ref().map_or(Ok(()), |limit| limit.check(key))
    }

    /// The credential with this key and secret; `Unauthorized` when there is none.
    pub async fn client(&self, key: &str, secret: String) -> Result<Credential, AuthError> {
        let fingerprint: [u8; 32] = Sha256::digest(format!("{key}\0{secret}")).into();
        let credential = self
            .credentials
            .credential(key)
            .await?
            .ok_or(AuthError::Unauthorized)?;
        if self.remembered(&fingerprint, &credential) {
            return Ok(credential);
        }
        let _one_at_a_time = self.verifying.lock().await;
        if self.remembered(&fingerprint, &credential) {
            return Ok(credential);
        }
        let hash = credential.secret_hash.clone();
        let ok = on_own_thread(move || verify_secret(&secret, &hash)).await?;
        if !ok {
            return Err(AuthError::Unauthorized);
        }
        self.remember(fingerprint, credential.secret_hash.clone());
        Ok(credential)
    }

    /// An access token for the credential, and its lifetime in seconds.
    pub fn issue_token(
        &self,
        credential: &Credential,
        scopes: &Scopes,
    ) -> Result<(String, u64), AuthError> {
        let token = self.tokens.issue(credential, scopes)?;
        Ok((token, self.tokens.lifetime_secs()))
    }

    /// A bearer token: ours, or one of a trusted issuer (chosen by its `iss`).
    async fn bearer(&self, token: &str) -> Result<Principal, AuthError> {
        let issuer = unverified_claims(token)
            .and_then(|c| c.get("iss").and_then(Value::as_str).map(str::to_owned))
            .ok_or_else(|| AuthError::InvalidToken("not a JWT with an `iss` claim".into()))?;
        if issuer == self.tokens.issuer() {
            let (credential, scopes) = self.tokens.verify(token).await?;
            return Ok(Principal::with_scopes(credential, scopes));
        }
        let trusted = self
            .issuers
            .iter()
            .find(|i| i.issuer() == issuer)
            .ok_or_else(|| {
                AuthError::InvalidToken(format!("tokens of issuer `{issuer}` are not trusted"))
            })?;
        let identity = trusted.verify(token)?;
        let tenant = self
            .tenants
            .tenant_named(&identity.tenant)
            .await?
            .ok_or_else(|| {
                AuthError::InvalidToken(format!("there is no tenant `{}`", identity.tenant))
            })?;
        Ok(Principal {
            tenant: tenant.id,
            key: format!("{issuer} {}", identity.subject),
            authority: provider_authority(&issuer, &identity),
            scopes: identity.scopes,
        })
    }
}

/// A token's claims, unverified (for choosing its verifier and labelling answers only).
fn unverified_claims(token: &str) -> Option<serde_json::Map<String, Value>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Why a token failed, in words a client developer can act on.
fn token_error(e: jsonwebtoken::errors::Error) -> AuthError {
    use jsonwebtoken::errors::ErrorKind;
    let reason = match e.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".to_owned(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".to_owned(),
        ErrorKind::InvalidSignature => "the signature does not verify".to_owned(),
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
            "the token's algorithm is not accepted for its key".to_owned()
        }
        ErrorKind::InvalidIssuer => "the token's issuer (iss) is not accepted".to_owned(),
        ErrorKind::InvalidAudience => "the token is not addressed to this gateway (aud)".to_owned(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no `{claim}` claim"),
        _ => "the token is malformed or its algorithm is not supported".to_owned(),
    };
    AuthError::InvalidToken(reason)
}

/// The `authority` of statements stored with a provider's token: the subject as an account
/// of the provider.
fn provider_authority(issuer: &str, identity: &ExternalIdentity) -> Value {
    let mut agent = json!({
        "objectType": "Agent",
        "account": { "homePage": issuer, "name": identity.subject },
    });
    if let Some(name) = &identity.name {
        agent["name"] = json!(name);
    }
    agent
}

/// Bounds the memory of verified pairs a flood of distinct valid credentials can take.
const MAX_REMEMBERED: usize = 10_000;

pub fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (key, secret) = text.split_once(':')?;
    Some((key.to_owned(), secret.to_owned()))
}

/// Who an `Authorization` header claims to be, unverified (for labelling answers only):
/// a Basic key, or a bearer token's issuer and subject.
pub fn client_label(header: &str) -> Option<String> {
    match Presented::parse(header)? {
        Presented::Basic(key, _) => Some(key),
        Presented::Bearer(token) => {
            let claims = unverified_claims(token)?;
            let claim = |name| claims.get(name).and_then(Value::as_str).unwrap_or_default();
            Some(format!("{} {}", claim("iss"), claim("sub")))
        }
    }
}

/// The Argon2 hash of a secret, to store.
pub async fn hash_secret(secret: &str) -> anyhow::Result<String> {
    let secret = secret.to_owned();
    on_own_thread(move || hash_secret_now(&secret)).await?
}

/// Runs an Argon2 computation on a thread of its own that ends with it. Argon2 works in
/// 19 MiB of memory: freed on a pooled thread, it stayed in that thread's allocator heap
/// until the thread idled out (10 s for tokio's blocking threads), which made the
/// gateway's peak RSS. The 20 to 50 ms of work are kept off the async threads too.
async fn on_own_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("argon2".into())
        .spawn(move || {
            let _ = done.send(work());
        })?;
    Ok(result.await?)
}

fn hash_secret_now(secret: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a secret: {e}"))
}

fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The Agent recorded as `authority` for statements stored with a credential.
pub fn authority_for(key: &str, name: &str) -> Value {
    json!({ "objectType": "Agent", "name": name, "account": { "homePage": "urn:lrsgate:credential", "name": key } })
}

pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Stores the configured credentials (hashed) and, on a store with none at all, creates one
/// and returns its key and secret so the caller can show them once.
pub async fn bootstrap(
    store: &dyn CredentialStore,
    configured: &[CredentialConfig],
) -> anyhow::Result<Option<(String, String)>> {
    for c in configured {
        let name = c.name.clone().unwrap_or_else(|| c.key.clone());
        let credential = Credential {
            tenant: DEFAULT_TENANT,
            key: c.key.clone(),
            secret_hash: hash_secret(&c.secret).await?,
            authority: authority_for(&c.key, &name),
            name,
            scopes: Scopes::operator().to_string(),
        };
        store.save_credential(credential).await?;
    }
    if store.credential_count().await? > 0 {
        return Ok(None);
    }
    let (key, secret) = (random_token(10), random_token(20));
    store
        .save_credential(Credential {
            tenant: DEFAULT_TENANT,
            key: key.clone(),
            secret_hash: hash_secret(&secret).await?,
            name: "initial".into(),
            authority: authority_for(&key, "initial"),
            scopes: Scopes::operator().to_string(),
        })
        .await?;
    Ok(Some((key, secret)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_basic_headers() {
        assert_eq!(
            parse_basic("Basic dXNlcjpwYXNzOndvcmQ="),
            Some(("user".into(), "pass:word".into()))
        );
        assert_eq!(parse_basic("Bearer abc"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
    }

    #[test]
    fn hashes_verify_only_their_secret() {
        let hash = hash_secret_now("s3cret").unwrap_or_default();
        assert!(verify_secret("s3cret", &hash));
        assert!(!verify_secret("other", &hash));
    }
}
