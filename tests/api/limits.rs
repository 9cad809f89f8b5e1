//! Caps on what one request may carry, the request deadline and overload: each cap is
//! answered with the documented error body (README, "Limits and overload") naming the
//! field (`pointer`) and the rule; a full write queue or a request past its deadline with
//! 503 and `Retry-After` (RFC 9110 15.6.4, 10.2.3); a client too slow to send its request
//! with 408 (RFC 9110 15.5.9). Nothing of a refused request is stored.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt as _;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use sha2::Digest as _;
use tokio::task::JoinHandle;

use crate::helpers::{multipart, statement, TestApp};

/// The error body's `(status, code, pointer, rule)`.
async fn refusal(response: Response) -> (u16, String, String, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON error body");
    let field = |name: &str| body["error"][name].as_str().unwrap_or_default().to_owned();
    (status, field("code"), field("pointer"), field("rule"))
}

fn batch(n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| statement(&format!("l{i}@example.com"), "completed", "course"))
            .collect(),
    )
}

/// A statement declaring one attachment per content, and the parts that carry them.
fn with_attachments(contents: &[&[u8]]) -> (Value, Vec<(String, Vec<u8>)>) {
    let parts: Vec<(String, Vec<u8>)> = contents
        .iter()
        .map(|c| (hex::encode(sha2::Sha256::digest(c)), c.to_vec()))
        .collect();
    let mut s = statement("a@example.com", "completed", "course-1");
    s["attachments"] = parts
        .iter()
        .map(|(hash, content)| {
            json!({
                "usageType": "http://example.com/attachment-usage/test",
                "display": {"en-US": "notes"},
                "contentType": "text/plain",
                "length": content.len(),
                "sha2": hash
            })
        })
        .collect();
    (s, parts)
}

