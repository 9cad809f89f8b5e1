//! Signed statements: a JWS in a signature attachment, sent in a multipart/mixed request.
//! Statements signed correctly with RS256, RS384 or RS512 (with or without an x5c
//! certificate) must be stored; malformed signatures, payloads that are not the statement,
//! other algorithms and wrong attachment types must be refused with 400. The JWS is built by
//! hand (header, payload, signature) so a check can break exactly one of its pieces; the RSA
//! key and certificate are the suite's test-only pair in `conformance/keys/`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};

use crate::check::{Area, Check, Ctx, Failure, Verdict};
use crate::checks::attachments::{self, Part};
use crate::checks::common;
use crate::client::excerpt;
use crate::{ensure, fail};

/// The test-only RSA key the suite signs with (see `conformance/keys/README.md`).
const TEST_KEY: &str = include_str!("../../keys/test-signing-key.pem");
/// The self-signed certificate of [`TEST_KEY`], for `x5c` headers.
const TEST_CERTIFICATE: &str = include_str!("../../keys/test-signing-cert.pem");

const SIGNATURE_USAGE: &str = "http://adlnet.gov/expapi/attachments/signature";
const SIGNATURE_TYPE: &str = "application/octet-stream";

pub fn checks() -> Vec<Check> {
    vec![
        Check::new(
            Area::Signatures,
            "signatures.rs-algorithms-accepted",
            "Statements signed with RS256, RS384 and RS512 are stored with their signature",
            rs_algorithms_accepted,
        )
        .v1(&[
            "Data 2.6.s4.b1",
            "Data 2.6.s4.b3",
            "Data 2.6.s4.b4",
            "Data 2.6.s5.b3",
            "Data 2.6.s5.b3.b1",
            "Data 2.6.s5.b3.b4",
        ])
        .v2(&["4.2.6#1", "4.2.6#2", "4.2.6#3", "4.2.6#4", "4.2.6#7", "4.2.6#10"]),
        Check::new(
            Area::Signatures,
            "signatures.equivalent-payload-accepted",
            "A payload serializing the statement with other key order and spacing is accepted",
            equivalent_payload_accepted,
        )
        .v1(&["Data 2.6.s5.b3.b2"])
        .v2(&["4.2.6#8"]),
        Check::new(
            Area::Signatures,
            "signatures.x5c-verified",
            "With an x5c certificate, a signature that verifies is accepted and one that does not gets 400",
            x5c_verified,
        )
        .v1(&["Data 2.6.s5.b3.b3"])
        .v2(&["4.2.6#9"]),
        Check::new(
            Area::Signatures,
            "signatures.not-a-jws-refused",
            "A signature attachment whose data is no JWS gets 400",
            not_a_jws_refused,
        )
        .v1(&["Data 2.6.s5.b1", "Data 2.6.s5.b3.b1", "Data 2.6.s4.b1"])
        .v2(&["4.2.6#5", "4.2.6#7", "4.2.6#1"]),
        Check::new(
            Area::Signatures,
            "signatures.json-serialization-refused",
            "A JWS in JSON instead of Compact Serialization gets 400",
            json_serialization_refused,
        )
        .v2(&["4.2.6#2", "4.2.6#5"]),
        Check::new(
            Area::Signatures,
            "signatures.payload-not-json-refused",
            "A JWS whose payload is not JSON gets 400",
            payload_not_json_refused,
        )
        .v1(&["Data 2.6.s4.b3", "Data 2.6.s5.b1", "Data 2.6.s5.b3.b1"])
        .v2(&["4.2.6#3", "4.2.6#5", "4.2.6#7"]),
        Check::new(
            Area::Signatures,
            "signatures.payload-mismatch-refused",
            "A JWS whose payload is another statement than the one sent gets 400",
            payload_mismatch_refused,
        )
        .v1(&["Data 2.6.s4.b3", "Data 2.6.s5.b1", "Data 2.6.s5.b3.b2"])
        .v2(&["4.2.6#3", "4.2.6#5", "4.2.6#8"]),
        Check::new(
            Area::Signatures,
            "signatures.other-algorithm-refused",
            "A JWS signed with HS256 or PS256 instead of RS256/384/512 gets 400",
            other_algorithm_refused,
        )
        .v1(&["Data 2.6.s4.b4", "Data 2.6.s5.b1", "Data 2.6.s5.b3.b4"])
        .v2(&["4.2.6#4", "4.2.6#5", "4.2.6#10"]),
        Check::new(
            Area::Signatures,
            "signatures.wrong-content-type-refused",
            "A signature attachment whose contentType is not application/octet-stream gets 400",
            wrong_content_type_refused,
        )
        .v1(&["Data 2.6.s4.b1", "Data 2.6.s5.b3.b4"])
        .v2(&["4.2.6#1", "4.2.6#10"]),
        Check::new(
            Area::Signatures,
            "signatures.refusal-explains",
            "The 400 for a badly signed statement carries a message",
            refusal_explains,
        )
        .v1(&["Data 2.6.s5.b2"])
        .v2(&["4.2.6#6"]),
    ]
}

