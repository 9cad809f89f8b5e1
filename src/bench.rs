//! `lrsgate bench`: starts a server on 127.0.0.1 with a fresh store, POSTs generated
//! statements over HTTP in batches, then measures filtered GETs and the server's memory;
//! with `--mongodb URL`, the same on a fresh MongoDB database, printed side by side.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use futures_util::StreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// What to measure.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Statements to ingest.
    #[arg(long, default_value_t = 100_000)]
    pub statements: usize,
    /// Statements per POST.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// POSTs in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Filtered GETs per filter kind.
    #[arg(long, default_value_t = 500)]
    pub queries: usize,
    /// Directory for the SQLite store (a temporary one when absent).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Also measure on this MongoDB server (a fresh database on it), side by side.
    #[arg(long, env = "LRSGATE_BENCH_MONGODB")]
    pub mongodb: Option<String>,
    /// Tag statements at ingest: `on`, `off`, or `both` (each store measured twice).
    #[arg(long, value_enum, default_value_t = TaggingModes::Both)]
    pub tagging: TaggingModes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TaggingModes {
    On,
    Off,
    Both,
}

impl TaggingModes {
    fn modes(self) -> &'static [bool] {
        match self {
            TaggingModes::On => &[true],
            TaggingModes::Off => &[false],
            TaggingModes::Both => &[true, false],
        }
    }
}

/// Course titles, on and off the shipped framework's topics, so tagging has real work.
const TITLES: [&str; 20] = [
    "Coaching Conversations for Team Leads",
    "Instructional Design: Storyboarding Basics",
    "Excel: Pivot Tables and Charts",
    "Leading Organizational Change",
    "Python for Data Analysis",
    "Presentation Skills for Engineers",
    "Project Planning Essentials",
    "Measuring the Impact of Training",
    "Building Trust on Remote Teams",
    "Cloud Security Fundamentals",
    "Strategic Thinking for New Managers",
    "Unconscious Bias at Work",
    "Knowledge Sharing Across Teams",
    "Negotiation Fundamentals",
    "Time Management for Busy People",
    "Career Development Conversations",
    "Finance for Non-Financial Managers",
    "Resilience in Uncertain Times",
    "Photography Basics: Light and Exposure",
    "Workplace Safety Orientation",
];

const KEY: &str = "bench";
const SECRET: &str = "bench-secret";
const AGENTS: usize = 20_000;
const ACTIVITIES: usize = 5_000;
const VERBS: [&str; 8] = [
    "completed",
    "passed",
    "failed",
    "attempted",
    "experienced",
    "answered",
    "launched",
    "scored",
];

/// Draws a random value for a query parameter.
type RandomValue = fn(&mut StdRng) -> String;

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One backend's figures.
struct Figures {
    store: String,
    tagging: bool,
    ingest: Duration,
    /// (filter name, p50 ms, p99 ms).
    queries: Vec<(&'static str, f64, f64)>,
    rss_mb: f64,
    peak_rss_mb: f64,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&dir)?;
    println!(
        "lrsgate bench: {} statements in batches of {}, {} POSTs in flight, {} GETs per filter",
        args.statements, args.batch, args.concurrency, args.queries
    );
    let mut all = Vec::new();
    for &tagging in args.tagging.modes() {
        let suffix = if tagging { "tagged" } else { "untagged" };
        // A fresh store for every run.
        let mut stores = vec![format!(
            "sqlite://{}",
            dir.join(format!("bench-{suffix}.db")).display()
        )];
        if let Some(url) = &args.mongodb {
            let database = format!("lrsgate_bench_{}", uuid::Uuid::new_v4().simple());
            stores.push(crate::store::with_database(url, &database));
        }
        for store in stores {
            println!(
                "measuring on {store}, tagging {}",
                if tagging { "on" } else { "off" }
            );
            all.push(measure(&args, store, tagging).await?);
        }
    }
    print_table(&args, &all);
    Ok(())
}

async fn measure(args: &BenchArgs, store: String, tagging: bool) -> anyhow::Result<Figures> {
    let server = start_server(&store, tagging).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let ingest = ingest(&client, &server.base, args).await?;

    let mut rng = StdRng::seed_from_u64(7);
    let filters: [(&str, RandomValue); 3] = [
        ("agent", |r| agent(r.gen_range(0..AGENTS)).to_string()),
        ("verb", |r| verb_id(r.gen_range(0..VERBS.len()))),
        ("activity", |r| activity_id(r.gen_range(0..ACTIVITIES))),
    ];
    let mut queries = Vec::new();
    for (name, make) in filters {
        let mut latencies = Vec::with_capacity(args.queries);
        for _ in 0..args.queries {
            let value = make(&mut rng);
            let started = Instant::now();
            let response = client
                .get(format!("{}/xapi/statements", server.base))
                .basic_auth(KEY, Some(SECRET))
                .header("X-Experience-API-Version", "1.0.3")
                .query(&[(name, value.as_str()), ("limit", "25")])
                .send()
                .await?;
            if !response.status().is_success() {
                bail!("GET by {name} answered {}", response.status());
            }
            response.bytes().await?;
            latencies.push(started.elapsed());
        }
        latencies.sort();
        queries.push((
            name,
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
        ));
    }
    let (rss_mb, peak_rss_mb) = memory_of(server.child.id())?;
    Ok(Figures {
        store,
        tagging,
        ingest,
        queries,
        rss_mb,
        peak_rss_mb,
    })
}