async fn post_mixed(app: &TestApp, s: &Value, parts: &[(String, Vec<u8>)]) -> Response {
    let parts: Vec<(&str, &str, &[u8])> = parts
        .iter()
        .map(|(h, c)| (h.as_str(), "text/plain", c.as_slice()))
        .collect();
    app.xapi(Method::POST, "statements")
        .header("Content-Type", "multipart/mixed; boundary=limits")
        .body(multipart("limits", s, &parts))
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn a_batch_over_the_statement_cap_is_413_naming_the_first_statement_past_it() {
    let app = TestApp::spawn_with(|s| s.limits.batch_statements = 3).await;

    let refused = refusal(app.post_statements(&batch(4)).await).await;
    assert_eq!(
        refused,
        (
            413,
            "payload_too_large".into(),
            "/3".into(),
            "max-batch-statements".into()
        )
    );
    assert!(app.all_statements(&[]).await.is_empty());

    assert_eq!(app.post_statements(&batch(3)).await.status(), 200);
    assert_eq!(app.all_statements(&[]).await.len(), 3);
}

#[tokio::test]
async fn attachments_past_the_count_cap_are_413() {
    let app = TestApp::spawn_with(|s| s.limits.attachments = 1).await;

    let (s, parts) = with_attachments(&[b"first", b"second"]);
    let refused = refusal(post_mixed(&app, &s, &parts).await).await;
    assert_eq!(
        refused,
        (
            413,
            "payload_too_large".into(),
            "attachments".into(),
            "max-attachments".into()
        )
    );
    assert!(app.all_statements(&[]).await.is_empty());

    let (s, parts) = with_attachments(&[b"only"]);
    assert_eq!(post_mixed(&app, &s, &parts).await.status(), 200);
}

#[tokio::test]
async fn an_attachment_past_the_size_cap_is_413() {
    let app = TestApp::spawn_with(|s| s.limits.attachment_bytes = 8).await;

    let (s, parts) = with_attachments(&[b"nine byte"]);
    let refused = refusal(post_mixed(&app, &s, &parts).await).await;
    assert_eq!(
        refused,
        (
            413,
            "payload_too_large".into(),
            "attachments".into(),
            "max-attachment-bytes".into()
        )
    );
    assert!(app.all_statements(&[]).await.is_empty());

    let (s, parts) = with_attachments(&[b"8 bytes!"]);
    assert_eq!(post_mixed(&app, &s, &parts).await.status(), 200);
}

#[tokio::test]
async fn a_body_past_max_body_bytes_is_413() {
    let app = TestApp::spawn_with(|s| s.max_body_bytes = 2_000).await;

    let refused = refusal(app.post_statements(&batch(20)).await).await;
    assert_eq!((refused.0, refused.1.as_str()), (413, "payload_too_large"));
    assert!(app.all_statements(&[]).await.is_empty());
}

#[tokio::test]
async fn nesting_past_the_depth_cap_is_400_naming_where() {
    let app = TestApp::spawn_with(|s| s.limits.json_depth = 6).await;
    let ext = "http://example.com/ext";

    // statement > result > extensions > ext value (level 4) > "a" (5) > "b" (6): allowed.
    let mut fits = statement("a@example.com", "completed", "course");
    fits["result"] = json!({"extensions": {ext: {"a": {"b": {}}}}});
    assert_eq!(app.post_statements(&fits).await.status(), 200);

    let mut deep = statement("a@example.com", "completed", "course");
    deep["result"] = json!({"extensions": {ext: {"a": {"b": {"c": {}}}}}});
    let refused = refusal(app.post_statements(&deep).await).await;
    assert_eq!(
        refused,
        (
            400,
            "invalid_request".into(),
            format!("/result/extensions/{}/a/b/c", ext.replace('/', "~1")),
            "max-json-depth".into()
        )
    );

    // Past what the parser itself reads: the same rule, pointing at the body.
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let response = app
        .xapi(Method::POST, "statements")
        .header("Content-Type", "application/json")
        .body(nested)
        .send()
        .await
        .expect("request");
    let refused = refusal(response).await;
    assert_eq!(
        refused,
        (
            400,
            "invalid_request".into(),
            "body".into(),
            "max-json-depth".into()
        )
    );
    assert_eq!(app.all_statements(&[]).await.len(), 1);
}

#[tokio::test]
async fn strings_past_the_length_cap_are_400_naming_where() {
    let app = TestApp::spawn_with(|s| s.limits.string_bytes = 64).await;

    let mut long_value = statement("a@example.com", "completed", "course");
    long_value["actor"]["name"] = json!("n".repeat(65));
    let refused = refusal(app.post_statements(&long_value).await).await;
    assert_eq!(
        refused,
        (
            400,
            "invalid_request".into(),
            "/actor/name".into(),
            "max-string-bytes".into()
        )
    );

    let key = format!("http://example.com/{}", "k".repeat(60));
    let mut long_key = statement("a@example.com", "completed", "course");
    long_key["result"] = json!({"extensions": {key.clone(): 1}});
    let refused = refusal(app.post_statements(&long_key).await).await;
    assert_eq!(
        refused.2,
        format!("/result/extensions/{}", key.replace('/', "~1"))
    );
    assert_eq!(refused.3, "max-string-bytes");

    let mut fits = statement("a@example.com", "completed", "course");
    fits["actor"]["name"] = json!("n".repeat(64));
    assert_eq!(app.post_statements(&fits).await.status(), 200);
    assert_eq!(app.all_statements(&[]).await.len(), 1);
}

/// xAPI 1.0.3 Communication 2.1.3 (GET Statements, `limit`): "0 indicates return the
/// maximum the server will allow", so a larger `limit` is served up to `page_limit` with
/// a `more` link rather than refused. The gateway APIs refuse a `limit` past their cap.
#[tokio::test]
async fn query_limits_are_capped() {
    let app = TestApp::spawn_with(|s| s.page_limit = 2).await;
    app.store(&batch(3)).await;

    let page: Value = app
        .get_statements(&[("limit", "100")])
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(page["statements"].as_array().map(Vec::len), Some(2));
    assert!(page["more"].as_str().is_some_and(|m| !m.is_empty()));

    let response = app
        .client
        .get(format!("{}/api/v1/teams", app.address))
        .basic_auth(crate::helpers::KEY, Some(crate::helpers::SECRET))
        .query(&[("limit", "101")])
        .send()
        .await
        .expect("request");
    let refused = refusal(response).await;
    assert_eq!(
        (refused.0, refused.2.as_str(), refused.3.as_str()),
        (400, "limit", "range")
    );
}

/// Sends `head` and then `body` over a raw connection and reads the whole answer; the
/// client never sends the rest, so the server must time it out.
fn stalled_request(port: u16, head: String, body: &[u8]) -> String {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    // A bound on the loop below, far past the deadlines under test.
    conn.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("read timeout");
    conn.write_all(head.as_bytes()).expect("write");
    conn.write_all(body).expect("write");
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

fn port_of(app: &TestApp) -> u16 {
    app.address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port")
}

#[tokio::test]
async fn a_body_still_arriving_at_the_deadline_is_408() {
    let app = TestApp::spawn_with(|s| s.request_timeout_secs = 1).await;
    let port = port_of(&app);
    let head = stalled_post_head();
    let answer = tokio::task::spawn_blocking(move || stalled_request(port, head, b"[{\"actor\""))
        .await
        .expect("join");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
}

#[tokio::test]
async fn headers_still_arriving_after_the_header_timeout_are_408() {
    let app = TestApp::spawn_with(|s| s.header_timeout_secs = 1).await;
    let port = port_of(&app);
    let head = "GET /xapi/about HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Experience".to_owned();
    let answer = tokio::task::spawn_blocking(move || stalled_request(port, head, b""))
        .await
        .expect("join");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

fn basic_token() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        crate::helpers::KEY,
        crate::helpers::SECRET
    ))
}

