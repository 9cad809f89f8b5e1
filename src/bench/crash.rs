//! `lrsgate bench --crash-trials N`: a 2xx to a write means it is durable, checked the
//! hard way. Each trial starts the gateway on the store, runs statement batches and
//! document writes (state and agent profile PUTs, state merges by POST, activity profile
//! overwrites under If-Match) concurrently, SIGKILLs the gateway at a random moment once
//! writes are being acknowledged, restarts it on the same store and reads back every
//! acknowledged write: statements by id with their content, documents by content and
//! ETag. A write in flight at the kill may or may not have landed; an acknowledged one
//! must be there, intact.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use futures_util::StreamExt as _;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

use super::{start_server, BenchArgs, Mode, Server, KEY, SECRET};

/// Concurrent writers of each kind.
const STATEMENT_WRITERS: usize = 3;
const DOCUMENT_WRITERS: usize = 3;
/// The kill comes this long after the first statement batch and the first document
/// write are acknowledged, at random within the range.
const KILL_AFTER_MS: std::ops::Range<u64> = 0..3_000;
/// How long the first acknowledgements may take (a slow store, a debug build).
const FIRST_ACKS_WITHIN: Duration = Duration::from_secs(60);
/// No writer sends more than this many requests in one trial.
const MAX_ROUNDS: usize = 100_000;
/// The extension each statement carries a random check value in.
const CHECK: &str = "http://example.com/extensions/crash-check";
const VERSION: (&str, &str) = ("X-Experience-API-Version", "1.0.3");
/// Statements read back at once after the restart.
const READS_IN_FLIGHT: usize = 8;

/// What one trial's acknowledged writes were, and what was in flight.
#[derive(Default)]
struct Ledger {
    /// Acknowledged statements by id, as sent.
    statements: HashMap<String, Value>,
    /// Acknowledged document writes.
    documents: usize,
    /// Documents written once each (PUT to a fresh id): content and ETag.
    exact: Vec<(Document, Vec<u8>, Option<String>)>,
    /// One document per writer merged by POSTs: the acknowledged keys and the one in
    /// flight at the kill.
    merged: Vec<Merged>,
    /// One document per writer overwritten by PUT under If-Match: the last acknowledged
    /// content and the one in flight.
    latest: Vec<Latest>,
}

/// A merged document, its acknowledged keys and values, and the key in flight.
type Merged = (Document, Vec<(String, i64)>, Option<String>);
/// An overwritten document, its last acknowledged content, and the content in flight.
type Latest = (Document, Option<Vec<u8>>, Option<Vec<u8>>);

/// A document's resource and parameters.
#[derive(Clone)]
struct Document {
    path: &'static str,
    params: Vec<(&'static str, String)>,
}

impl Document {
    fn url(&self, base: &str) -> String {
        format!("{base}/xapi/{}", self.path)
    }
}

/// The figures of a run of trials.
#[derive(Default)]
struct Totals {
    trials: usize,
    statements: usize,
    documents: usize,
    lost: usize,
}

pub(super) async fn run(args: &BenchArgs, trials: usize) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&dir)?;
    let store = args
        .store
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("crash.db").display()));
    let seed: u64 = rand::random();
    println!(
        "lrsgate crash trials: {trials} on {} (seed {seed})",
        crate::redact::redacted_url(&store)
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let mut totals = Totals::default();
    for trial in 1..=trials {
        let kill_after = Duration::from_millis(rng.gen_range(KILL_AFTER_MS));
        let ledger = write_and_kill(&store, trial, kill_after, rng.gen()).await?;
        let problems = verify(&store, &ledger).await?;
        println!(
            "trial {trial:>3}: killed {:>4} ms after the first acknowledgements; acknowledged {:>6} statements and {:>4} document writes; lost or damaged {}",
            kill_after.as_millis(),
            ledger.statements.len(),
            ledger.documents,
            problems.len()
        );
        for problem in problems.iter().take(10) {
            println!("    {problem}");
        }
        totals.trials += 1;
        totals.statements += ledger.statements.len();
        totals.documents += ledger.documents;
        totals.lost += problems.len();
    }
    println!(
        "crash trials: {} trials, {} acknowledged writes ({} statements, {} document writes), {} lost",
        totals.trials,
        totals.statements + totals.documents,
        totals.statements,
        totals.documents,
        totals.lost
    );
    if totals.lost > 0 {
        bail!("{} acknowledged writes were lost or damaged", totals.lost);
    }
    Ok(())
}

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?)
}

