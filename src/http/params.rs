//! Query and path parameters, parsed at the edge into the values handlers pass on: Agent
//! JSON, IRIs, UUIDs, timestamps, booleans, item references and page sizes. Every failure
//! is a 400 naming the parameter (as the pointer) and the rule it breaks.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde_json::Value;

use super::error::{ApiError, ApiResult};
use crate::xapi::agent::ifi_key;
use crate::xapi::rules::is_iri;
use crate::xapi::time::parse_query_timestamp;
use crate::xapi::{StatementFormat, Validator, XapiVersion};

/// An Agent given as JSON to a gateway API; the service checks what it identifies.
pub struct AgentJson(Value);

impl AgentJson {
    pub fn parse(name: &str, raw: &str) -> ApiResult<Self> {
        let agent = serde_json::from_str(raw)
            .map_err(|e| ApiError::invalid(name, "json", format!("{name} is not JSON: {e}")))?;
        check_identifiers(&agent, name)?;
        Ok(AgentJson(agent))
    }

    pub fn optional(name: &str, raw: Option<&str>) -> ApiResult<Option<Self>> {
        raw.map(|raw| Self::parse(name, raw)).transpose()
    }

    pub fn into_value(self) -> Value {
        self.0
    }
}

/// Checks the identifiers an Agent given to a gateway API carries as xAPI does (exactly
/// one IFI; mbox, openid and account homePage IRIs; mbox_sha1sum 40 hex digits; an account
/// of homePage and name only), so that no malformed identity is stored or answered;
/// `pointer` locates the agent.
pub fn check_identifiers(agent: &Value, pointer: &str) -> ApiResult<()> {
    use crate::xapi::agent::IFI_PROPERTIES;
    use crate::xapi::rules::join;
    let Some(obj) = agent.as_object() else {
        return Err(ApiError::invalid(
            pointer,
            "agent",
            "an Agent is a JSON object",
        ));
    };
    if IFI_PROPERTIES
        .iter()
        .filter(|p| obj.contains_key(**p))
        .count()
        != 1
    {
        return Err(ApiError::invalid(
            pointer,
            "agent-ifi",
            "an Agent needs exactly one of mbox, mbox_sha1sum, openid or account",
        ));
    }
    if let Some(account) = obj.get("account") {
        let well_formed = account.as_object().is_some_and(|a| {
            a.len() == 2
                && ["homePage", "name"]
                    .iter()
                    .all(|k| a.get(*k).is_some_and(Value::is_string))
        });
        if !well_formed {
            return Err(ApiError::invalid(
                join(pointer, "account"),
                "account",
                "an account is an object of two strings, homePage and name",
            ));
        }
    }
    crate::xapi::rules::actor(agent, pointer)?;
    let sha1 = agent.get("mbox_sha1sum");
    if sha1.is_some_and(|v| {
        !v.as_str()
            .is_some_and(|s| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()))
    }) {
        return Err(ApiError::invalid(
            join(pointer, "mbox_sha1sum"),
            "mbox_sha1sum",
            "mbox_sha1sum must be 40 hexadecimal digits",
        ));
    }
    Ok(())
}

/// Checks every Agent of a list in a request body (`pointer` locates the list).
pub fn check_agents(agents: &[Value], pointer: &str) -> ApiResult<()> {
    agents
        .iter()
        .enumerate()
        .try_for_each(|(i, a)| check_identifiers(a, &format!("{pointer}/{i}")))
}

/// The `agent` parameter of an xAPI resource: valid for the request's version, with the
/// key of its identifier.
pub struct XapiAgent {
    pub agent: Value,
    pub ifi: String,
}

impl XapiAgent {
    /// `expected` says what the resource takes, e.g. "an Agent or Group".
    pub fn parse(
        raw: &str,
        expected: &str,
        validator: &Validator,
        version: XapiVersion,
    ) -> ApiResult<Self> {
        let agent: Value = serde_json::from_str(raw).map_err(|_| {
            ApiError::invalid(
                "agent",
                "agent",
                format!("the agent parameter must be {expected} as JSON"),
            )
        })?;
        validator
            .actor(version, &agent)
            .map_err(|v| ApiError::Invalid(v.under("agent")))?;
        let ifi = ifi_key(&agent).ok_or_else(|| {
            ApiError::invalid("agent", "agent", "the agent must have an identifier")
        })?;
        Ok(XapiAgent { agent, ifi })
    }
}

/// An IRI (an activity id, a verb id).
pub struct Iri(String);

impl Iri {
    pub fn parse(name: &str, raw: &str) -> ApiResult<Self> {
        if !is_iri(raw) {
            return Err(ApiError::invalid(
                name,
                "iri",
                format!("`{raw}` is not an IRI"),
            ));
        }
        Ok(Iri(raw.to_owned()))
    }

