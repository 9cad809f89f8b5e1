//! `lrsgate backup PATH` (README "Backup and restore"): a copy taken while statements are
//! being written holds every statement acknowledged before the backup started, opens as
//! a store, and its evidence is exactly what its own statements give (a retag of the
//! copy changes no profile).

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

const ADMIN_SECRET: &str = "backup-admin-secret";
const AT: &str = "2026-06-01T00:00:00Z";
const LEARNERS: usize = 6;
/// Titles the shipped framework's rules tag (coaching, change, strategy, trust).
const TITLES: [&str; 4] = [
    "Coaching Conversations for Team Leads",
    "Leading Organizational Change",
    "Strategic Thinking for New Managers",
    "Building Trust on Remote Teams",
];

struct Gateway {
    child: Child,
    base: String,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(store: &str) -> Gateway {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_lrsgate"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--store", store, "--log", "warn"])
        .env("LRSGATE_CREDENTIALS", "k:s")
        .env("LRSGATE_ADMIN_SECRET", ADMIN_SECRET)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let gateway = Gateway {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..300 {
        let about = client.get(format!("{}/xapi/about", gateway.base)).send();
        if about.await.is_ok() {
            return gateway;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the gateway did not start");
}

/// A credential that reads evidence and starts retags.
async fn analyst(client: &reqwest::Client, base: &str) -> (String, String) {
    let response = client
        .post(format!("{base}/api/v1/admin/tenants/default/credentials"))
        .basic_auth("admin", Some(ADMIN_SECRET))
        .json(&json!({ "name": "analyst", "scopes": ["evidence:read", "frameworks:read", "frameworks:write"] }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let credential: Value = response.json().await.unwrap();
    (
        credential["key"].as_str().unwrap().to_owned(),
        credential["secret"].as_str().unwrap().to_owned(),
    )
}

fn learner(n: usize) -> String {
    json!({ "mbox": format!("mailto:backup{n}@example.com") }).to_string()
}

fn tagged_statement(writer: usize, round: usize, i: usize) -> Value {
    let n = writer * 7 + round * 3 + i;
    json!({
        "actor": { "objectType": "Agent", "mbox": format!("mailto:backup{}@example.com", n % LEARNERS) },
        "verb": { "id": "http://adlnet.gov/expapi/verbs/completed", "display": { "en-US": "completed" } },
        "object": { "objectType": "Activity", "id": format!("http://example.com/backup/{}", n % 40),
                    "definition": { "name": { "en-US": TITLES[n % TITLES.len()] } } },
        "result": { "completion": true, "score": { "scaled": (n % 10) as f64 / 10.0 } },
        "timestamp": format!("2026-0{}-1{}T10:00:00Z", 1 + n % 5, n % 10)
    })
}

/// Every statement id the gateway holds.
async fn stored_ids(client: &reqwest::Client, base: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut url = format!("{base}/xapi/statements?limit=500");
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
            ids.insert(s["id"].as_str().unwrap().to_owned());
        }
        match page["more"].as_str() {
            Some(more) if !more.is_empty() => url = format!("{base}{more}"),
            _ => break,
        }
    }
    ids
}

/// Each learner's profile at `AT`: (item, score rounded to 1e-9, evidence count).
async fn profiles(
    client: &reqwest::Client,
    base: &str,
    (key, secret): &(String, String),
) -> Vec<Vec<(String, i64, u64)>> {
    let mut all = Vec::new();
    for n in 0..LEARNERS {
        let response = client
            .get(format!("{base}/api/v1/profiles"))
            .basic_auth(key, Some(secret))
            .query(&[("agent", learner(n).as_str()), ("at", AT)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let profile: Value = response.json().await.unwrap();
        // Every scored entry of the profile's lists (competencies, areas of expertise).
        let mut items: Vec<(String, i64, u64)> = profile
            .as_object()
            .unwrap()
            .values()
            .filter_map(Value::as_array)
            .flatten()
            .filter(|i| i["score"].is_number())
            .map(|i| {
                (
                    i["item"]["iri"].as_str().unwrap_or_default().to_owned(),
                    (i["score"].as_f64().unwrap() * 1e9).round() as i64,
                    i["evidence"].as_u64().unwrap_or_default(),
                )
            })
            .collect();
        items.sort();
        all.push(items);
    }
    all
}

async fn retag(client: &reqwest::Client, base: &str, (key, secret): &(String, String)) {
    let response = client
        .post(format!("{base}/api/v1/tagging/retag"))
        .basic_auth(key, Some(secret))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let job: Value = response.json().await.unwrap();
    let id = job["id"].as_str().unwrap().to_owned();
    for _ in 0..1_200 {
        let job: Value = client
            .get(format!("{base}/api/v1/tagging/jobs/{id}"))
            .basic_auth(key, Some(secret))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        match job["state"].as_str() {
            Some("succeeded") => return,
            Some("running") => tokio::time::sleep(Duration::from_millis(50)).await,
            _ => panic!("retag job: {job}"),
        }
    }
    panic!("the retag did not finish");
}

#[tokio::test]
async fn a_backup_during_writes_holds_every_earlier_statement_and_matching_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("lrs.db").display());
    let copy = dir.path().join("backup/copy.db");
    let gateway = start(&store).await;
    let client = reqwest::Client::new();
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));

    let mut writers = Vec::new();
    for w in 0..3 {
        let (base, acked, stop) = (gateway.base.clone(), acknowledged.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for round in 0..100_000 {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let batch: Vec<Value> = (0..20).map(|i| tagged_statement(w, round, i)).collect();
                let response = client
                    .post(format!("{base}/xapi/statements"))
                    .basic_auth("k", Some("s"))
                    .header("X-Experience-API-Version", "1.0.3")
                    .json(&batch)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                let ids: Vec<String> = response.json().await.unwrap();
                acked.lock().unwrap().extend(ids);
            }
        }));
    }
    while acknowledged.lock().unwrap().len() < 2_000 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Arrange: what was acknowledged before the backup started.
    let before: Vec<String> = acknowledged.lock().unwrap().clone();
    // Act: back up while the writers go on.
    let output = Command::new(env!("CARGO_BIN_EXE_lrsgate"))
        .args(["backup", "--store", &store])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.await.unwrap();
    }
    let written = acknowledged.lock().unwrap().len();
    drop(gateway);
    assert!(copy.exists() && dir.path().join("backup/copy.db-evidence").exists());
    // A second backup to the same path is refused rather than overwriting the first.
    let again = Command::new(env!("CARGO_BIN_EXE_lrsgate"))
        .args(["backup", "--store", &store])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(!again.status.success());

    // Assert: the copy opens as a store and holds every statement acknowledged before.
    let restored = start(&format!("sqlite://{}", copy.display())).await;
    let ids = stored_ids(&client, &restored.base).await;
    let missing = before.iter().filter(|id| !ids.contains(*id)).count();
    assert_eq!(
        missing,
        0,
        "{missing} of {} earlier statements are missing",
        before.len()
    );
    assert!(
        ids.len() <= written,
        "the copy holds statements never acknowledged"
    );

    // Its evidence is what its statements give: rebuilding it changes no answer.
    let credential = analyst(&client, &restored.base).await;
    let as_restored = profiles(&client, &restored.base, &credential).await;
    assert!(
        as_restored.iter().any(|p| !p.is_empty()),
        "the copy has no evidence to compare"
    );
    retag(&client, &restored.base, &credential).await;
    let rebuilt = profiles(&client, &restored.base, &credential).await;
    assert_eq!(as_restored, rebuilt);
}
