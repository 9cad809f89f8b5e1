//! Identity providers trusted to issue bearer tokens (an LXP's IdP): each configured by its
//! issuer, the audience it must address, and its public keys (a PEM file or a JWK Set),
//! every key pinned to one signature algorithm. Shared-secret (HMAC) keys are not accepted
//! from providers, so a provider's public key can never be used as an HMAC secret.

use std::str::FromStr as _;

use anyhow::Context as _;
use jsonwebtoken::jwk::{JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::AuthError;
use super::{token_error, Scopes};
use crate::config::IssuerConfig;

/// A verification key and the one algorithm it verifies.
struct PinnedKey {
    kid: Option<String>,
    key: DecodingKey,
    algorithm: Algorithm,
}

pub struct ExternalIssuer {
    config: IssuerConfig,
    keys: Vec<PinnedKey>,
}

/// Who a verified provider token speaks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalIdentity {
    pub tenant: String,
    pub subject: String,
    pub name: Option<String>,
    pub scopes: Scopes,
}

impl ExternalIssuer {
    /// Reads the provider's keys; errors name the file and what is wrong with it.
    pub fn load(config: &IssuerConfig) -> anyhow::Result<Self> {
        let pinned = config
            .algorithm
            .as_deref()
            .map(|name| {
                Algorithm::from_str(name)
                    .map_err(|_| anyhow::anyhow!("algorithm `{name}` is not a JWS algorithm"))
            })
            .transpose()?;
        let keys = match (&config.key_file, &config.jwks_file) {
            (Some(path), None) => {
                let algorithm = pinned.ok_or_else(|| {
                    anyhow::anyhow!("a key_file needs the algorithm its tokens are signed with")
                })?;
                let pem = std::fs::read(path)
                    .with_context(|| format!("reading key_file {}", path.display()))?;
                let key = match public_family(algorithm)? {
                    AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(&pem),
                    AlgorithmFamily::Ec => DecodingKey::from_ec_pem(&pem),
                    _ => DecodingKey::from_ed_pem(&pem),
                }
                .with_context(|| {
                    format!(
                        "key_file {} is not a {algorithm:?} public key",
                        path.display()
                    )
                })?;
                vec![PinnedKey {
                    kid: None,
                    key,
                    algorithm,
                }]
            }
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading jwks_file {}", path.display()))?;
                let set: JwkSet = serde_json::from_str(&text)
                    .with_context(|| format!("jwks_file {} is not a JWK Set", path.display()))?;
                let mut keys = Vec::new();
                for jwk in set
                    .keys
                    .iter()
                    .filter(|k| !matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption)))
                {
                    let algorithm = match jwk.common.key_algorithm {
                        Some(alg) => Algorithm::from_str(&alg.to_string()).map_err(|_| {
                            anyhow::anyhow!("a key in {} has the non-JWS alg {alg}", path.display())
                        })?,
                        None => pinned.ok_or_else(|| {
                            anyhow::anyhow!(
                                "a key in {} has no alg and the issuer sets no algorithm",
                                path.display()
                            )
                        })?,
                    };
                    let key = DecodingKey::from_jwk(jwk)
                        .with_context(|| format!("a key in {} is unusable", path.display()))?;
                    if key.family() != public_family(algorithm)? {
                        anyhow::bail!(
                            "a key in {} does not fit its algorithm {algorithm:?}",
                            path.display()
                        );
                    }
                    keys.push(PinnedKey {
                        kid: jwk.common.key_id.clone(),
                        key,
                        algorithm,
                    });
                }
                if keys.is_empty() {
                    anyhow::bail!("jwks_file {} has no signature keys", path.display());
                }
                keys
            }
            _ => anyhow::bail!("an issuer needs exactly one of key_file and jwks_file"),
        };
        Ok(ExternalIssuer {
            config: config.clone(),
            keys,
        })
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// The key the token's header selects: by `kid`, or the only one.
    fn key_for(&self, kid: Option<&str>) -> Option<&PinnedKey> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .or_else(|| self.only_unnamed_key()),
            None => (self.keys.len() == 1).then(|| &self.keys[0]),
        }
    }

    fn only_unnamed_key(&self) -> Option<&PinnedKey> {
        match self.keys.as_slice() {
            [only] if only.kid.is_none() => Some(only),
            _ => None,
        }
    }

    /// Verifies signature, algorithm, `exp`, `nbf`, `iss` and `aud`, then reads the tenant
    /// and the scopes from their claims.
    pub fn verify(&self, token: &str) -> Result<ExternalIdentity, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(token_error)?;
        let pinned = self
            .key_for(header.kid.as_deref())
            .ok_or_else(|| AuthError::InvalidToken("the token's signing key is unknown".into()))?;
        if header.alg != pinned.algorithm {
            return Err(AuthError::InvalidToken(format!(
                "the token is signed with {:?}; this issuer's key accepts only {:?}",
                header.alg, pinned.algorithm
            )));
        }
        let mut validation = Validation::new(pinned.algorithm);
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &pinned.key, &validation)
            .map_err(token_error)?
            .claims;
        let claimed_tenant = claims
            .get(&self.config.tenant_claim)
            .and_then(Value::as_str);
        let tenant = match (&self.config.tenant, claimed_tenant) {
            (Some(fixed), Some(claimed)) if claimed != fixed => {
                return Err(AuthError::InvalidToken(format!(
                    "this issuer's tokens act only in tenant `{fixed}`"
                )))
            }
            (Some(fixed), _) => fixed.clone(),
            (None, Some(claimed)) => claimed.to_owned(),
            (None, None) => {
                return Err(AuthError::InvalidToken(format!(
                    "the token has no `{}` claim naming its tenant",
                    self.config.tenant_claim
                )))
            }
        };
        Ok(ExternalIdentity {
            tenant,
            subject: claims
                .get("sub")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            name: claims
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned),
            scopes: known_scopes(claims.get(&self.config.scope_claim)),
        })
    }
}

/// The scopes a claim names (a space-separated string or an array); names this gateway
/// does not know (an IdP's `openid`, `profile` …) grant nothing.
fn known_scopes(claim: Option<&Value>) -> Scopes {
    let names: Vec<&str> = match claim {
        Some(Value::String(s)) => s.split_whitespace().collect(),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let known: Vec<&str> = names
        .into_iter()
        .filter(|n| Scopes::parse(n).is_ok())
        .collect();
    Scopes::parse(&known.join(" ")).unwrap_or_default()
}

/// The key family of a public-key algorithm; HMAC is refused.
fn public_family(algorithm: Algorithm) -> anyhow::Result<AlgorithmFamily> {
    match algorithm.family() {
        AlgorithmFamily::Hmac => Err(anyhow::anyhow!(
            "{algorithm:?} uses a shared secret; trust a provider by its public key (RS*, PS*, ES*, EdDSA)"
        )),
        family => Ok(family),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_claims_keep_only_known_names() {
        let claim = Value::String("openid xapi:read evidence:read profile-photo".into());
        assert_eq!(
            known_scopes(Some(&claim)).names(),
            vec!["all/read", "evidence:read"]
        );
        let array = serde_json::json!(["statements/write", 7, "email"]);
        assert_eq!(known_scopes(Some(&array)).names(), vec!["statements/write"]);
        assert!(known_scopes(None).is_empty());
    }

    #[test]
    fn shared_secret_algorithms_are_refused() {
        assert!(public_family(Algorithm::HS256).is_err());
        assert!(matches!(
            public_family(Algorithm::PS256),
            Ok(AlgorithmFamily::Rsa)
        ));
    }
}
