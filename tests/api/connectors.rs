//! The connectors API (issue 16, item 6 "Operations"): `/api/v1/connectors` lists,
//! configures, shows (status: last run, next run, high-water mark, counts, last error),
//! deletes and runs connectors, and lists and replays a forwarder's dead letters;
//! `lrsgate connector run` runs one from a shell through the same runtime. Connector
//! secrets are never returned. A run holds the connector's lease, so one gateway of many
//! runs it: a run asked for while it runs here or elsewhere is a 409. Connectors declared
//! in the configuration file are put into the store and run by the scheduler.
//!
//! The connector kind driven here is `forward` (src/connectors/forward.rs) towards a
//! second gateway, or towards a stand-in on 127.0.0.1 that answers only when told.

use std::time::{Duration, Instant};

use lrsgate::admin_cli::{connector, ConnectorCommand};
use lrsgate::store::connectors::DeadLetter;
use lrsgate::store::Store;
use lrsgate::Settings;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::helpers::{statement, Caller, TestApp, KEY, SECRET};

/// A gateway whose connectors run only when asked.
async fn gateway() -> TestApp {
    TestApp::spawn_with(|s| s.connectors_enabled = false).await
}

/// A forwarder to `receiver`'s xAPI with its Basic credentials.
fn forward_to(receiver: &TestApp) -> Value {
    json!({
        "kind": "forward",
        "endpoint": format!("{}/xapi", receiver.address),
        "username": KEY,
        "password": SECRET,
        "attempts": 1,
    })
}

