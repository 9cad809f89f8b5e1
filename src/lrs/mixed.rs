//! The `multipart/mixed` form of a statements document with its attachments (xAPI 1.0.3
//! Communication 1.5.2): what a GET answers and what a forwarder sends another LRS.

use bytes::Bytes;
use serde_json::Value;

use crate::store::AttachmentData;

/// The header naming an attachment part by its content's SHA-2 hash.
pub const HASH_HEADER: &str = "X-Experience-API-Hash";

/// Renders a statements document and its attachments as `multipart/mixed`.
/// Returns the content type (with its boundary) and the body.
pub fn render_mixed(statements: &Value, attachments: &[AttachmentData]) -> (String, Bytes) {
    let boundary = format!("lrsgate-{}", uuid::Uuid::new_v4().simple());
    let mut out = Vec::new();
    let mut part = |headers: &[(&str, &str)], content: &[u8]| {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        for (k, v) in headers {
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(content);
        out.extend_from_slice(b"\r\n");
    };
    part(
        &[("Content-Type", "application/json")],
        statements.to_string().as_bytes(),
    );
    for a in attachments {
        part(
            &[
                ("Content-Type", &a.content_type),
                ("Content-Transfer-Encoding", "binary"),
                (HASH_HEADER, &a.sha2),
            ],
            &a.content,
        );
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (
        format!("multipart/mixed; boundary={boundary}"),
        Bytes::from(out),
    )
}