/// The head of a statement POST declaring a 1000-byte body, for `stalled_request`.
fn stalled_post_head() -> String {
    format!(
        "POST /xapi/statements HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {}\r\n\
         X-Experience-API-Version: 1.0.3\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\nConnection: close\r\n\r\n",
        basic_token()
    )
}

/// Holds the SQLite store's write lock from a second connection, as another process
/// could, so that the gateway's writer cannot commit until it is dropped.
struct WriteLock(rusqlite::Connection);

impl WriteLock {
    /// `None` on a store other than SQLite, which has no writer queue.
    fn take(app: &TestApp) -> Option<WriteLock> {
        let path = app.store.strip_prefix("sqlite://")?;
        let conn = rusqlite::Connection::open(path).expect("open the store");
        // The gateway's checkpointer may hold the lock for a moment.
        conn.busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        conn.execute_batch("BEGIN IMMEDIATE")
            .expect("take the write lock");
        Some(WriteLock(conn))
    }

    fn release(self) {
        self.0
            .execute_batch("ROLLBACK")
            .expect("release the write lock");
    }
}

/// A gateway `configure`d, with nothing but the test's requests using its writer (tagging
/// and evidence off), and that writer locked by the test; None on a store with no writer
/// queue (MongoDB).
async fn with_the_writer_locked(
    configure: impl FnOnce(&mut lrsgate::Settings),
) -> Option<(Arc<TestApp>, WriteLock)> {
    let app = TestApp::spawn_with(|s| {
        s.tagging = false;
        s.evidence_recording = false;
        configure(s);
    })
    .await;
    let lock = WriteLock::take(&app)?;
    Some((Arc::new(app), lock))
}

/// POSTs each body at once, each from a task of its own; the answers as they come.
fn post_at_once(app: &Arc<TestApp>, bodies: Vec<Value>) -> FuturesUnordered<JoinHandle<Response>> {
    bodies
        .into_iter()
        .map(|body| {
            let app = app.clone();
            tokio::spawn(async move { app.post_statements(&body).await })
        })
        .collect()
}