/// Statements stored by `app`, by id.
async fn stored_ids(app: &TestApp) -> Vec<String> {
    let mut ids: Vec<String> = app
        .all_statements(&[])
        .await
        .iter()
        .filter_map(|s| s["id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

/// Promise: a configuration that cannot work is refused with a 400 whose `pointer` names
/// the field (the kind's fields included), and nothing is stored.
#[actix_web::test]
async fn a_bad_configuration_is_refused_naming_the_field() {
    let app = gateway().await;
    let caller = Caller::of(&app, "default", &["connectors:write"]).await;
    let good = forward_to(&app);
    let mut cases = vec![
        ("fwd", json!({"endpoint": "http://x"}), "/kind"),
        ("fwd", json!({"kind": "no-such-kind"}), "/kind"),
        ("fwd", json!({"kind": 7}), "/kind"),
        ("fwd", json!([1, 2]), ""),
        ("bad:id", good.clone(), "id"),
    ];
    let mut unknown = good.clone();
    unknown["endpiont"] = json!("http://x");
    cases.push(("fwd", unknown, "/endpiont"));
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("endpoint");
    cases.push(("fwd", missing, "/endpoint"));
    let mut wrong_type = good.clone();
    wrong_type["batch_size"] = json!("many");
    cases.push(("fwd", wrong_type, "/batch_size"));
    let mut every = good.clone();
    every["every_minutes"] = json!(0);
    cases.push(("fwd", every, "/every_minutes"));
    let mut enabled = good.clone();
    enabled["enabled"] = json!("yes");
    cases.push(("fwd", enabled, "/enabled"));
    for (id, body, pointer) in cases {
        let (status, answer) = caller
            .send(Method::PUT, &format!("connectors/{id}"), &[], Some(&body))
            .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(
            answer["error"]["pointer"],
            json!(pointer),
            "{body}: {answer}"
        );
        assert!(answer["error"]["message"].is_string());
    }
    let listed = caller.get("connectors", &[]).await;
    assert_eq!(listed["connectors"], json!([]));
}

/// Promise: secrets (`password`, `token`, `client_secret`, `secret`, at any depth) are
/// never returned — GET, list and PUT answers show `***` — and a configuration sent back
/// as shown keeps the stored secret, which the next run uses (the receiver authenticates
/// it). A `***` with nothing stored to keep is refused.
#[actix_web::test]
async fn secrets_are_never_returned_and_a_masked_secret_sent_back_is_kept() {
    let (sender, receiver) = (gateway().await, TestApp::spawn().await);
    let caller = Caller::of(&sender, "default", &["connectors:write"]).await;
    let (status, created) = caller
        .send(
            Method::PUT,
            "connectors/fwd",
            &[],
            Some(&forward_to(&receiver)),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["config"]["password"], json!("***"));
    let shown = caller.get("connectors/fwd", &[]).await;
    let listed = caller.get("connectors", &[]).await;
    for body in [&created, &shown, &listed] {
        assert!(!body.to_string().contains(SECRET), "{body}");
    }
    assert_eq!(shown["config"]["username"], json!(KEY));
    assert_eq!(shown["config"]["password"], json!("***"));
    assert_eq!(listed["connectors"][0]["id"], json!("fwd"));

    // Sent back as shown, with a change: the stored password stays.
    let mut back = shown["config"].clone();
    back["batch_size"] = json!(10);
    let (status, replaced) = caller
        .send(Method::PUT, "connectors/fwd", &[], Some(&back))
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["config"]["batch_size"], json!(10));
    sender
        .store(&json!([statement(
            "ann@example.com",
            "completed",
            "course-1"
        )]))
        .await;
    sender.settle().await;
    let (status, run) = caller
        .send(Method::POST, "connectors/fwd/run", &[], None)
        .await;
    assert_eq!(status, 200, "the kept password authenticates: {run}");
    assert_eq!(run["outcome"]["stored"], json!(1), "{run}");
    assert_eq!(stored_ids(&receiver).await, stored_ids(&sender).await);

    // `***` for a connector that has no secret stored is refused.
    let mut masked = forward_to(&receiver);
    masked["password"] = json!("***");
    let (status, refused) = caller
        .send(Method::PUT, "connectors/other", &[], Some(&masked))
        .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["error"]["pointer"], json!("/password"));
}

/// Promise: a run asked for answers its outcome, and the connector's status then shows
/// the last run (start, end, success), its counts and totals, the high-water mark the
/// forwarder saved, and a next run one interval after the last start; a manual-only
/// connector has no next run.
#[actix_web::test]
async fn a_run_answers_its_outcome_and_the_status_shows_it() {
    let (sender, receiver) = (gateway().await, TestApp::spawn().await);
    let caller = Caller::of(&sender, "default", &["connectors:write"]).await;
    let mut config = forward_to(&receiver);
    config["every_minutes"] = json!(60);
    let (status, _) = caller
        .send(Method::PUT, "connectors/fwd", &[], Some(&config))
        .await;
    assert_eq!(status, 201);
    let before = caller.get("connectors/fwd", &[]).await;
    assert_eq!(before["status"]["health"], json!("never-run"));
    assert_eq!(before["status"]["runs"], json!(0));
    assert!(
        before["status"]["next_run"].is_string(),
        "due now: {before}"
    );

    let batch: Vec<Value> = (0..3)
        .map(|i| statement("ann@example.com", "completed", &format!("course-{i}")))
        .collect();
    sender.store(&json!(batch)).await;
    sender.settle().await;
    let (status, run) = caller
        .send(Method::POST, "connectors/fwd/run", &[], None)
        .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["connector"], json!("fwd"));
    assert_eq!(run["outcome"]["stored"], json!(3), "{run}");
    assert_eq!(run["outcome"]["rejected"], json!([]));
    assert_eq!(stored_ids(&receiver).await, stored_ids(&sender).await);

    let shown = caller.get("connectors/fwd", &[]).await;
    let s = &shown["status"];
    assert_eq!(s["health"], json!("ok"), "{shown}");
    assert_eq!(
        (s["runs"].clone(), s["failures"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(s["consecutive_failures"], json!(0));
    assert_eq!(s["last_error"], Value::Null);
    assert_eq!(s["running"], json!(false));
    assert_eq!(s["last_started"], run["started"]);
    assert_eq!(s["last_success"], run["finished"]);
    assert_eq!(s["last_outcome"]["counts"]["stored"], json!(3));
    assert_eq!(s["totals"]["stored"], json!(3));
    assert!(s["high_water_mark"].is_string(), "{shown}");
    let started =
        chrono::DateTime::parse_from_rfc3339(s["last_started"].as_str().unwrap()).unwrap();
    let next = chrono::DateTime::parse_from_rfc3339(s["next_run"].as_str().unwrap()).unwrap();
    assert_eq!(next - started, chrono::Duration::minutes(60));
    assert_eq!(shown["every_minutes"], json!(60));

    // Manual only: no next run.
    config.as_object_mut().unwrap().remove("every_minutes");
    caller
        .send(Method::PUT, "connectors/fwd", &[], Some(&config))
        .await;
    let manual = caller.get("connectors/fwd", &[]).await;
    assert_eq!(manual["status"]["next_run"], Value::Null);
    assert_eq!(
        manual["status"]["runs"],
        json!(1),
        "the state is kept: {manual}"
    );
}

/// Promise (issue 16: "ours must show a failing forwarder in its status"): a failed run
/// answers 502 with the error, and the status says failing, with the error and the count
/// of failures in a row — without the connector's secrets.
#[actix_web::test]
async fn a_failing_connector_shows_in_its_status() {
    let sender = gateway().await;
    let caller = Caller::of(&sender, "default", &["connectors:write"]).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = json!({
        "kind": "forward",
        "endpoint": format!("http://127.0.0.1:{closed}/xapi"),
        "token": "bearer-token-that-must-not-show",
        "attempts": 1,
    });
    caller
        .send(Method::PUT, "connectors/down", &[], Some(&config))
        .await;
    sender
        .store(&json!([statement(
            "ann@example.com",
            "completed",
            "course-1"
        )]))
        .await;
    sender.settle().await;
    for attempt in 1..=2 {
        let (status, answer) = caller
            .send(Method::POST, "connectors/down/run", &[], None)
            .await;
        assert_eq!(status, 502, "{answer}");
        assert_eq!(answer["error"]["code"], json!("connector_failed"));
        assert!(!answer.to_string().contains("must-not-show"), "{answer}");
        let shown = caller.get("connectors/down", &[]).await;
        let s = &shown["status"];
        assert_eq!(s["health"], json!("failing"), "{shown}");
        assert_eq!(s["consecutive_failures"], json!(attempt));
        assert!(
            s["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("127.0.0.1")),
            "{shown}"
        );
        assert_eq!(s["last_success"], Value::Null);
        assert!(!shown.to_string().contains("must-not-show"), "{shown}");
    }
}

/// A stand-in receiver that takes one POST and answers 200 only when told to; the
/// request's arrival is signalled.
async fn held_receiver() -> (String, oneshot::Receiver<()>, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}/xapi", listener.local_addr().unwrap());
    let (arrived_tx, arrived) = oneshot::channel();
    let (release, released) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0_u8; 4096];
        // Read the headers and the body Content-Length announces.
        for _ in 0..10_000 {
            let n = socket.read(&mut buf).await.unwrap();
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if request.len() >= end + 4 + length {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        let _ = arrived_tx.send(());
        let _ = released.await;
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n[]")
            .await;
    });
    (address, arrived, release)
}

/// Promise: a connector runs once at a time: a run asked for while it runs on this
/// gateway, or while another gateway holds its lease, is a 409 — and the status shows it
/// running meanwhile.
#[actix_web::test]
async fn a_run_in_progress_here_or_elsewhere_is_not_started_twice() {
    let sender = gateway().await;
    let caller = Caller::of(&sender, "default", &["connectors:write"]).await;
    let (endpoint, arrived, release) = held_receiver().await;
    let config = json!({"kind": "forward", "endpoint": endpoint, "attempts": 1});
    caller
        .send(Method::PUT, "connectors/fwd", &[], Some(&config))
        .await;
    sender
        .store(&json!([statement(
            "ann@example.com",
            "completed",
            "course-1"
        )]))
        .await;
    sender.settle().await;
    let first = {
        let request = sender
            .client
            .post(format!("{}/api/v1/connectors/fwd/run", sender.address))
            .basic_auth(&caller.key, Some(&caller.secret));
        tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
    };
    tokio::time::timeout(Duration::from_secs(60), arrived)
        .await
        .expect("the forwarder never reached the receiver")
        .unwrap();
    let (status, busy) = caller
        .send(Method::POST, "connectors/fwd/run", &[], None)
        .await;
    assert_eq!(status, 409, "{busy}");
    let shown = caller.get("connectors/fwd", &[]).await;
    assert_eq!(shown["status"]["running"], json!(true), "{shown}");
    assert_eq!(shown["status"]["running_here"], json!(true));
    assert_eq!(shown["status"]["health"], json!("running"));
    release.send(()).unwrap();
    assert_eq!(first.await.unwrap(), 200);
    let shown = caller.get("connectors/fwd", &[]).await;
    assert_eq!(shown["status"]["running"], json!(false), "{shown}");

    // Another gateway holds the lease.
    let other = Store::open(&sender.store).await.unwrap();
    let lease = "connector:1:fwd";
    let now = chrono::Utc::now().timestamp_millis();
    assert!(other
        .connectors
        .acquire_lease(lease, "another-gateway", now, 600_000)
        .await
        .unwrap());
    let (status, busy) = caller
        .send(Method::POST, "connectors/fwd/run", &[], None)
        .await;
    assert_eq!(status, 409, "{busy}");
    assert!(busy["error"]["message"]
        .as_str()
        .unwrap()
        .contains("another gateway"));
    other
        .connectors
        .release_lease(lease, "another-gateway")
        .await
        .unwrap();
    let (status, _) = caller
        .send(Method::POST, "connectors/fwd/run", &[], None)
        .await;
    assert_ne!(status, 409, "the lease is free again");
}

/// Promise: reads need `connectors:read` (or `connectors:write`), changes
/// `connectors:write`; other scopes are refused.
#[actix_web::test]
async fn connectors_need_their_scopes() {
    let app = gateway().await;
    let writer = Caller::of(&app, "default", &["connectors:write"]).await;
    let reader = Caller::of(&app, "default", &["connectors:read"]).await;
    let xapi = Caller::of(&app, "default", &["all"]).await;
    let config = forward_to(&app);
    assert_eq!(
        writer
            .send(Method::PUT, "connectors/fwd", &[], Some(&config))
            .await
            .0,
        201
    );
    assert_eq!(
        reader
            .send(Method::GET, "connectors/fwd", &[], None)
            .await
            .0,
        200
    );
    assert_eq!(
        reader.send(Method::GET, "connectors", &[], None).await.0,
        200
    );
    for (method, path) in [
        (Method::PUT, "connectors/fwd"),
        (Method::DELETE, "connectors/fwd"),
        (Method::POST, "connectors/fwd/run"),
        (Method::POST, "connectors/fwd/dead-letters/replay"),
    ] {
        let body = (method == Method::PUT).then_some(&config);
        assert_eq!(reader.send(method, path, &[], body).await.0, 403, "{path}");
    }
    assert_eq!(xapi.send(Method::GET, "connectors", &[], None).await.0, 403);
}

/// Promise: a forwarder's dead letters are listed oldest first and replayed on request
/// (those delivered stop being dead letters); a kind without dead letters answers 400 to
/// a replay; an unknown connector 404.
#[actix_web::test]
async fn dead_letters_are_listed_and_replayed() {
    let (sender, receiver) = (gateway().await, TestApp::spawn().await);
    let caller = Caller::of(&sender, "default", &["connectors:write"]).await;
    let ids = sender
        .store(&json!([
            statement("ann@example.com", "completed", "course-1"),
            statement("bob@example.com", "completed", "course-2"),
        ]))
        .await;
    sender.settle().await;
    caller
        .send(
            Method::PUT,
            "connectors/fwd",
            &[],
            Some(&forward_to(&receiver)),
        )
        .await;
    // As a forwarder leaves them when the receiver refused them for good.
    let store = Store::open(&sender.store).await.unwrap();
    let letters = ids
        .iter()
        .enumerate()
        .map(|(i, id)| DeadLetter {
            statement_id: id.clone(),
            error: "HTTP 400 from the receiver".into(),
            attempts: 1,
            failed_millis: 1_000 + i as i64,
        })
        .collect();
    store
        .connectors
        .add_dead_letters(1, "fwd", letters)
        .await
        .unwrap();
    let listed = caller.get("connectors/fwd/dead-letters", &[]).await;
    let listed_ids: Vec<&str> = listed["dead_letters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["statement_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed_ids,
        ids.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(
        listed["dead_letters"][0]["error"],
        json!("HTTP 400 from the receiver")
    );

    let (status, replayed) = caller
        .send(
            Method::POST,
            "connectors/fwd/dead-letters/replay",
            &[],
            Some(&json!({"ids": [ids[0]]})),
        )
        .await;
    assert_eq!(status, 200, "{replayed}");
    assert_eq!(replayed["stored"], json!(1), "{replayed}");
    let left = caller.get("connectors/fwd/dead-letters", &[]).await;
    assert_eq!(left["dead_letters"].as_array().unwrap().len(), 1);
    assert_eq!(left["dead_letters"][0]["statement_id"], json!(ids[1]));
    // An empty body replays the rest.
    let (status, replayed) = caller
        .send(
            Method::POST,
            "connectors/fwd/dead-letters/replay",
            &[],
            None,
        )
        .await;
    assert_eq!(status, 200, "{replayed}");
    assert_eq!(replayed["stored"], json!(1));
    let left = caller.get("connectors/fwd/dead-letters", &[]).await;
    assert_eq!(left["dead_letters"], json!([]));
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(stored_ids(&receiver).await, expected);

    let feed = json!({"kind": "talk-feed", "source": "http://127.0.0.1:9/talks.json"});
    caller
        .send(Method::PUT, "connectors/talks", &[], Some(&feed))
        .await;
    let (status, answer) = caller
        .send(
            Method::POST,
            "connectors/talks/dead-letters/replay",
            &[],
            None,
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    let (status, _) = caller
        .send(
            Method::POST,
            "connectors/nope/dead-letters/replay",
            &[],
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        caller
            .send(Method::GET, "connectors/nope/dead-letters", &[], None)
            .await
            .0,
        404
    );
}

/// Promise: deleting a connector removes it with its state and dead letters; a second
/// delete, a read and a run of it are 404.
#[actix_web::test]
async fn a_deleted_connector_is_gone() {
    let app = gateway().await;
    let caller = Caller::of(&app, "default", &["connectors:write"]).await;
    caller
        .send(Method::PUT, "connectors/fwd", &[], Some(&forward_to(&app)))
        .await;
    assert_eq!(
        caller
            .send(Method::DELETE, "connectors/fwd", &[], None)
            .await
            .0,
        204
    );
    for (method, path) in [
        (Method::DELETE, "connectors/fwd"),
        (Method::GET, "connectors/fwd"),
        (Method::POST, "connectors/fwd/run"),
    ] {
        assert_eq!(caller.send(method, path, &[], None).await.0, 404, "{path}");
    }
    assert_eq!(caller.get("connectors", &[]).await["connectors"], json!([]));
}

/// Promise: connectors declared in the configuration file (`[[connectors]]`) are put into
/// the store at start, and the scheduler runs those due — one run per interval.
#[actix_web::test]
async fn declared_connectors_are_stored_and_run_by_the_scheduler() {
    let receiver = TestApp::spawn().await;
    // Statements already in the store the scheduled gateway opens.
    let first = gateway().await;
    let ids = first
        .store(&json!([statement(
            "ann@example.com",
            "completed",
            "course-1"
        )]))
        .await;
    first.settle().await;
    let mut declared = forward_to(&receiver);
    declared["id"] = json!("declared");
    declared["every_minutes"] = json!(60);
    let sender = TestApp::spawn_with(|s| {
        s.store = first.store.clone();
        s.connectors = vec![declared];
        s.connector_tick_secs = 1;
    })
    .await;
    let caller = Caller::of(&sender, "default", &["connectors:read"]).await;
    let mut shown = Value::Null;
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        shown = caller.get("connectors/declared", &[]).await;
        if shown["status"]["runs"].as_u64().unwrap_or(0) >= 1 && stored_ids(&receiver).await == ids
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(shown["status"]["runs"], json!(1), "{shown}");
    assert_eq!(shown["status"]["health"], json!("ok"), "{shown}");
    assert_eq!(stored_ids(&receiver).await, ids);
    // Due again only an hour after the start: later ticks leave it alone.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let later = caller.get("connectors/declared", &[]).await;
    assert_eq!(later["status"]["runs"], json!(1), "{later}");
}

/// Promise: `lrsgate connector run NAME` runs a connector from the shell through the same
/// runtime (taking its lease) and records the run in its status, as the API shows it.
#[actix_web::test]
async fn the_command_line_runs_a_connector() {
    let (sender, receiver) = (gateway().await, TestApp::spawn().await);
    let caller = Caller::of(&sender, "default", &["connectors:write"]).await;
    caller
        .send(
            Method::PUT,
            "connectors/fwd",
            &[],
            Some(&forward_to(&receiver)),
        )
        .await;
    let ids = sender
        .store(&json!([statement(
            "ann@example.com",
            "completed",
            "course-1"
        )]))
        .await;
    sender.settle().await;
    let settings = Settings {
        store: sender.store.clone(),
        ..Settings::default()
    };
    let store = Store::open(&sender.store).await.unwrap();
    let run = ConnectorCommand::Run { name: "fwd".into() };
    connector(&store, &settings, "default", run).await.unwrap();
    connector(&store, &settings, "default", ConnectorCommand::List)
        .await
        .unwrap();
    assert_eq!(stored_ids(&receiver).await, ids);
    let shown = caller.get("connectors/fwd", &[]).await;
    assert_eq!(shown["status"]["runs"], json!(1), "{shown}");
    assert_eq!(shown["status"]["health"], json!("ok"));
    let missing = ConnectorCommand::Run {
        name: "nope".into(),
    };
    assert!(connector(&store, &settings, "default", missing)
        .await
        .is_err());
}
