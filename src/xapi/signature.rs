//! Signed statements: the JWS carried by a `signature` attachment must be well formed, use an
//! RSA-SHA2 algorithm, and its payload must be the statement it is attached to. When the JWS
//! header carries an X.509 chain (`x5c`), the signature must verify with the public key of its
//! first certificate (xAPI 1.0.3 Data 2.6, "Verification"). Trust in the chain itself is the
//! consumer's business: the LRS has no trust anchors to check it against.

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Header};
use serde_json::Value;
use x509_cert::der::Decode as _;

use super::statement::Fingerprint;
use super::validate::Violation;

pub const SIGNATURE_USAGE: &str = "http://adlnet.gov/expapi/attachments/signature";
pub const SIGNATURE_CONTENT_TYPE: &str = "application/octet-stream";

fn bad(ptr: &str, message: impl Into<String>) -> Violation {
    Violation::new(ptr, "signature", message)
}

/// Checks the JWS (compact serialization) of the signature attachment at `ptr`.
pub fn verify(statement: &Value, jws: &[u8], ptr: &str) -> Result<(), Violation> {
    let text = std::str::from_utf8(jws)
        .map_err(|_| bad(ptr, "the signature is not a JWS compact serialization"))?
        .trim();
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(bad(ptr, "the signature is not a JWS compact serialization"));
    }
    let header = jsonwebtoken::decode_header(text)
        .map_err(|e| bad(ptr, format!("the JWS header is malformed: {e}")))?;
    if !matches!(
        header.alg,
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512
    ) {
        return Err(bad(
            ptr,
            format!(
                "the JWS algorithm {:?} is not one of RS256, RS384, RS512",
                header.alg
            ),
        ));
    }
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1].trim_end_matches('='))
        .map_err(|_| bad(ptr, "the JWS payload is not base64url"))?;
    let signed: Value = serde_json::from_slice(&payload)
        .map_err(|_| bad(ptr, "the JWS payload is not a JSON statement"))?;
    if !same_statement(&signed, statement) {
        return Err(bad(
            ptr,
            "the JWS payload does not match the statement it is attached to",
        ));
    }
    verify_with_certificate(&header, &parts, ptr)
}

/// Verifies the signature with the key of the first `x5c` certificate, when there is one.
fn verify_with_certificate(header: &Header, parts: &[&str], ptr: &str) -> Result<(), Violation> {
    let chain = header.x5c_der().map_err(|_| {
        bad(
            ptr,
            "the JWS x5c header is not a list of base64 certificates",
        )
    })?;
    let Some(first) = chain.as_deref().and_then(<[Vec<u8>]>::first) else {
        return Ok(());
    };
    let certificate = x509_cert::Certificate::from_der(first).map_err(|e| {
        bad(
            ptr,
            format!("the first x5c certificate is not DER X.509: {e}"),
        )
    })?;
    // For an RSA key the subjectPublicKey bits are the PKCS#1 RSAPublicKey.
    let spki = certificate.tbs_certificate.subject_public_key_info;
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| bad(ptr, "the x5c certificate's public key is not whole bytes"))?;
    let message = format!("{}.{}", parts[0], parts[1]);
    let valid = jsonwebtoken::crypto::verify(
        parts[2],
        message.as_bytes(),
        &DecodingKey::from_rsa_der(key),
        header.alg,
    )
    .unwrap_or(false);
    if valid {
        Ok(())
    } else {
        Err(bad(
            ptr,
            "the JWS signature does not verify with the x5c certificate's public key",
        ))
    }
}

/// The signed payload is the statement before the signature was attached: compare the two
/// with the statement comparison rules, ignoring `attachments`.
fn same_statement(signed: &Value, statement: &Value) -> bool {
    let without_attachments = |v: &Value| {
        let mut v = v.clone();
        if let Some(obj) = v.as_object_mut() {
            obj.remove("attachments");
        }
        v
    };
    let id = |v: &Value| {
        v.get("id")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    let ids_agree = match (id(signed), id(statement)) {
        (Some(a), Some(b)) => a == b,
        (Some(_), None) => false,
        _ => true,
    };
    ids_agree
        && Fingerprint::of(&without_attachments(signed))
            .matches(&Fingerprint::of(&without_attachments(statement)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jws(header: &Value, payload: &Value) -> String {
        let enc =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.c2ln", enc(header), enc(payload))
    }

    fn statement() -> Value {
        json!({"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "http://v/x"}, "object": {"id": "http://a/1"}})
    }

    #[test]
    fn accepts_a_matching_rs256_signature() {
        let token = jws(&json!({"alg": "RS256"}), &statement());
        let mut signed = statement();
        signed["attachments"] = json!([{"usageType": SIGNATURE_USAGE}]);
        assert_eq!(verify(&signed, token.as_bytes(), "/attachments/0"), Ok(()));
    }

    #[test]
    fn rejects_other_algorithms_and_mismatches() {
        let hs = jws(&json!({"alg": "HS256"}), &statement());
        assert!(verify(&statement(), hs.as_bytes(), "").is_err());
        let mut other = statement();
        other["verb"]["id"] = json!("http://v/other");
        let mismatch = jws(&json!({"alg": "RS256"}), &other);
        assert!(verify(&statement(), mismatch.as_bytes(), "").is_err());
        assert!(verify(&statement(), b"not-a-jws", "").is_err());
    }
}
