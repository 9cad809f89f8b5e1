//! Rules of the document resources (State, Activity Profile, Agent Profile): entity tags,
//! `If-Match`/`If-None-Match` preconditions and the JSON merge of POST.

use bytes::Bytes;
use serde_json::Value;
use sha1::{Digest, Sha1};

use super::validate::Violation;

/// PUT replaces a document; POST merges JSON objects into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Replace,
    Merge,
}

/// What a write without `If-Match`/`If-None-Match` gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingPrecondition {
    Allowed,
    /// Refused with 409 Conflict when the document exists (PUT); a document that does not
    /// exist yet is created.
    Conflict,
    /// Always refused: 409 when the document exists, 400 when it does not (the strict
    /// reading of xAPI 1.0.3's client rule for profile PUTs, Communication 3.1.s3.b1).
    Required,
}

/// The precondition headers of a request, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preconditions {
    pub if_match: Option<Vec<String>>,
    pub if_none_match: Option<Vec<String>>,
    pub when_missing: MissingPrecondition,
}

/// Why a precondition failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreconditionError {
    Failed(String),
    /// A write without precondition headers over an existing document.
    Conflict,
    /// A write without precondition headers where they are required.
    Required,
}

impl Preconditions {
    pub fn none() -> Self {
        Preconditions {
            if_match: None,
            if_none_match: None,
            when_missing: MissingPrecondition::Allowed,
        }
    }

    /// Parses header values like `"abc", W/"def"` or `*` into bare tags.
    pub fn parse_tags(raw: &str) -> Vec<String> {
        raw.split(',')
            .map(|t| {
                t.trim()
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    .to_owned()
            })
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// Checks the headers against the current entity tag (`None`: no document).
    pub fn check(&self, current: Option<&str>) -> Result<(), PreconditionError> {
        if let Some(tags) = &self.if_match {
            let ok = match current {
                Some(etag) => tags.iter().any(|t| t == "*" || t == etag),
                None => false,
            };
            if !ok {
                return Err(PreconditionError::Failed(
                    "If-Match does not match the document's current ETag".into(),
                ));
            }
        }
        if let Some(tags) = &self.if_none_match {
            if let Some(etag) = current {
                if tags.iter().any(|t| t == "*" || t == etag) {
                    return Err(PreconditionError::Failed(
                        "If-None-Match matches the document's current ETag".into(),
                    ));
                }
            }
        }
        let has_header = self.if_match.is_some() || self.if_none_match.is_some();
        match (has_header, self.when_missing, current) {
            (false, MissingPrecondition::Conflict | MissingPrecondition::Required, Some(_)) => {
                Err(PreconditionError::Conflict)
            }
            (false, MissingPrecondition::Required, None) => Err(PreconditionError::Required),
            _ => Ok(()),
        }
    }
}

/// The entity tag of a document's content: the SHA-1 of the bytes in hex, as xAPI 1.0.3
/// (Communication 3.1) specifies, so clients can compute it themselves.
pub fn etag_of(content: &[u8]) -> String {
    hex::encode(Sha1::digest(content))
}

/// True for `application/json` with or without parameters.
pub fn is_json_content_type(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

/// The merge of POST: both the stored and the posted document must be JSON objects; the
/// posted top-level properties replace the stored ones.
pub fn merge_json(
    existing: &[u8],
    existing_type: &str,
    posted: &[u8],
    posted_type: &str,
) -> Result<Bytes, Violation> {
    let parse = |bytes: &[u8],
                 ty: &str,
                 which: &str|
     -> Result<serde_json::Map<String, Value>, Violation> {
        if !is_json_content_type(ty) {
            return Err(Violation::new(
                "",
                "document-merge",
                format!("the {which} document is not application/json, so it cannot be merged"),
            ));
        }
        match serde_json::from_slice(bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(Violation::new(
                "",
                "document-merge",
                format!("the {which} document is not a JSON object, so it cannot be merged"),
            )),
        }
    };
    let mut merged = parse(existing, existing_type, "stored")?;
    merged.extend(parse(posted, posted_type, "posted")?);
    Ok(Bytes::from(Value::Object(merged).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pre(
        if_match: Option<&str>,
        if_none_match: Option<&str>,
        when_missing: MissingPrecondition,
    ) -> Preconditions {
        Preconditions {
            if_match: if_match.map(Preconditions::parse_tags),
            if_none_match: if_none_match.map(Preconditions::parse_tags),
            when_missing,
        }
    }

    #[test]
    fn if_match_needs_the_current_tag() {
        let p = pre(Some("\"abc\""), None, MissingPrecondition::Allowed);
        assert!(p.check(Some("abc")).is_ok());
        assert!(matches!(
            p.check(Some("def")),
            Err(PreconditionError::Failed(_))
        ));
        assert!(matches!(p.check(None), Err(PreconditionError::Failed(_))));
    }

    #[test]
    fn if_none_match_star_refuses_existing() {
        let p = pre(None, Some("*"), MissingPrecondition::Allowed);
        assert!(p.check(None).is_ok());
        assert!(p.check(Some("abc")).is_err());
    }

    /// 1.0.3 Communication 3.1.s4.b13 (IEEE 9274.1.1 4.1.4): 409 only for a document
    /// that exists; a blind write creates one that does not.
    #[test]
    fn missing_header_conflicts_only_with_an_existing_document() {
        let p = pre(None, None, MissingPrecondition::Conflict);
        assert!(p.check(None).is_ok());
        assert_eq!(p.check(Some("x")), Err(PreconditionError::Conflict));
        let p = pre(None, None, MissingPrecondition::Allowed);
        assert!(p.check(None).is_ok() && p.check(Some("x")).is_ok());
        let p = pre(None, None, MissingPrecondition::Required);
        assert_eq!(p.check(None), Err(PreconditionError::Required));
        assert_eq!(p.check(Some("x")), Err(PreconditionError::Conflict));
    }

    #[test]
    fn etags_are_sha1_hex() {
        assert_eq!(etag_of(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn merge_replaces_top_level_properties() {
        let merged = merge_json(
            br#"{"a":1,"b":{"x":1}}"#,
            "application/json",
            br#"{"b":2,"c":3}"#,
            "application/json; charset=utf-8",
        );
        assert_eq!(merged.ok(), Some(Bytes::from(r#"{"a":1,"b":2,"c":3}"#)));
        assert!(merge_json(b"[1]", "application/json", b"{}", "application/json").is_err());
        assert!(merge_json(b"{}", "text/plain", b"{}", "application/json").is_err());
    }
}
