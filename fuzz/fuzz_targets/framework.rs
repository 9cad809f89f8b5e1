//! Competency frameworks in our JSON format: the framework schema, the model and the
//! rules beyond the schema (unique IRIs, parents that exist, no parent cycles); a valid
//! framework is also exported to CASE.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lrsgate::competency::case;
use lrsgate::competency::FrameworkValidator;
use serde_json::Value;

fn validator() -> &'static FrameworkValidator {
    static VALIDATOR: OnceLock<FrameworkValidator> = OnceLock::new();
    VALIDATOR.get_or_init(|| FrameworkValidator::new().unwrap_or_else(|e| panic!("schema: {e}")))
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Ok(framework) = validator().parse(&body) {
        let _ = case::export(&framework, "2026-01-01T00:00:00+00:00");
    }
});
