//! A 2xx to a write means it is durable: `kill -9` during sustained ingest loses nothing
//! that was acknowledged.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::statement;

struct Server {
    child: Child,
    base: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(store: &str) -> Server {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lrsgate"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--store",
            store,
            "--log",
            "warn",
        ])
        .env("LRSGATE_CREDENTIALS", "k:s")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{base}/xapi/about"))
            .send()
            .await
            .is_ok()
        {
            return Server { child, base };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not start");
}

#[tokio::test]
async fn acknowledged_statements_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("lrs.db").display());
    let mut server = start(&store).await;
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));

    let mut writers = Vec::new();
    for w in 0..4 {
        let (base, acked) = (server.base.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for round in 0..2_000 {
                let batch: Vec<Value> = (0..20)
                    .map(|i| statement(&format!("w{w}r{round}i{i}@example.com"), "completed", "c"))
                    .collect();
                let response = client
                    .post(format!("{base}/xapi/statements"))
                    .basic_auth("k", Some("s"))
                    .header("X-Experience-API-Version", "1.0.3")
                    .json(&json!(batch))
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status() == 200 => {
                        let ids: Vec<String> = r.json().await.unwrap_or_default();
                        acked.lock().unwrap().extend(ids);
                    }
                    _ => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    for w in writers {
        w.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        !acknowledged.is_empty(),
        "no write was acknowledged before the kill"
    );

    let mut server = start(&store).await;
    let client = reqwest::Client::new();
    let mut stored = HashSet::new();
    let mut url = format!("{}/xapi/statements?limit=500", server.base);
    for _ in 0..10_000 {
        let page: Value = client
            .get(&url)
            .basic_auth("k", Some("s"))
            .header("X-Experience-API-Version", "1.0.3")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for s in page["statements"].as_array().unwrap() {
            stored.insert(s["id"].as_str().unwrap().to_owned());
        }
        let more = page["more"].as_str().unwrap_or_default();
        if more.is_empty() {
            break;
        }
        url = format!("{}{more}", server.base);
    }
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged statements were lost",
        lost.len(),
        acknowledged.len()
    );
}