/// A statement to sign: a fresh statement with an id, so the payload names the id stored.
fn unsigned(cx: &Ctx) -> Value {
    let mut statement = cx.fx.statement();
    statement["id"] = json!(cx.fx.uuid());
    statement
}

/// The test key, for the RS and PS algorithms.
fn rsa_key() -> Result<EncodingKey, Failure> {
    EncodingKey::from_rsa_pem(TEST_KEY.as_bytes())
        .map_err(|e| Failure::new(format!("the suite's test signing key does not load: {e}")))
}

/// The DER certificate of the test key as an `x5c` entry (standard base64).
fn certificate_b64() -> String {
    TEST_CERTIFICATE
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect()
}

/// A compact JWS of `payload` with `header`, signed with `key` by `algorithm`.
fn jws(
    header: &Value,
    payload: &[u8],
    algorithm: Algorithm,
    key: &EncodingKey,
) -> Result<String, Failure> {
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, algorithm)
        .map_err(|e| Failure::new(format!("cannot sign with {algorithm:?}: {e}")))?;
    Ok(format!("{message}.{signature}"))
}

/// The JWS of `statement` signed with the test key by an RS algorithm.
fn rs_jws(statement: &Value, algorithm: Algorithm) -> Result<String, Failure> {
    jws(
        &json!({ "alg": format!("{algorithm:?}") }),
        statement.to_string().as_bytes(),
        algorithm,
        &rsa_key()?,
    )
}

/// The multipart request of `statement` carrying `signature` as its signature attachment
/// described with `content_type`.
fn signed_parts(statement: &Value, signature: &[u8], content_type: &str) -> Vec<Part> {
    let mut sent = statement.clone();
    sent["attachments"] = json!([attachments::attachment_object(
        SIGNATURE_USAGE,
        content_type,
        signature
    )]);
    vec![
        Part::statements(&sent),
        Part::attachment(content_type, signature),
    ]
}

/// POSTs `statement` signed by `signature`; fails unless it is stored with its signature
/// attachment.
async fn ensure_signed_accepted(
    cx: &Ctx,
    statement: &Value,
    signature: &str,
    what: &str,
) -> Verdict {
    let ids = attachments::ensure_accepted(
        cx,
        &signed_parts(statement, signature.as_bytes(), SIGNATURE_TYPE),
        &format!("with a statement {what}"),
    )
    .await?;
    let id = statement["id"].as_str().unwrap_or_default();
    ensure!(
        ids.iter().any(|i| i == id),
        "POST of a statement {what}: expected its id {id} back, got {ids:?}"
    );
    // Stored with its signature attachment; reading the JWS back is the attachments
    // area's business (attachments=true), so only the attachment object is compared.
    let got = common::get_statement(cx, id).await?;
    let sha2 = attachments::sha256_hex(signature.as_bytes());
    ensure!(
        got["attachments"].as_array().is_some_and(|list| list
            .iter()
            .any(|a| a["usageType"] == SIGNATURE_USAGE && a["sha2"] == sha2.as_str())),
        "the statement {what} was stored without its signature attachment (sha2 {sha2}): \
         attachments {}",
        excerpt(&got["attachments"].to_string(), 300)
    );
    Ok(())
}

