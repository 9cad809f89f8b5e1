//! What an operator relies on (README "Operations"): `/metrics` in the Prometheus text
//! format with requests by route template, ingest, store and evidence series; the health
//! probes Kubernetes calls; and a graceful shutdown on SIGTERM that finishes the write in
//! flight, applies the evidence journal and exits 0.
//!
//! Exact counts are read from a gateway process of their own (the built binary), since
//! the metrics of one process add up every server it runs.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{statement, TestApp};

const FRAMEWORK_ITEM: &str =
    "https://w3id.org/lrsgate/frameworks/wlp/competency/thinking-strategically";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A gateway process on its own port (and metrics port, when `metrics` is set).
struct Gateway {
    child: Child,
    base: String,
    metrics: Option<String>,
    client: reqwest::Client,
}

impl Gateway {
    async fn start(store: &str, metrics: bool, env: &[(&str, &str)]) -> Gateway {
        let port = free_port();
        let metrics_port = metrics.then(free_port);
        let mut command = Command::new(env!("CARGO_BIN_EXE_lrsgate"));
        command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--store", store, "--log", "warn"])
            .env("LRSGATE_CREDENTIALS", "k:s")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(p) = metrics_port {
            command.env("LRSGATE_METRICS_LISTEN", format!("127.0.0.1:{p}"));
        }
        let child = command.spawn().unwrap();
        let mut gateway = Gateway {
            child,
            base: format!("http://127.0.0.1:{port}"),
            metrics: metrics_port.map(|p| format!("http://127.0.0.1:{p}")),
            client: reqwest::Client::new(),
        };
        for _ in 0..400 {
            let live = gateway
                .client
                .get(format!("{}/health/live", gateway.base))
                .send()
                .await;
            if live.is_ok_and(|r| r.status() == 200) {
                return gateway;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        gateway.kill();
        panic!("the gateway did not start");
    }

    fn xapi(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}/xapi/{path}", self.base))
            .basic_auth("k", Some("s"))
            .header("X-Experience-API-Version", "1.0.3")
    }

    /// The scrape text, from the metrics address when there is one.
    async fn scrape(&self) -> String {
        let base = self.metrics.as_deref().unwrap_or(&self.base);
        let response = self
            .client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }

    /// Waits (bounded) for the process to exit by itself.
    async fn exit_status(&mut self) -> Option<ExitStatus> {
        for _ in 0..1200 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The value of the sample `series` (name and labels exactly as exposed), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

fn requests(route: &str, method: &str, status: u16) -> String {
    format!(
        "lrsgate_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}}"
    )
}

/// A statement explicitly tagged with a framework item, so it records evidence.
fn tagged(n: usize) -> Value {
    let mut s = statement(&format!("learner{n}@example.com"), "completed", "strategy");
    s["context"] = json!({ "contextActivities": { "other": [{ "id": FRAMEWORK_ITEM }] } });
    s
}

/// Prometheus exposition formats (text 0.0.4 and OpenMetrics 1.0): after a known set of
/// requests, each series counts exactly them, labelled by route template (never a raw
/// path), method and status; `metrics_listen` moves `/metrics` off the main address.
#[tokio::test]
async fn metrics_count_requests_by_route_template_and_the_ingest_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::backend::store_url(dir.path());
    let gateway = Gateway::start(&store, true, &[]).await;

    let batch = json!([tagged(1), tagged(2), tagged(3)]);
    let posted = gateway
        .xapi(Method::POST, "statements")
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);
    let id = uuid::Uuid::new_v4().to_string();
    let put = gateway
        .xapi(Method::PUT, "statements")
        .query(&[("statementId", &id)])
        .json(&tagged(4))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 204);
    let got = gateway
        .xapi(Method::GET, "statements")
        .query(&[("statementId", &id)])
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    let mut bad = statement("bad@example.com", "completed", "c");
    bad["verb"]["id"] = json!("not an iri");
    let refused = gateway
        .xapi(Method::POST, "statements")
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let rule: Value = refused.json().await.unwrap();
    assert_eq!(rule["error"]["rule"], "iri");
    let tags = gateway
        .client
        .get(format!("{}/api/v1/statements/{id}/tags", gateway.base))
        .basic_auth("k", Some("s"))
        .send()
        .await
        .unwrap();
    assert_eq!(tags.status(), 200);
    let missing = gateway
        .client
        .get(format!("{}/no/such/{id}", gateway.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    // With `metrics_listen` set, the main address does not serve them.
    let elsewhere = gateway
        .client
        .get(format!("{}/metrics", gateway.base))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 404);

    let text = gateway.scrape().await;

    for (series, expected) in [
        (requests("/xapi/statements", "POST", 200), 1.0),
        (requests("/xapi/statements", "PUT", 204), 1.0),
        (requests("/xapi/statements", "GET", 200), 1.0),
        (requests("/xapi/statements", "POST", 400), 1.0),
        (requests("/api/v1/statements/{id}/tags", "GET", 200), 1.0),
        (requests("unmatched", "GET", 404), 1.0),
        (requests("/metrics", "GET", 404), 1.0),
        (
            "lrsgate_http_request_duration_seconds_count{route=\"/xapi/statements\",method=\"POST\"}".into(),
            2.0,
        ),
        ("lrsgate_statements_ingested_total".into(), 4.0),
        ("lrsgate_ingest_batch_size_count".into(), 2.0),
        ("lrsgate_ingest_batch_size_sum".into(), 4.0),
        ("lrsgate_ingest_batch_size_bucket{le=\"1.0\"}".into(), 1.0),
        ("lrsgate_ingest_batch_size_bucket{le=\"5.0\"}".into(), 2.0),
        ("lrsgate_validation_failures_total{rule=\"iri\"}".into(), 1.0),
        ("lrsgate_tagging_duration_seconds_count".into(), 2.0),
        (
            "lrsgate_store_operation_duration_seconds_count{operation=\"insert_statements\"}".into(),
            2.0,
        ),
        // This scrape is served on the metrics address, which is not counted.
        ("lrsgate_http_requests_in_flight".into(), 0.0),
    ] {
        assert_eq!(sample(&text, &series), Some(expected), "{series} in\n{text}");
    }
    // The raw path never becomes a label.
    assert!(!text.contains(&id), "{text}");
    assert!(sample(
        &text,
        "lrsgate_http_requests_total{route=\"/health/live\",method=\"GET\",status=\"200\"}"
    )
    .is_some_and(|n| n >= 1.0));
    for series in [
        "lrsgate_store_operation_duration_seconds_count{operation=\"statement\"}",
        "lrsgate_evidence_journal_lag_entries",
        "lrsgate_evidence_journal_lag_seconds",
        "process_start_time_seconds",
    ] {
        assert!(
            sample(&text, series).is_some(),
            "{series} missing in\n{text}"
        );
    }
    let rss = sample(&text, "process_resident_memory_bytes").unwrap();
    assert!(rss > 1024.0 * 1024.0, "{rss}");
    if store.starts_with("sqlite://") {
        let capacity = sample(&text, "lrsgate_store_writer_queue_capacity").unwrap();
        assert!(capacity >= 1.0);
        assert!(sample(&text, "lrsgate_store_writer_queue_depth").is_some());
    }
    assert!(text.contains("# TYPE lrsgate_http_request_duration_seconds histogram"));
    assert!(text.ends_with("# EOF\n"));

    // Content negotiation: OpenMetrics when asked for, the 0.0.4 text format otherwise.
    let metrics = gateway.metrics.clone().unwrap();
    let plain = gateway
        .client
        .get(format!("{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        plain.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let open = gateway
        .client
        .get(format!("{metrics}/metrics"))
        .header(
            "Accept",
            "application/openmetrics-text;version=1.0.0,text/plain;q=0.5",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        open.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    // The metrics address serves nothing else.
    let other = gateway
        .client
        .get(format!("{metrics}/xapi/about"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}

/// Kubernetes liveness probe: 200 while the process serves HTTP, no credentials needed.
#[tokio::test]
async fn liveness_is_200_without_credentials() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(format!("{}/health/live", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "live");
}

/// Kubernetes readiness probe: 200 when the store answers, its migrations have run and
/// the evidence journal keeps up, each check reported.
#[tokio::test]
async fn readiness_is_200_with_every_check_passing() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(format!("{}/health/ready", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["failed"], json!([]));
    for check in ["store", "migrations", "evidence_lag"] {
        assert_eq!(body["checks"][check]["ok"], true, "{body}");
    }
    assert_eq!(body["checks"]["evidence_lag"]["threshold_seconds"], 300);
}

fn sqlite_app_dir() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("lrs.db").display());
    (dir, url)
}

/// Readiness fails with 503 naming `evidence_lag` while the evidence journal trails by
/// more than `ready_max_evidence_lag_secs` (0 here: any pending entry), and recovers
/// once it is applied.
#[tokio::test]
async fn readiness_is_503_naming_an_evidence_lag_over_the_threshold() {
    let (_dir, url) = sqlite_app_dir();
    let app = TestApp::spawn_with(|s| {
        s.store = url;
        s.ready_max_evidence_lag_secs = 0;
    })
    .await;
    let ready = || async {
        let r = app
            .client
            .get(format!("{}/health/ready", app.address))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    };
    // The evidence thread applies a change within half a second of its commit, so a
    // probe right after a write finds it pending; a slow machine may need another write.
    let mut lagging = None;
    for n in 0..20 {
        app.store(&tagged(n)).await;
        let (status, body) = ready().await;
        if status == 503 {
            lagging = Some(body);
            break;
        }
    }
    let body = lagging.expect("no probe saw the evidence journal behind");
    assert_eq!(body["status"], "unready");
    assert_eq!(body["failed"], json!(["evidence_lag"]));
    assert_eq!(body["checks"]["evidence_lag"]["ok"], false);
    assert!(body["checks"]["evidence_lag"]["entries"].as_u64().unwrap() >= 1);
    assert!(body["checks"]["evidence_lag"]["error"].is_string());
    assert_eq!(body["checks"]["store"]["ok"], true);

    // An evidence read waits for the journal to be applied; then the probe passes.
    let profile = app
        .client
        .get(format!("{}/api/v1/profiles", app.address))
        .query(&[(
            "agent",
            json!({"mbox": "mailto:learner0@example.com"}).to_string(),
        )])
        .basic_auth(crate::helpers::KEY, Some(crate::helpers::SECRET))
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status(), 200);
    let (status, body) = ready().await;
    assert_eq!((status, &body["failed"]), (200, &json!([])), "{body}");
}

/// Readiness fails with 503 naming `migrations` when the database file's schema version
/// is older than this build's (its migrations have not run).
#[tokio::test]
async fn readiness_is_503_naming_migrations_behind_the_build() {
    let (dir, url) = sqlite_app_dir();
    let app = TestApp::spawn_with(|s| s.store = url).await;
    let file = rusqlite::Connection::open(dir.path().join("lrs.db")).unwrap();
    file.execute_batch("PRAGMA user_version = 1").unwrap();

    let response = app
        .client
        .get(format!("{}/health/ready", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["failed"], json!(["migrations"]), "{body}");
    let error = body["checks"]["migrations"]["error"].as_str().unwrap();
    assert!(error.contains("schema version 1"), "{error}");
}

/// Graceful shutdown (README "Operations"): SIGTERM while a write's body is still
/// arriving. The server stops accepting, finishes that request (200, durable), applies
/// the evidence journal, closes the store and exits 0; the files, opened after the exit
/// without starting the gateway again, hold the statements and their applied evidence.
///
/// On SQLite the test holds the evidence file's write lock from before the write until
/// after the signal, so the journal cannot be applied in the ordinary course: a gateway
/// that exited without applying it would leave it behind. Once the process is seen
/// waiting (it has not exited while the lock is held), the lock is released.
#[tokio::test]
async fn sigterm_during_a_write_finishes_it_applies_the_evidence_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::backend::store_url(dir.path());
    let mut gateway =
        Gateway::start(&store, false, &[("LRSGATE_SHUTDOWN_TIMEOUT_SECS", "30")]).await;
    const STATEMENTS: usize = 300;
    let body = serde_json::to_vec(&(0..STATEMENTS).map(tagged).collect::<Vec<_>>()).unwrap();
    let evidence_lock = store.strip_prefix("sqlite://").map(|path| {
        let conn = rusqlite::Connection::open(format!("{path}-evidence")).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        conn
    });

    // The request goes out in two halves over a plain socket, so the signal arrives
    // while it is in flight.
    let address = gateway.base.trim_start_matches("http://").to_owned();
    let (half_sent, wait_for_signal) = std::sync::mpsc::channel::<()>();
    let (signalled, resume) = std::sync::mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        let mut socket = TcpStream::connect(&address).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let head = format!(
            "POST /xapi/statements HTTP/1.1\r\nHost: {address}\r\nAuthorization: Basic {}\r\n\
             X-Experience-API-Version: 1.0.3\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            base64_credentials(),
            body.len()
        );
        socket.write_all(head.as_bytes()).unwrap();
        let (first, rest) = body.split_at(body.len() / 2);
        socket.write_all(first).unwrap();
        half_sent.send(()).unwrap();
        resume.recv().unwrap();
        socket.write_all(rest).unwrap();
        let mut answer = String::new();
        socket.read_to_string(&mut answer).unwrap();
        answer
    });
    wait_for_signal.recv().unwrap();
    // In flight: this scrape and the write.
    let mut in_flight = 0.0;
    for _ in 0..200 {
        in_flight = sample(&gateway.scrape().await, "lrsgate_http_requests_in_flight").unwrap();
        if in_flight >= 2.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(in_flight, 2.0, "the write never showed as in flight");
    // Idle keep-alive connections would hold the shutdown until they time out.
    gateway.client = reqwest::Client::new();
    let terminated = Command::new("kill")
        .args(["-TERM", &gateway.child.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    // Stopped accepting: a new connection is refused (bounded wait for the listener to
    // close).
    let main_address = gateway.base.trim_start_matches("http://").to_owned();
    let mut refused = false;
    for _ in 0..100 {
        if TcpStream::connect(&main_address).is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signalled.send(()).unwrap();
    let answer = tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();
    assert!(refused, "new connections were still accepted after SIGTERM");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let ids: Vec<String> = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(ids.len(), STATEMENTS);

    if let Some(lock) = evidence_lock {
        // The write is answered and no request is left: only the journal keeps the
        // process. It must still be there after a while, waiting to apply it.
        for _ in 0..40 {
            assert!(
                gateway.child.try_wait().unwrap().is_none(),
                "the gateway exited with the evidence journal unapplied"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        lock.execute_batch("ROLLBACK").unwrap();
    }

    let status = gateway
        .exit_status()
        .await
        .expect("the gateway did not exit");
    assert_eq!(status.code(), Some(0), "{status:?}");

    if let Some(path) = store.strip_prefix("sqlite://") {
        let main = rusqlite::Connection::open(path).unwrap();
        let stored: i64 = main
            .query_row("SELECT count(*) FROM statements", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored as usize, STATEMENTS);
        let head: i64 = main
            .query_row(
                "SELECT coalesce(max(id), 0) FROM evidence_journal",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let evidence = rusqlite::Connection::open(format!("{path}-evidence")).unwrap();
        let applied: i64 = evidence
            .query_row("SELECT journal FROM applied", [], |r| r.get(0))
            .unwrap();
        let rows: i64 = evidence
            .query_row("SELECT count(*) FROM evidence", [], |r| r.get(0))
            .unwrap();
        assert!(head >= STATEMENTS as i64, "journal head {head}");
        assert_eq!(
            applied, head,
            "the evidence journal was not applied before exit"
        );
        assert_eq!(rows as usize, STATEMENTS);
    } else {
        // A backend without a journal: the statements read back from a new gateway.
        let gateway = Gateway::start(&store, false, &[]).await;
        for id in [&ids[0], &ids[STATEMENTS - 1]] {
            let got = gateway
                .xapi(Method::GET, "statements")
                .query(&[("statementId", id)])
                .send()
                .await
                .unwrap();
            assert_eq!(got.status(), 200);
        }
    }
}

fn base64_credentials() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode("k:s")
}
