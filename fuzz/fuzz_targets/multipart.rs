//! Statement request bodies: the first line of the input is the Content-Type header, the
//! rest the body (`application/json` or `multipart/mixed` with attachment parts). The
//! parts then go through the attachment checks ingest applies (hashes, declarations,
//! signature JWS).
#![no_main]

use std::sync::OnceLock;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use lrsgate::config::Limits;
use lrsgate::http::multipart::read_statements;
use lrsgate::ingest::attachments;
use serde_json::Value;
use tokio::runtime::Runtime;

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"))
    })
}

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(content_type) = std::str::from_utf8(head) else {
        return;
    };
    let body = Bytes::copy_from_slice(body);
    let limits = Limits::default();
    let content_type = content_type.trim_end_matches('\r');
    let Ok(read) = runtime().block_on(read_statements(content_type, body, &limits)) else {
        return;
    };
    let (statements, batch) = match read.statements {
        Value::Array(list) => (list, true),
        single => (vec![single], false),
    };
    let mut parts = read.attachments;
    let _ = attachments::check(&statements, &mut parts, batch);
});
