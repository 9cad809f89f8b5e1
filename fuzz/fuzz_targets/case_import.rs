//! IMS CASE packages as the frameworks API receives them: recognised, imported into our
//! framework model, checked by the framework validator (as the competency service does),
//! and exported back to CASE.
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
    let _ = case::is_case_package(&body);
    let Ok(framework) = case::import(&body) else {
        return;
    };
    let Ok(as_json) = serde_json::to_value(&framework) else {
        return;
    };
    if let Ok(checked) = validator().parse(&as_json) {
        let _ = case::export(&checked, "2026-01-01T00:00:00+00:00");
    }
});