fn print_table(args: &BenchArgs, all: &[Figures]) {
    let backend = |f: &Figures| {
        let kind = f.store.split("://").next().unwrap_or("?");
        format!("{kind}, tags {}", if f.tagging { "on" } else { "off" })
    };
    let row = |label: &str, cells: Vec<String>| {
        let cells: Vec<String> = cells.iter().map(|c| format!("{c:>18}")).collect();
        println!("{label:<36}{}", cells.join(""));
    };
    row("", all.iter().map(backend).collect());
    row(
        "ingest, statements/s",
        all.iter()
            .map(|f| format!("{:.0}", args.statements as f64 / f.ingest.as_secs_f64()))
            .collect(),
    );
    row(
        "ingest, seconds",
        all.iter()
            .map(|f| format!("{:.2}", f.ingest.as_secs_f64()))
            .collect(),
    );
    for (i, (name, _, _)) in all[0].queries.iter().enumerate() {
        row(
            &format!("GET by {name} (limit 25), p50/p99 ms"),
            all.iter()
                .map(|f| format!("{:.2} / {:.2}", f.queries[i].1, f.queries[i].2))
                .collect(),
        );
    }
    row(
        "gateway RSS / peak RSS, MB",
        all.iter()
            .map(|f| format!("{:.1} / {:.1}", f.rss_mb, f.peak_rss_mb))
            .collect(),
    );
}

async fn start_server(store: &str, tagging: bool) -> anyhow::Result<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(std::env::current_exe()?)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--store",
            store,
            "--log",
            "warn",
        ])
        .env("LRSGATE_CREDENTIALS", format!("{KEY}:{SECRET}"))
        .env("LRSGATE_TAGGING", if tagging { "on" } else { "off" })
        .stdout(Stdio::null())
        .spawn()
        .context("starting the server")?;
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client
            .get(format!("{}/xapi/about", server.base))
            .send()
            .await
            .is_ok()
        {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the server did not answer within 15 s")
}

async fn ingest(
    client: &reqwest::Client,
    base: &str,
    args: &BenchArgs,
) -> anyhow::Result<Duration> {
    let batches = args.statements.div_ceil(args.batch.max(1));
    let progress = ProgressBar::new(args.statements as u64);
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} statements, {per_sec}, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let mut posts = futures_util::stream::iter(0..batches)
        .map(|b| {
            let first = b * args.batch;
            let size = args.batch.min(args.statements - first);
            let body = json!((first..first + size).map(generated).collect::<Vec<_>>());
            async move {
                let response = client
                    .post(format!("{base}/xapi/statements"))
                    .basic_auth(KEY, Some(SECRET))
                    .header("X-Experience-API-Version", "1.0.3")
                    .json(&body)
                    .send()
                    .await?;
                let status = response.status();
                if !status.is_success() {
                    bail!(
                        "POST answered {status}: {}",
                        response.text().await.unwrap_or_default()
                    );
                }
                Ok::<usize, anyhow::Error>(size)
            }
        })
        .buffer_unordered(args.concurrency.max(1));
    while let Some(done) = posts.next().await {
        progress.inc(done? as u64);
    }
    progress.finish_and_clear();
    Ok(started.elapsed())
}

fn agent(i: usize) -> Value {
    json!({ "objectType": "Agent", "name": format!("Learner {i}"), "mbox": format!("mailto:learner{i}@example.com") })
}

fn verb_id(i: usize) -> String {
    format!("http://adlnet.gov/expapi/verbs/{}", VERBS[i % VERBS.len()])
}

fn activity_id(i: usize) -> String {
    format!("http://example.com/activities/{i}")
}

/// Statement number `n`: deterministic, spread over agents, verbs and activities.
fn generated(n: usize) -> Value {
    let mut rng = StdRng::seed_from_u64(n as u64);
    let (a, v, c) = (
        rng.gen_range(0..AGENTS),
        rng.gen_range(0..VERBS.len()),
        rng.gen_range(0..ACTIVITIES),
    );
    json!({
        "actor": agent(a),
        "verb": { "id": verb_id(v), "display": { "en-US": VERBS[v] } },
        "object": { "objectType": "Activity", "id": activity_id(c),
                    "definition": { "name": { "en-US": format!("{} (part {})", TITLES[c % TITLES.len()], c / TITLES.len() + 1) },
                                    "description": { "en-US": format!("Module {c} of the series {}.", TITLES[c % TITLES.len()]) },
                                    "type": "http://adlnet.gov/expapi/activities/course" } },
        "result": { "completion": true, "success": rng.gen_bool(0.8), "score": { "scaled": rng.gen_range(0.0..1.0) },
                    "duration": "PT12M30S" },
        "context": { "registration": uuid::Uuid::from_u128(rng.gen()).to_string(),
                     "contextActivities": { "parent": [{ "id": "http://example.com/programs/1" }] } },
        "timestamp": "2026-01-15T10:00:00.000Z"
    })
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// (RSS, peak RSS) in MB from /proc.
fn memory_of(pid: u32) -> anyhow::Result<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("reading the server's /proc status")?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}