/// Starts the gateway, writes until the kill, and returns what was acknowledged.
async fn write_and_kill(
    store: &str,
    trial: usize,
    kill_after: Duration,
    seed: u64,
) -> anyhow::Result<Ledger> {
    let mut server = start_server(store, Mode::Evidence).await?;
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let stop = Arc::new(AtomicBool::new(false));
    // A run of trials on one store needs names no earlier trial used.
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..STATEMENT_WRITERS {
        let (base, ledger, stop) = (server.base.clone(), ledger.clone(), stop.clone());
        let rng = StdRng::seed_from_u64(seed ^ (w as u64 + 1));
        writers.spawn(statement_writer(base, ledger, stop, rng, trial));
    }
    for w in 0..DOCUMENT_WRITERS {
        let (base, ledger, stop) = (server.base.clone(), ledger.clone(), stop.clone());
        let rng = StdRng::seed_from_u64(seed ^ (w as u64 + 101));
        writers.spawn(document_writer(
            base,
            ledger,
            stop,
            rng,
            format!("{run}-{w}"),
        ));
    }
    // Every trial kills with writes acknowledged and writes in flight.
    let waiting = std::time::Instant::now();
    loop {
        {
            let ledger = ledger.lock().map_err(|_| anyhow!("ledger poisoned"))?;
            if !ledger.statements.is_empty() && ledger.documents > 0 {
                break;
            }
        }
        if waiting.elapsed() > FIRST_ACKS_WITHIN || writers.is_empty() {
            bail!("no write was acknowledged within {FIRST_ACKS_WITHIN:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(kill_after).await;
    kill(&mut server)?;
    stop.store(true, Ordering::SeqCst);
    while let Some(done) = writers.join_next().await {
        done??;
    }
    let ledger = std::mem::take(&mut *ledger.lock().map_err(|_| anyhow!("ledger poisoned"))?);
    Ok(ledger)
}

/// SIGKILL, as `Child::kill` sends on Unix.
fn kill(server: &mut Server) -> anyhow::Result<()> {
    server.child.kill().context("killing the gateway")?;
    server.child.wait()?;
    Ok(())
}

/// POSTs batches of 1 to 50 statements with ids of its own until a request fails.
async fn statement_writer(
    base: String,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
    mut rng: StdRng,
    trial: usize,
) -> anyhow::Result<()> {
    let client = client()?;
    for round in 0..MAX_ROUNDS {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let batch: Vec<Value> = (0..rng.gen_range(1..=50))
            .map(|i| crash_statement(&mut rng, trial, round * 50 + i))
            .collect();
        let response = client
            .post(format!("{base}/xapi/statements"))
            .basic_auth(KEY, Some(SECRET))
            .header(VERSION.0, VERSION.1)
            .json(&batch)
            .send()
            .await;
        let Ok(response) = response else { break };
        if response.status().as_u16() != 200 {
            break;
        }
        let Ok(ids) = response.json::<Vec<String>>().await else {
            break;
        };
        let mut ledger = ledger.lock().map_err(|_| anyhow!("ledger poisoned"))?;
        for (id, statement) in ids.into_iter().zip(batch) {
            ledger.statements.insert(id, statement);
        }
    }
    Ok(())
}

fn crash_statement(rng: &mut StdRng, trial: usize, n: usize) -> Value {
    let learner = rng.gen_range(0..500);
    json!({
        "id": uuid::Uuid::from_u128(rng.gen()).hyphenated().to_string(),
        "actor": { "objectType": "Agent", "mbox": format!("mailto:crash{learner}@example.com") },
        "verb": { "id": "http://adlnet.gov/expapi/verbs/completed", "display": { "en-US": "completed" } },
        "object": { "objectType": "Activity", "id": format!("http://example.com/crash/{trial}/{n}"),
                    "definition": { "name": { "en-US": "Coaching Conversations for Team Leads" } } },
        "result": { "completion": true, "score": { "scaled": rng.gen_range(0.0..1.0) },
                    "extensions": { CHECK: hex::encode(rng.gen::<[u8; 16]>()) } },
        "context": { "registration": uuid::Uuid::from_u128(rng.gen()).hyphenated().to_string() }
    })
}

/// Writes documents three ways in turn until a request fails: a fresh state or agent
/// profile document by PUT, a merge into the writer's state document by POST, and an
/// overwrite of the writer's activity profile document under If-Match.
async fn document_writer(
    base: String,
    ledger: Arc<Mutex<Ledger>>,
    stop: Arc<AtomicBool>,
    mut rng: StdRng,
    name: String,
) -> anyhow::Result<()> {
    let client = client()?;
    let agent = json!({ "mbox": format!("mailto:crash-{name}@example.com") }).to_string();
    let activity = format!("http://example.com/crash/documents/{name}");
    let state = |id: String| Document {
        path: "activities/state",
        params: vec![
            ("activityId", activity.clone()),
            ("agent", agent.clone()),
            ("stateId", id),
        ],
    };
    let merged = state(format!("merged-{name}"));
    let latest = Document {
        path: "activities/profile",
        params: vec![
            ("activityId", activity.clone()),
            ("profileId", format!("latest-{name}")),
        ],
    };
    let (mut keys, mut merging) = (Vec::new(), None::<String>);
    let (mut acked, mut writing, mut etag) = (None::<Vec<u8>>, None::<Vec<u8>>, None::<String>);
    let mut failed = false;
    for round in 0..MAX_ROUNDS {
        if failed || stop.load(Ordering::SeqCst) {
            break;
        }
        match round % 3 {
            0 => {
                let doc = if rng.gen_bool(0.5) {
                    state(format!("exact-{name}-{round}"))
                } else {
                    Document {
                        path: "agents/profile",
                        params: vec![
                            ("agent", agent.clone()),
                            ("profileId", format!("exact-{name}-{round}")),
                        ],
                    }
                };
                let content =
                    json!({ "round": round, "check": hex::encode(rng.gen::<[u8; 16]>()) })
                        .to_string()
                        .into_bytes();
                let response = client
                    .put(doc.url(&base))
                    .query(&doc.params)
                    .basic_auth(KEY, Some(SECRET))
                    .header(VERSION.0, VERSION.1)
                    .header("Content-Type", "application/json")
                    .body(content.clone())
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status().as_u16() == 204 => {
                        let tag = etag_of(&r);
                        let mut ledger = ledger.lock().map_err(|_| anyhow!("ledger poisoned"))?;
                        ledger.documents += 1;
                        ledger.exact.push((doc, content, tag));
                    }
                    _ => failed = true,
                }
            }
            1 => {
                let key = format!("k{round}");
                merging = Some(key.clone());
                let response = client
                    .post(merged.url(&base))
                    .query(&merged.params)
                    .basic_auth(KEY, Some(SECRET))
                    .header(VERSION.0, VERSION.1)
                    .json(&json!({ key.clone(): round }))
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status().as_u16() == 204 => {
                        keys.push((key, round as i64));
                        merging = None;
                        ledger
                            .lock()
                            .map_err(|_| anyhow!("ledger poisoned"))?
                            .documents += 1;
                    }
                    _ => failed = true,
                }
            }
            _ => {
                let content =
                    json!({ "version": round, "check": hex::encode(rng.gen::<[u8; 16]>()) })
                        .to_string()
                        .into_bytes();
                writing = Some(content.clone());
                let mut request = client
                    .put(latest.url(&base))
                    .query(&latest.params)
                    .basic_auth(KEY, Some(SECRET))
                    .header(VERSION.0, VERSION.1)
                    .header("Content-Type", "application/json")
                    .body(content.clone());
                request = match &etag {
                    Some(tag) => request.header("If-Match", format!("\"{tag}\"")),
                    None => request.header("If-None-Match", "*"),
                };
                match request.send().await {
                    Ok(r) if r.status().as_u16() == 204 => {
                        etag = etag_of(&r);
                        acked = Some(content);
                        writing = None;
                        ledger
                            .lock()
                            .map_err(|_| anyhow!("ledger poisoned"))?
                            .documents += 1;
                    }
                    Ok(r) if r.status().as_u16() == 412 => {
                        bail!("an If-Match overwrite of {name} was refused: the ETag acknowledged last is not the document's")
                    }
                    _ => failed = true,
                }
            }
        }
    }
    let mut ledger = ledger.lock().map_err(|_| anyhow!("ledger poisoned"))?;
    ledger.merged.push((merged, keys, merging));
    ledger.latest.push((latest, acked, writing));
    Ok(())
}

fn etag_of(response: &reqwest::Response) -> Option<String> {
    let tag = response.headers().get("ETag")?.to_str().ok()?;
    Some(tag.trim_matches('"').to_owned())
}

/// Restarts the gateway on the store and lists every acknowledged write that is missing
/// or changed.
async fn verify(store: &str, ledger: &Ledger) -> anyhow::Result<Vec<String>> {
    let mut server = start_server(store, Mode::Evidence).await?;
    let client = client()?;
    let base = server.base.clone();
    let mut problems = Vec::new();

    // Every acknowledged statement is read back by its id, a few reads in flight.
    let mut reads = futures_util::stream::iter(&ledger.statements)
        .map(|(id, sent)| {
            let (client, base) = (&client, &base);
            async move {
                let response = client
                    .get(format!("{base}/xapi/statements"))
                    .query(&[("statementId", id.as_str())])
                    .basic_auth(KEY, Some(SECRET))
                    .header(VERSION.0, VERSION.1)
                    .send()
                    .await?;
                if response.status().as_u16() == 404 {
                    return Ok(Some(format!("statement {id} is missing")));
                }
                if !response.status().is_success() {
                    bail!("reading statement {id} answered {}", response.status());
                }
                let stored: Value = response.json().await?;
                Ok(statement_difference(sent, &stored)
                    .map(|difference| format!("statement {id} changed: {difference}")))
            }
        })
        .buffer_unordered(READS_IN_FLIGHT);
    while let Some(read) = reads.next().await {
        problems.extend(read?);
    }
    drop(reads);

    for (doc, content, etag) in &ledger.exact {
        match read_document(&client, &base, doc).await? {
            None => problems.push(format!("document {} is missing", describe(doc))),
            Some((body, tag)) => {
                if &body != content {
                    problems.push(format!("document {} has other content", describe(doc)));
                } else if etag.is_some() && &tag != etag {
                    problems.push(format!(
                        "document {} has ETag {tag:?}, acknowledged {etag:?}",
                        describe(doc)
                    ));
                }
            }
        }
    }
    for (doc, keys, in_flight) in &ledger.merged {
        let found = read_document(&client, &base, doc).await?;
        let object: Map<String, Value> = match &found {
            Some((body, _)) => serde_json::from_slice(body).unwrap_or_default(),
            None => Map::new(),
        };
        for (key, value) in keys {
            if object.get(key).and_then(Value::as_i64) != Some(*value) {
                problems.push(format!("merge of `{key}` into {} is lost", describe(doc)));
            }
        }
        let extra: Vec<&String> = object
            .keys()
            .filter(|k| !keys.iter().any(|(a, _)| a == *k) && in_flight.as_ref() != Some(*k))
            .collect();
        if !extra.is_empty() {
            problems.push(format!(
                "{} holds keys never written: {extra:?}",
                describe(doc)
            ));
        }
    }
    for (doc, acked, in_flight) in &ledger.latest {
        let found = read_document(&client, &base, doc)
            .await?
            .map(|(body, _)| body);
        let fine = found.is_none() && acked.is_none()
            || found.is_some() && (found == *acked || found == *in_flight);
        if !fine {
            problems.push(format!(
                "{} is not its last acknowledged version",
                describe(doc)
            ));
        }
    }
    kill(&mut server)?;
    Ok(problems)
}

/// What differs between a sent statement and the stored one, in what was sent.
fn statement_difference(sent: &Value, stored: &Value) -> Option<String> {
    for pointer in [
        "/actor/mbox",
        "/verb/id",
        "/object/id",
        "/result/score/scaled",
        "/context/registration",
    ] {
        if sent.pointer(pointer) != stored.pointer(pointer) {
            return Some(pointer.to_owned());
        }
    }
    let check = |s: &Value| s["result"]["extensions"][CHECK].clone();
    (check(sent) != check(stored)).then(|| "the check extension".to_owned())
}

async fn read_document(
    client: &reqwest::Client,
    base: &str,
    doc: &Document,
) -> anyhow::Result<Option<(Vec<u8>, Option<String>)>> {
    let response = client
        .get(doc.url(base))
        .query(&doc.params)
        .basic_auth(KEY, Some(SECRET))
        .header(VERSION.0, VERSION.1)
        .send()
        .await?;
    if response.status().as_u16() == 404 {
        return Ok(None);
    }
    if !response.status().is_success() {
        bail!("reading {} answered {}", describe(doc), response.status());
    }
    let tag = etag_of(&response);
    Ok(Some((response.bytes().await?.to_vec(), tag)))
}

fn describe(doc: &Document) -> String {
    let id = doc
        .params
        .iter()
        .find(|(k, _)| k.ends_with("Id") && *k != "activityId")
        .map_or("", |(_, v)| v.as_str());
    format!("{} `{id}`", doc.path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_changed_check_value_is_a_difference() {
        let mut rng = StdRng::seed_from_u64(1);
        let sent = crash_statement(&mut rng, 1, 1);
        let mut stored = sent.clone();
        stored["stored"] = json!("2026-01-01T00:00:00Z");
        assert_eq!(statement_difference(&sent, &stored), None);
        stored["result"]["extensions"][CHECK] = json!("00");
        assert_eq!(
            statement_difference(&sent, &stored).as_deref(),
            Some("the check extension")
        );
        stored["object"]["id"] = json!("http://example.com/other");
        assert_eq!(
            statement_difference(&sent, &stored).as_deref(),
            Some("/object/id")
        );
    }
}
