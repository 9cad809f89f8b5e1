//! Statement bodies as a client sends them: the strict JSON reader (duplicate properties),
//! then the 1.0.3 and 2.0 validators (schemas and rules), then for a valid statement what
//! ingest and reads do with it (preparation, `stored`, fingerprints, output formats).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lrsgate::xapi::statement::{prepare, Assigned};
use lrsgate::xapi::{Fingerprint, StatementFormat, Validator, XapiVersion};
use serde_json::{json, Value};

fn validator() -> &'static Validator {
    static VALIDATOR: OnceLock<Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| Validator::new().unwrap_or_else(|e| panic!("schemas: {e}")))
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = lrsgate::xapi::json::parse(data) else {
        return;
    };
    // POST takes one statement or a batch of them.
    let statements = match &body {
        Value::Array(list) => list.iter().collect::<Vec<_>>(),
        other => vec![other],
    };
    let authority = json!({"objectType": "Agent", "mbox": "mailto:fuzz@example.com"});
    let stored_at = chrono::DateTime::from_timestamp_millis(1_767_225_600_000).unwrap_or_default();
    for version in [XapiVersion::V1, XapiVersion::V2] {
        for statement in &statements {
            if validator().statement(version, statement).is_err() {
                continue;
            }
            let assigned = Assigned {
                authority: &authority,
                version,
            };
            let mut prepared = prepare((*statement).clone(), &assigned);
            prepared.set_stored(stored_at);
            let fingerprint = Fingerprint::of(statement);
            assert_eq!(
                Fingerprint::from_bytes(&fingerprint.to_bytes()).as_ref(),
                Some(&fingerprint)
            );
            let Ok(stored) = serde_json::from_str::<Value>(&prepared.json) else {
                panic!("a prepared statement is not JSON: {}", prepared.json);
            };
            let languages = ["en-US".to_owned(), "de".to_owned()];
            for format in [StatementFormat::Ids, StatementFormat::Canonical] {
                format.apply(&mut stored.clone(), &languages);
            }
        }
    }
});
