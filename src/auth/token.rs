//! The gateway's own access tokens, issued by `POST /oauth2/token`: short-lived JWTs signed
//! with HS256 under a secret kept in the store, so every gateway on the store issues and
//! verifies the same tokens. A token names its credential; the credential is read again on
//! every request, so revoking it (or changing its secret or scopes) takes effect at once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::AuthError;
use super::{random_token, token_error, Scopes};
use crate::store::{Credential, CredentialStore, SigningKey, TenantId};

/// The claims of an issued token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The credential's key.
    pub sub: String,
    pub tenant: TenantId,
    /// Granted scope names, space-separated.
    pub scope: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub jti: String,
    /// A digest of the credential's secret hash: a new secret ends the old tokens.
    pub cfp: String,
}

/// Issues and verifies the gateway's tokens.
pub struct OwnTokens {
    issuer: String,
    lifetime_secs: u64,
    credentials: Arc<dyn CredentialStore>,
    keys: RwLock<HashMap<String, Vec<u8>>>,
    /// The `kid` new tokens are signed under: the newest key when this gateway started.
    current: String,
}

/// Own tokens come from gateways whose clocks agree closely.
const LEEWAY_SECS: u64 = 5;

impl OwnTokens {
    /// Loads the signing keys, creating the first one on a store that has none.
    pub async fn start(
        credentials: Arc<dyn CredentialStore>,
        issuer: String,
        lifetime_secs: u64,
    ) -> anyhow::Result<Self> {
        let mut keys = credentials.signing_keys().await?;
        if keys.is_empty() {
            credentials
                .add_signing_key(SigningKey {
                    kid: random_token(8),
                    secret: hex::decode(random_token(32))?,
                    created_millis: chrono::Utc::now().timestamp_millis(),
                })
                .await?;
            // Another gateway starting at once may have added one too; both verify.
            keys = credentials.signing_keys().await?;
        }
        let current = keys
            .last()
            .map(|k| k.kid.clone())
            .ok_or_else(|| anyhow::anyhow!("the store kept no signing key"))?;
        Ok(OwnTokens {
            issuer,
            lifetime_secs,
            credentials,
            keys: RwLock::new(keys.into_iter().map(|k| (k.kid, k.secret)).collect()),
            current,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn lifetime_secs(&self) -> u64 {
        self.lifetime_secs
    }

    fn key(&self, kid: &str) -> Option<Vec<u8>> {
        self.keys.read().ok()?.get(kid).cloned()
    }

    /// A token for the credential carrying `scopes`.
    pub fn issue(&self, credential: &Credential, scopes: &Scopes) -> Result<String, AuthError> {
        let secret = self
            .key(&self.current)
            .ok_or_else(|| AuthError::Internal(anyhow::anyhow!("the signing key is missing")))?;
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.issuer.clone(),
            sub: credential.key.clone(),
            tenant: credential.tenant,
            scope: scopes.to_string(),
            iat: now,
            nbf: now,
            exp: now + self.lifetime_secs,
            jti: random_token(12),
            cfp: secret_fingerprint(&credential.secret_hash),
        };
        let header = Header {
            kid: Some(self.current.clone()),
            ..Header::new(Algorithm::HS256)
        };
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&secret))
            .map_err(|e| AuthError::from(anyhow::Error::from(e)))
    }

    /// Verifies a token of ours and returns its still-valid credential and the scopes the
    /// token grants within what the credential grants now.
    pub async fn verify(&self, token: &str) -> Result<(Credential, Scopes), AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(token_error)?;
        let kid = header.kid.ok_or_else(|| {
            AuthError::InvalidToken("the token names no signing key (kid)".into())
        })?;
        let secret = match self.key(&kid) {
            Some(secret) => secret,
            None => self.reload(&kid).await?,
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        let claims =
            jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&secret), &validation)
                .map_err(token_error)?
                .claims;
        let credential = self
            .credentials
            .credential(&claims.sub)
            .await?
            .filter(|c| {
                c.tenant == claims.tenant && secret_fingerprint(&c.secret_hash) == claims.cfp
            })
            .ok_or_else(|| AuthError::InvalidToken("the token's client has been revoked".into()))?;
        let granted = Scopes::parse(&credential.scopes).unwrap_or_default();
        let asked = Scopes::parse(&claims.scope).unwrap_or_default();
        Ok((credential, granted.narrowed_to(&asked)))
    }

    /// Reads the keys again (another gateway may have added one) and returns `kid`'s.
    async fn reload(&self, kid: &str) -> Result<Vec<u8>, AuthError> {
        let keys = self.credentials.signing_keys().await?;
        let found = keys.iter().find(|k| k.kid == kid).map(|k| k.secret.clone());
        if let Ok(mut cached) = self.keys.write() {
            cached.extend(keys.into_iter().map(|k| (k.kid, k.secret)));
        }
        found.ok_or_else(|| AuthError::InvalidToken("the token's signing key is unknown".into()))
    }
}

fn secret_fingerprint(secret_hash: &str) -> String {
    hex::encode(&Sha256::digest(secret_hash.as_bytes())[..8])
}