/// Every answer still to come is 200.
async fn every_one_is_stored(mut pending: FuturesUnordered<JoinHandle<Response>>) {
    while let Some(response) = pending.next().await {
        assert_eq!(response.expect("join").status(), 200);
    }
}

/// The writer admits `write_queue` requests; while they wait, one more is refused at once
/// with 503 and `Retry-After` instead of being held in memory, and the admitted ones are
/// stored once the writer can go on.
#[tokio::test]
async fn a_full_write_queue_is_503_with_retry_after() {
    let Some((app, lock)) = with_the_writer_locked(|s| s.write_queue = 2).await else {
        return; // MongoDB: no writer queue.
    };
    let mut pending = post_at_once(
        &app,
        (0..4)
            .map(|i| statement(&format!("q{i}@example.com"), "completed", "course"))
            .collect(),
    );

    // The two past the capacity come back while the other two wait for the lock.
    for _ in 0..2 {
        let response = pending.next().await.expect("an answer").expect("join");
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "unavailable", "{body}");
        assert_eq!(retry_after.as_deref(), Some("1"));
    }
    lock.release();
    every_one_is_stored(pending).await;
    assert_eq!(app.all_statements(&[]).await.len(), 2);
}

/// Statement bodies past `max_inflight_statement_bytes` wait for room before they are
/// parsed (README "Limits and overload"). With room for one body and a writer queue of
/// one, two batches sent while the writer is locked: one waits in the writer's queue, the
/// other for room, where without the room it would be parsed, handed on and refused with
/// 503 by the full queue. Both are stored once the writer goes on.
#[tokio::test]
async fn statement_bodies_past_the_room_wait_their_turn() {
    let Some((app, lock)) = with_the_writer_locked(|s| {
        s.write_queue = 1;
        s.max_inflight_statement_bytes = 1;
    })
    .await
    else {
        return; // MongoDB: no writer queue.
    };
    let mut pending = post_at_once(
        &app,
        (0..2)
            .map(|i| {
                (0..3)
                    .map(|j| statement(&format!("r{i}-{j}@example.com"), "completed", "course"))
                    .collect()
            })
            .collect(),
    );
    // Bounded: the first batch reaches the writer's queue.
    let depth = "lrsgate_store_writer_queue_depth ";
    for _ in 0..200 {
        let text = reqwest::get(format!("{}/metrics", app.address))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        let now = text
            .lines()
            .find_map(|l| l.strip_prefix(depth)?.trim().parse::<f64>().ok());
        if now == Some(1.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A refusal would come at once; neither is answered while the writer is locked.
    let early = tokio::time::timeout(Duration::from_millis(500), pending.next()).await;
    assert!(early.is_err(), "answered while the writer was locked");
    lock.release();
    every_one_is_stored(pending).await;
    assert_eq!(app.all_statements(&[]).await.len(), 6);
}

/// A statement body still arriving holds no room: while a write stalls mid-body, with
/// room for one body at a time, other batches are stored; the stalled one is answered 408
/// at its deadline.
#[tokio::test]
async fn a_statement_body_still_arriving_holds_no_room() {
    let app = TestApp::spawn_with(|s| {
        s.max_inflight_statement_bytes = 1;
        s.request_timeout_secs = 30;
    })
    .await;
    let port = port_of(&app);
    let head = stalled_post_head();
    let stalled = tokio::task::spawn_blocking(move || stalled_request(port, head, b"[{"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    for i in 0..4 {
        let s = statement(&format!("s{i}@example.com"), "completed", "course");
        assert_eq!(app.post_statements(&s).await.status(), 200);
    }
    assert!(
        !stalled.is_finished(),
        "the stalled write is still arriving"
    );
    let answer = stalled.await.expect("join");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

/// A handler still waiting for the store at the request deadline is answered 503 with
/// `Retry-After`.
#[tokio::test]
async fn a_request_past_its_deadline_is_503() {
    let app = TestApp::spawn_with(|s| s.request_timeout_secs = 1).await;
    let Some(lock) = WriteLock::take(&app) else {
        return; // MongoDB: nothing here holds a write lock.
    };
    let response = app
        .post_statements(&statement("d@example.com", "completed", "course"))
        .await;
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unavailable");
    lock.release();
}

/// Agents given to the gateway APIs are held to xAPI's identifier rules (Data 2.4.2.1:
/// exactly one IFI; 2.4.2.2: an account is a homePage IRL and a name; mbox_sha1sum is
/// a SHA-1 hex digest), so that no malformed identity is stored and answered back, as
/// API fuzzing found.
#[tokio::test]
async fn gateway_agents_are_held_to_the_xapi_identifier_rules() {
    let app = TestApp::spawn().await;
    let bad = [
        (
            json!({"account": {"homePage": "", "name": "x"}}),
            "/agents/0/account/homePage",
        ),
        (
            json!({"account": {"homePage": "https://lms.example", "name": "x", "extra": 1}}),
            "/agents/0/account",
        ),
        (
            json!({"mbox_sha1sum": "not-a-digest"}),
            "/agents/0/mbox_sha1sum",
        ),
        (
            json!({"mbox": "mailto:a@example.com", "openid": "https://id.example/a"}),
            "/agents/0",
        ),
    ];
    for (agent, pointer) in bad {
        let response = app
            .client
            .post(format!("{}/api/v1/people/link", app.address))
            .basic_auth(crate::helpers::KEY, Some(crate::helpers::SECRET))
            .json(&json!({ "agents": [agent] }))
            .send()
            .await
            .expect("request");
        let refused = refusal(response).await;
        assert_eq!((refused.0, refused.2.as_str()), (400, pointer), "{agent}");
    }
    let response = app
        .client
        .get(format!("{}/api/v1/people", app.address))
        .basic_auth(crate::helpers::KEY, Some(crate::helpers::SECRET))
        .query(&[(
            "agent",
            json!({"mbox": "mailto:a@example.com", "mbox_sha1sum": "0".repeat(40)}).to_string(),
        )])
        .send()
        .await
        .expect("request");
    assert_eq!(refusal(response).await.2, "agent");
}

/// Write requests past `max_inflight_writes` are refused at once with 503 and
/// `Retry-After`, before their bodies are read, while reads go on; the permit of a write
/// comes back when it is answered (here: a body that never arrives, answered 408 at the
/// request deadline).
#[tokio::test]
async fn writes_past_max_inflight_writes_are_503_while_reads_go_on() {
    let app = TestApp::spawn_with(|s| {
        s.max_inflight_writes = 1;
        // Long enough for the refusal below on a loaded machine.
        s.request_timeout_secs = 10;
    })
    .await;
    let port = port_of(&app);
    let head = stalled_post_head();
    let s = statement("w@example.com", "completed", "course");
    let mut refused = None;
    let mut stalled = None;
    // The stalled write must hold the one permit; one that arrives while a write below
    // holds it is refused itself, and the scenario starts again.
    for _attempt in 0..5 {
        let head = head.clone();
        let held = tokio::task::spawn_blocking(move || stalled_request(port, head, b"[{"));
        tokio::time::sleep(Duration::from_millis(500)).await;
        for _ in 0..40 {
            let response = app.post_statements(&s).await;
            if response.status() == 503 {
                refused = Some(response);
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        if refused.is_some() {
            stalled = Some(held);
            break;
        }
        held.await.expect("join");
    }
    let refused = refused.expect("a write past the cap is refused");
    assert_eq!(
        refused.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("max_inflight_writes")),
        "{body}"
    );
    let about = reqwest::get(format!("{}/xapi/about", app.address))
        .await
        .expect("about");
    assert_eq!(about.status(), 200, "reads are not held back");

    let answer = stalled.expect("the stalled write").await.expect("join");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(app.post_statements(&s).await.status(), 200);
}
