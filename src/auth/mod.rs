//! Authentication of xAPI clients: HTTP Basic against hashed credentials. A verified
//! principal carries its tenant, its scopes and the `authority` written into its
//! statements.

pub mod scope;

pub use scope::{Scope, Scopes, StatementReads};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::config::CredentialConfig;
use crate::error::ApiError;
use crate::store::{Credential, CredentialStore, TenantId, DEFAULT_TENANT};

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
        Principal {
            tenant: credential.tenant,
            // Scopes are checked when a credential is saved; an unknown name grants nothing.
            scopes: Scopes::parse(&credential.scopes).unwrap_or_default(),
            key: credential.key,
            authority: credential.authority,
        }
    }

    /// `Forbidden` unless `allowed`; `what` names the action in the answer.
    pub fn require(&self, allowed: bool, what: &str) -> Result<(), ApiError> {
        if allowed {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "the credential's scopes ({}) do not allow {what}",
                self.scopes
            )))
        }
    }
}

/// Verifies Basic credentials. Argon2 is deliberately slow and memory-hungry (19 MiB per
/// hash), so a successful verification is remembered (under a SHA-256 of the presented
/// pair) as the stored hash it matched, and verifications run one at a time: concurrent
/// first requests of one client wait for a single hash, and a flood of wrong secrets cannot
/// multiply the memory. Every request still reads the credential, so a revoked or changed
/// credential stops working at once on every gateway.
pub struct Authenticator {
    credentials: Arc<dyn CredentialStore>,
    verified: Mutex<HashMap<[u8; 32], String>>,
    verifying: tokio::sync::Mutex<()>,
}

impl Authenticator {
    pub fn new(credentials: Arc<dyn CredentialStore>) -> Self {
        Authenticator {
            credentials,
            verified: Mutex::new(HashMap::new()),
            verifying: tokio::sync::Mutex::new(()),
        }
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

    /// Authenticates an `Authorization` header value.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Principal, ApiError> {
        let (key, secret) = authorization
            .and_then(parse_basic)
            .ok_or(ApiError::Unauthorized)?;
        let fingerprint: [u8; 32] = Sha256::digest(format!("{key}\0{secret}")).into();
        let credential = self
            .credentials
            .credential(&key)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        if self.remembered(&fingerprint, &credential) {
            return Ok(Principal::of(credential));
        }
        let _one_at_a_time = self.verifying.lock().await;
        if self.remembered(&fingerprint, &credential) {
            return Ok(Principal::of(credential));
        }
        let hash = credential.secret_hash.clone();
        let ok = tokio::task::spawn_blocking(move || verify_secret(&secret, &hash))
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        if !ok {
            return Err(ApiError::Unauthorized);
        }
        self.remember(fingerprint, credential.secret_hash.clone());
        Ok(Principal::of(credential))
    }
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

/// The key of a Basic `Authorization` header, unverified (for labelling answers only).
pub fn basic_key(header: &str) -> Option<String> {
    parse_basic(header).map(|(key, _)| key)
}

pub fn hash_secret(secret: &str) -> anyhow::Result<String> {
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
            secret_hash: hash_secret(&c.secret)?,
            authority: authority_for(&c.key, &name),
            name,
            scopes: "all".into(),
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
            secret_hash: hash_secret(&secret)?,
            name: "initial".into(),
            authority: authority_for(&key, "initial"),
            scopes: "all".into(),
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
        let hash = hash_secret("s3cret").unwrap_or_default();
        assert!(verify_secret("s3cret", &hash));
        assert!(!verify_secret("other", &hash));
    }
}