/// POSTs `statement` with `signature` (as a signature attachment typed `content_type`) and
/// fails unless it is refused with 400; returns the answer's body.
async fn ensure_signed_refused(
    cx: &Ctx,
    statement: &Value,
    signature: &[u8],
    content_type: &str,
    what: &str,
) -> Result<String, Failure> {
    let response =
        attachments::post_multipart(cx, &signed_parts(statement, signature, content_type))
            .await?
            .expect(400, &format!("POST /statements of a statement {what}"))?;
    Ok(response.text().into_owned())
}

async fn rs_algorithms_accepted(cx: Ctx) -> Verdict {
    for algorithm in [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512] {
        let statement = unsigned(&cx);
        let signature = rs_jws(&statement, algorithm)?;
        ensure_signed_accepted(
            &cx,
            &statement,
            &signature,
            &format!("signed with {algorithm:?}"),
        )
        .await?;
    }
    Ok(())
}

async fn equivalent_payload_accepted(cx: Ctx) -> Verdict {
    let statement = unsigned(&cx);
    // The same statement with its properties in reverse order and pretty-printed.
    let reordered: serde_json::Map<String, Value> = statement
        .as_object()
        .map(|m| {
            m.iter()
                .rev()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let payload = serde_json::to_vec_pretty(&Value::Object(reordered))
        .map_err(|e| Failure::new(format!("cannot serialize the payload: {e}")))?;
    let signature = jws(
        &json!({ "alg": "RS256" }),
        &payload,
        Algorithm::RS256,
        &rsa_key()?,
    )?;
    ensure_signed_accepted(
        &cx,
        &statement,
        &signature,
        "whose signed payload orders and spaces its properties differently",
    )
    .await
}

async fn x5c_verified(cx: Ctx) -> Verdict {
    let header = json!({ "alg": "RS256", "x5c": [certificate_b64()] });
    let statement = unsigned(&cx);
    let signature = jws(
        &header,
        statement.to_string().as_bytes(),
        Algorithm::RS256,
        &rsa_key()?,
    )?;
    ensure_signed_accepted(
        &cx,
        &statement,
        &signature,
        "signed with RS256 and carrying its certificate in x5c",
    )
    .await?;

    // A well-formed JWS whose signature is that of another payload: it cannot verify.
    let statement = unsigned(&cx);
    let genuine = jws(
        &header,
        statement.to_string().as_bytes(),
        Algorithm::RS256,
        &rsa_key()?,
    )?;
    let foreign = jws(&header, b"{\"other\":true}", Algorithm::RS256, &rsa_key()?)?;
    let (Some((message, _)), Some((_, wrong))) =
        (genuine.rsplit_once('.'), foreign.rsplit_once('.'))
    else {
        fail!("the suite built a JWS without three parts");
    };
    ensure_signed_refused(
        &cx,
        &statement,
        format!("{message}.{wrong}").as_bytes(),
        SIGNATURE_TYPE,
        "whose RS256 signature does not verify with the certificate in its x5c header",
    )
    .await?;
    Ok(())
}

async fn not_a_jws_refused(cx: Ctx) -> Verdict {
    ensure_signed_refused(
        &cx,
        &unsigned(&cx),
        b"this is not a JSON web signature",
        SIGNATURE_TYPE,
        "whose signature attachment is not a JWS",
    )
    .await?;
    Ok(())
}

async fn json_serialization_refused(cx: Ctx) -> Verdict {
    let statement = unsigned(&cx);
    let compact = rs_jws(&statement, Algorithm::RS256)?;
    let pieces: Vec<&str> = compact.split('.').collect();
    let [protected, payload, signature] = pieces.as_slice() else {
        fail!("the suite built a JWS without three parts: {compact}");
    };
    let general = json!({ "payload": payload, "protected": protected, "signature": signature });
    ensure_signed_refused(
        &cx,
        &statement,
        general.to_string().as_bytes(),
        SIGNATURE_TYPE,
        "whose JWS uses the JSON serialization",
    )
    .await?;
    Ok(())
}

async fn payload_not_json_refused(cx: Ctx) -> Verdict {
    let statement = unsigned(&cx);
    let mut broken = statement.to_string();
    broken.truncate(broken.len() / 2);
    let signature = jws(
        &json!({ "alg": "RS256" }),
        broken.as_bytes(),
        Algorithm::RS256,
        &rsa_key()?,
    )?;
    ensure_signed_refused(
        &cx,
        &statement,
        signature.as_bytes(),
        SIGNATURE_TYPE,
        "whose JWS payload is truncated JSON",
    )
    .await?;
    Ok(())
}

async fn payload_mismatch_refused(cx: Ctx) -> Verdict {
    let statement = unsigned(&cx);
    let mut other = statement.clone();
    other["verb"] = cx.fx.verb();
    let signature = rs_jws(&other, Algorithm::RS256)?;
    ensure_signed_refused(
        &cx,
        &statement,
        signature.as_bytes(),
        SIGNATURE_TYPE,
        "whose JWS payload has another verb",
    )
    .await?;
    Ok(())
}

async fn other_algorithm_refused(cx: Ctx) -> Verdict {
    let hmac = EncodingKey::from_secret(b"lrs-conformance test-only secret");
    let rsa = rsa_key()?;
    for (algorithm, key) in [(Algorithm::HS256, &hmac), (Algorithm::PS256, &rsa)] {
        let statement = unsigned(&cx);
        let signature = jws(
            &json!({ "alg": format!("{algorithm:?}") }),
            statement.to_string().as_bytes(),
            algorithm,
            key,
        )?;
        ensure_signed_refused(
            &cx,
            &statement,
            signature.as_bytes(),
            SIGNATURE_TYPE,
            &format!("signed with {algorithm:?}"),
        )
        .await?;
    }
    Ok(())
}

async fn wrong_content_type_refused(cx: Ctx) -> Verdict {
    let statement = unsigned(&cx);
    let signature = rs_jws(&statement, Algorithm::RS256)?;
    ensure_signed_refused(
        &cx,
        &statement,
        signature.as_bytes(),
        "text/plain",
        "whose signature attachment has contentType text/plain",
    )
    .await?;
    Ok(())
}

async fn refusal_explains(cx: Ctx) -> Verdict {
    let statement = unsigned(&cx);
    let mut other = statement.clone();
    other["object"] = cx.fx.activity();
    let signature = rs_jws(&other, Algorithm::RS256)?;
    let body = ensure_signed_refused(
        &cx,
        &statement,
        signature.as_bytes(),
        SIGNATURE_TYPE,
        "whose JWS payload has another object",
    )
    .await?;
    ensure!(
        !body.trim().is_empty(),
        "the 400 for a statement whose signature does not match carries no message"
    );
    if let Ok(json) = serde_json::from_str::<Value>(&body) {
        ensure!(
            !json.is_null() && json != json!({}),
            "the 400 for a statement whose signature does not match carries no message: {}",
            excerpt(&body, 200)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn the_test_key_signs_every_rs_algorithm() {
        let statement = json!({"actor": {"mbox": "mailto:a@example.org"}});
        for algorithm in [Algorithm::RS256, Algorithm::RS384, Algorithm::RS512] {
            let token = rs_jws(&statement, algorithm).unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.alg, algorithm);
        }
        assert!(STANDARD.decode(certificate_b64()).unwrap().len() > 100);
    }
}
