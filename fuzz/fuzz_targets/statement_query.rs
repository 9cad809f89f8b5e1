//! The query string of a statement GET, parsed as the Statements resource does: the
//! `more` token, `format`, the flags, `statementId`/`voidedStatementId`, and the filters
//! (`agent` checked by the 1.0.3 and 2.0 validators, IRIs, UUIDs, timestamps, `limit`).
//! The raw input also goes through the `Accept-Language` reader the formats use.
#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lrsgate::http::params::{statement_format, Flag, Iri, PageLimit, Timestamp, Uuid, XapiAgent};
use lrsgate::lrs::statements::PageToken;
use lrsgate::xapi::format::accept_languages;
use lrsgate::xapi::{Validator, XapiVersion};

fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| Validator::new().unwrap_or_else(|e| panic!("schemas: {e}")))
}

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let _ = accept_languages(Some(query));
    let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(query) else {
        return;
    };
    let params: HashMap<String, String> = pairs.into_iter().collect();
    let param = |name: &str| params.get(name).map(String::as_str);
    if let Some(more) = param("more") {
        let _ = PageToken::decode(more);
    }
    let _ = statement_format(param("format"));
    for flag in [
        "attachments",
        "related_agents",
        "related_activities",
        "ascending",
    ] {
        let _ = Flag::parse(flag, param(flag));
    }
    for id in ["statementId", "voidedStatementId", "registration"] {
        let _ = Uuid::optional(id, param(id));
    }
    for iri in ["verb", "activity"] {
        let _ = Iri::optional(iri, param(iri));
    }
    for time in ["since", "until"] {
        let _ = Timestamp::optional(time, param(time));
    }
    let _ = PageLimit::statements(param("limit"), 100);
    if let Some(agent) = param("agent") {
        for version in [XapiVersion::V1, XapiVersion::V2] {
            let _ = XapiAgent::parse(agent, "an Agent or Group", validator(), version);
        }
    }
});
