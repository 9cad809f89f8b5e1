//! `multipart/mixed` bodies of statement requests and responses: the statements as the
//! first part, then one part per attachment, identified by `X-Experience-API-Hash`.

use std::convert::Infallible;

use bytes::Bytes;
use serde_json::Value;

use crate::config::Limits;
use crate::http::error::ApiError;
use crate::store::AttachmentData;

pub use crate::lrs::mixed::{render_mixed, HASH_HEADER};

/// A request body split into its statements part and its attachment parts.
struct MixedBody {
    pub statements: Bytes,
    pub attachments: Vec<AttachmentData>,
}

/// The statements (JSON) and attachment parts of a statements PUT/POST.
pub struct StatementsBody {
    pub statements: Value,
    pub attachments: Vec<AttachmentData>,
}

/// Reads a statements PUT/POST body: `application/json` (or no type), or
/// `multipart/mixed` with the statements first and then the attachments, within `limits`.
pub async fn read_statements(
    content_type: &str,
    body: Bytes,
    limits: &Limits,
) -> Result<StatementsBody, ApiError> {
    let (json, attachments) = match mixed_boundary(content_type) {
        Some(boundary) => {
            let mixed = parse_mixed(body, boundary?, limits).await?;
            (mixed.statements, mixed.attachments)
        }
        None => {
            let is_json = content_type
                .split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
            if !is_json && !content_type.is_empty() {
                return Err(ApiError::invalid(
                    "Content-Type",
                    "content-type",
                    "statements must be sent as application/json or multipart/mixed",
                ));
            }
            (body, Vec::new())
        }
    };
    // Refuses a property given twice in one object (IEEE 9274.1.1 4.2.1).
    let statements = crate::xapi::json::parse(&json).map_err(|refused| {
        crate::xapi::json::depth_refusal(&refused, limits.json_depth).unwrap_or(refused)
    })?;
    crate::xapi::json::check_shape(&statements, limits.json_depth, limits.string_bytes)?;
    Ok(StatementsBody {
        statements,
        attachments,
    })
}

/// The boundary of a `multipart/mixed` content type, or `None` for any other type.
fn mixed_boundary(content_type: &str) -> Option<Result<String, ApiError>> {
    let mime: mime::Mime = content_type.parse().ok()?;
    if mime.type_() != mime::MULTIPART || mime.subtype() != "mixed" {
        return None;
    }
    Some(
        mime.get_param(mime::BOUNDARY)
            .map(|b| b.as_str().to_owned())
            .ok_or_else(|| {
                ApiError::invalid(
                    "Content-Type",
                    "multipart",
                    "multipart/mixed needs a boundary parameter",
                )
            }),
    )
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::invalid("body", "multipart", message)
}

/// A 413 for an attachment part over a cap.
fn over(rule: &'static str, message: String) -> ApiError {
    ApiError::OverLimit(crate::xapi::Violation::new("attachments", rule, message))
}

async fn parse_mixed(
    body: Bytes,
    boundary: String,
    limits: &Limits,
) -> Result<MixedBody, ApiError> {
    let stream = futures_util::stream::once(async move { Ok::<Bytes, Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut statements = None;
    let mut attachments = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| bad(format!("malformed multipart body: {e}")))?
    {
        let header = |name: &str| {
            field
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header("content-type").unwrap_or_default();
        let hash = header(HASH_HEADER);
        let encoding = header("content-transfer-encoding");
        let content = field
            .bytes()
            .await
            .map_err(|e| bad(format!("malformed multipart body: {e}")))?;
        if statements.is_none() {
            let is_json = content_type
                .split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
            if !is_json {
                return Err(bad("the first part of a multipart/mixed statement request must be application/json"));
            }
            statements = Some(content);
            continue;
        }
        let Some(sha2) = hash else {
            return Err(bad(format!(
                "every attachment part needs an {HASH_HEADER} header"
            )));
        };
        if encoding.is_some_and(|e| !e.eq_ignore_ascii_case("binary")) {
            return Err(bad(
                "attachment parts must use Content-Transfer-Encoding: binary",
            ));
        }
        if attachments.len() >= limits.attachments {
            return Err(over(
                "max-attachments",
                format!(
                    "a request may carry at most {} attachment parts",
                    limits.attachments
                ),
            ));
        }
        if content.len() > limits.attachment_bytes {
            return Err(over(
                "max-attachment-bytes",
                format!(
                    "the attachment part {} is {} bytes long; the most allowed is {}",
                    sha2.trim(),
                    content.len(),
                    limits.attachment_bytes
                ),
            ));
        }
        attachments.push(AttachmentData {
            sha2: sha2.trim().to_ascii_lowercase(),
            content_type,
            content,
        });
    }
    let statements = statements.ok_or_else(|| bad("the multipart body has no statements part"))?;
    Ok(MixedBody {
        statements,
        attachments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[actix_web::test]
    async fn rendered_bodies_parse_back() {
        let attachment = AttachmentData {
            sha2: "ab".repeat(32),
            content_type: "text/plain".into(),
            content: Bytes::from("hello"),
        };
        let (content_type, body) = render_mixed(
            &json!({"statements": []}),
            std::slice::from_ref(&attachment),
        );
        let boundary = match mixed_boundary(&content_type) {
            Some(Ok(b)) => b,
            _ => panic!("no boundary in {content_type}"),
        };
        let parsed = parse_mixed(body, boundary, &Limits::default())
            .await
            .ok()
            .map(|m| (m.statements, m.attachments));
        let (statements, attachments) = parsed.unwrap_or_default();
        assert_eq!(
            serde_json::from_slice::<Value>(&statements).ok(),
            Some(json!({"statements": []}))
        );
        assert_eq!(attachments.len(), 1);
        assert_eq!(attachments[0].content, Bytes::from("hello"));
        assert_eq!(attachments[0].sha2, "ab".repeat(32));
    }

    #[test]
    fn only_multipart_mixed_has_a_boundary() {
        assert!(mixed_boundary("application/json").is_none());
        assert!(matches!(mixed_boundary("multipart/mixed"), Some(Err(_))));
    }
}
