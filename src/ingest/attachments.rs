//! The attachments of a batch (xAPI 1.0.3 Communication 1.5.2, IEEE 9274.1.1 4.1.11):
//! every declared attachment without a `fileUrl` comes with a part holding its content,
//! every part is declared and hashes to what it claims, and signature parts hold a JWS
//! that matches their statement.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::store::AttachmentData;
use crate::xapi::signature::{self, SIGNATURE_CONTENT_TYPE, SIGNATURE_USAGE};
use crate::xapi::Violation;

/// Every declared attachment without a `fileUrl` needs a part with its hash; every part must
/// be declared and hash to what it claims; signature parts must hold a matching JWS.
pub fn check(
    statements: &[Value],
    parts: &mut Vec<AttachmentData>,
    batch: bool,
) -> Result<(), Violation> {
    let mut by_hash: HashMap<String, &AttachmentData> = HashMap::new();
    for (i, p) in parts.iter().enumerate() {
        let actual = hex::encode(Sha256::digest(&p.content));
        if actual != p.sha2 {
            return Err(Violation::new(
                format!("attachment part {}", i + 1),
                "attachment-hash",
                format!(
                    "the part's content hashes to {actual}, not to the {} it declares",
                    p.sha2
                ),
            ));
        }
        by_hash.insert(p.sha2.clone(), p);
    }
    let mut declared = HashSet::new();
    for (i, s) in statements.iter().enumerate() {
        let prefix = if batch {
            format!("/{i}")
        } else {
            String::new()
        };
        for (j, a) in s
            .get("attachments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let ptr = format!("{prefix}/attachments/{j}");
            let sha2 = a
                .get("sha2")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_ascii_lowercase();
            declared.insert(sha2.clone());
            let part = by_hash.get(&sha2);
            if part.is_none() && a.get("fileUrl").is_none() {
                return Err(Violation::new(
                    format!("{ptr}/sha2"),
                    "attachment-missing",
                    "the attachment has no fileUrl and no multipart part carries its content",
                ));
            }
            if a.get("usageType").and_then(Value::as_str) == Some(SIGNATURE_USAGE) {
                if a.get("contentType").and_then(Value::as_str) != Some(SIGNATURE_CONTENT_TYPE) {
                    return Err(Violation::new(
                        format!("{ptr}/contentType"),
                        "signature",
                        "a signature attachment must have contentType application/octet-stream",
                    ));
                }
                if let Some(part) = part {
                    signature::verify(s, &part.content, &ptr)?;
                }
            }
        }
    }
    if let Some(extra) = parts.iter().find(|p| !declared.contains(&p.sha2)) {
        return Err(Violation::new(
            HASH_HEADER_NAME,
            "attachment-undeclared",
            format!(
                "the part with hash {} matches no attachment of the statements",
                extra.sha2
            ),
        ));
    }
    // One stored copy per content.
    let mut unique = HashSet::new();
    parts.retain(|p| unique.insert(p.sha2.clone()));
    Ok(())
}

const HASH_HEADER_NAME: &str = "X-Experience-API-Hash";
