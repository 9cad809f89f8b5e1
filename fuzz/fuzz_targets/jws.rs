//! Signature attachments: a JWS (compact serialization) checked against the statement it
//! signs. The statement is the JWS's own payload when that decodes (so the header and
//! `x5c` certificate checks are reached), and a fixed statement as well.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use lrsgate::xapi::signature::verify;
use serde_json::{json, Value};

fuzz_target!(|data: &[u8]| {
    let fixed = json!({
        "actor": {"mbox": "mailto:signer@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "http://example.com/activities/course-1"}
    });
    let _ = verify(&fixed, data, "/attachments/0");
    let payload = std::str::from_utf8(data)
        .ok()
        .and_then(|text| text.trim().split('.').nth(1))
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
    if let Some(statement) = payload {
        let _ = verify(&statement, data, "/attachments/0");
    }
});