    pub fn optional(name: &str, raw: Option<&str>) -> ApiResult<Option<String>> {
        raw.map(|raw| Self::parse(name, raw).map(Iri::into_string))
            .transpose()
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A UUID in its hyphenated 36-character form, kept lower-case.
pub struct Uuid(String);

impl Uuid {
    pub fn parse(name: &str, raw: &str) -> ApiResult<Self> {
        uuid::Uuid::parse_str(raw)
            .ok()
            .filter(|_| raw.len() == 36)
            .map(|u| Uuid(u.hyphenated().to_string()))
            .ok_or_else(|| ApiError::invalid(name, "uuid", format!("`{raw}` is not a UUID")))
    }

    pub fn optional(name: &str, raw: Option<&str>) -> ApiResult<Option<String>> {
        raw.map(|raw| Self::parse(name, raw).map(Uuid::into_string))
            .transpose()
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// An ISO 8601 timestamp, as Unix milliseconds.
pub struct Timestamp;

impl Timestamp {
    pub fn parse(name: &str, raw: &str) -> ApiResult<i64> {
        parse_query_timestamp(raw)
            .map(|t| t.timestamp_millis())
            .ok_or_else(|| {
                ApiError::invalid(
                    name,
                    "timestamp",
                    format!("`{raw}` is not an ISO 8601 timestamp"),
                )
            })
    }

    pub fn optional(name: &str, raw: Option<&str>) -> ApiResult<Option<i64>> {
        raw.map(|raw| Self::parse(name, raw)).transpose()
    }
}

/// An xAPI boolean parameter: `true` or `false`, false when absent.
pub struct Flag;

impl Flag {
    pub fn parse(name: &str, raw: Option<&str>) -> ApiResult<bool> {
        match raw {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ApiError::invalid(
                name,
                "boolean",
                format!("`{other}` is not true or false"),
            )),
        }
    }
}

/// The `format` of statements: exact (the default), ids or canonical.
pub fn statement_format(raw: Option<&str>) -> ApiResult<StatementFormat> {
    match raw {
        None => Ok(StatementFormat::Exact),
        Some(raw) => StatementFormat::parse(raw).ok_or_else(|| {
            ApiError::invalid(
                "format",
                "format",
                format!("`{raw}` is not one of exact, ids, canonical"),
            )
        }),
    }
}

/// The `{item}` of `/competencies/{item}/…`: a competency's IRI (percent-encoded) or its
/// code, as given; the competency service resolves it.
pub struct ItemRef(String);

impl ItemRef {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromRequest for ItemRef {
    type Error = ApiError;
    type Future = Ready<ApiResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let raw = req.match_info().get("item").unwrap_or_default();
        ready(
            percent_encoding::percent_decode_str(raw)
                .decode_utf8()
                .map(|item| ItemRef(item.into_owned()))
                .map_err(|_| ApiError::invalid("item", "utf-8", "the item is not UTF-8")),
        )
    }
}

/// A page size (`limit`) of the gateway APIs.
pub struct PageLimit;

impl PageLimit {
    /// `given` or `default`, refused outside 1..=`max`.
    pub fn within(given: Option<u64>, default: u64, max: u64) -> ApiResult<u64> {
        match given.unwrap_or(default) {
            0 => Err(ApiError::invalid(
                "limit",
                "range",
                "limit must be at least 1",
            )),
            n if n > max => Err(ApiError::invalid(
                "limit",
                "range",
                format!("limit must be at most {max}"),
            )),
            n => Ok(n),
        }
    }

    /// `given` or `default`, brought into 1..=`max`.
    pub fn clamped(given: Option<usize>, default: usize, max: usize) -> usize {
        given.unwrap_or(default).clamp(1, max)
    }

    /// The `limit` of a statement query: 0 or absent means the server's page size, larger
    /// values are capped to it.
    pub fn statements(raw: Option<&str>, page_limit: u32) -> ApiResult<u32> {
        match raw.map(str::parse::<u64>) {
            None | Some(Ok(0)) => Ok(page_limit),
            Some(Ok(n)) => Ok(u32::try_from(n).unwrap_or(u32::MAX).min(page_limit)),
            Some(Err(_)) => Err(ApiError::invalid(
                "limit",
                "limit",
                format!(
                    "`{}` is not a non-negative integer",
                    raw.unwrap_or_default()
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xAPI Communication 2.1.3: `registration` and statement ids are UUIDs; any case is
    /// accepted and kept lower-case, other forms refused naming the parameter.
    #[test]
    fn uuids_are_kept_hyphenated_and_lower_case() {
        let id = Uuid::parse("registration", "3B9F2E64-8C2A-4F1E-9D6B-1A2B3C4D5E6F").unwrap();
        assert_eq!(id.into_string(), "3b9f2e64-8c2a-4f1e-9d6b-1a2b3c4d5e6f");
        let Err(ApiError::Invalid(v)) =
            Uuid::parse("registration", "3b9f2e648c2a4f1e9d6b1a2b3c4d5e6f")
        else {
            panic!("a UUID without hyphens is refused");
        };
        assert_eq!((v.pointer.as_str(), v.rule), ("registration", "uuid"));
    }

    /// xAPI Communication 2.1.3: `limit` 0 means the server's maximum; larger values are
    /// capped; a non-integer is refused.
    #[test]
    fn statement_limits_default_cap_and_refuse() {
        assert_eq!(PageLimit::statements(None, 100).unwrap(), 100);
        assert_eq!(PageLimit::statements(Some("0"), 100).unwrap(), 100);
        assert_eq!(PageLimit::statements(Some("7"), 100).unwrap(), 7);
        assert_eq!(
            PageLimit::statements(Some("99999999999"), 100).unwrap(),
            100
        );
        assert!(PageLimit::statements(Some("-1"), 100).is_err());
    }

    /// Gateway page sizes: 1 up to the route's maximum.
    #[test]
    fn gateway_limits_stay_in_range() {
        assert_eq!(PageLimit::within(None, 20, 100).unwrap(), 20);
        assert!(PageLimit::within(Some(0), 20, 100).is_err());
        assert!(PageLimit::within(Some(101), 20, 100).is_err());
    }
}
