//! `lrsgate bench`: starts a server on 127.0.0.1 with a fresh store, POSTs generated
//! statements over HTTP in batches, then measures filtered GETs and the server's memory;
//! with `--mongodb URL`, the same on a fresh MongoDB database, printed side by side.
//! `--soak MINUTES` runs a long soak instead (`soak`), `--crash-trials N` kills and
//! restarts the gateway during writes and checks every acknowledged one (`crash`).

mod corpus;
mod crash;
mod soak;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use futures_util::StreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use corpus::{activity_id, agent, verb_id, ACTIVITIES, VERBS};

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
    /// What each run does at ingest, comma-separated: `plain` (no tagging), `tags`
    /// (tagging), `evidence` (tagging and skill evidence). Each store is measured per mode.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Mode::Evidence, Mode::Tags])]
    pub modes: Vec<Mode>,
    /// Distinct learners the statements are spread over.
    #[arg(long, default_value_t = 100_000)]
    pub people: usize,
    /// Soak instead: ingest for this many minutes at half the peak rate (measured first,
    /// unless `--rate`) with concurrent xAPI and evidence queries, sampling RSS, p99
    /// latencies and the evidence journal's lag every 10 s into `soak.csv` and `soak.png`.
    #[arg(long, value_name = "MINUTES")]
    pub soak: Option<f64>,
    /// The soak's ingest rate, statements/s (instead of half the measured peak).
    #[arg(long, requires = "soak")]
    pub rate: Option<f64>,
    /// Where the soak writes `soak.csv` and `soak.png`.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
    /// Crash trials instead: this many times, start the gateway, write statements and
    /// documents concurrently, SIGKILL it at a random moment, restart it on the same store
    /// and check that every acknowledged write is there, intact.
    #[arg(long, value_name = "N", conflicts_with = "soak")]
    pub crash_trials: Option<usize>,
    /// Store for the soak or the crash trials (sqlite://PATH or mongodb://…); a fresh
    /// SQLite file in `--dir` when absent.
    #[arg(long)]
    pub store: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    Plain,
    Tags,
    Evidence,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Tags => "tags",
            Mode::Evidence => "evidence",
        }
    }
}

const KEY: &str = "bench";
const SECRET: &str = "bench-secret";
const ADMIN_SECRET: &str = "bench-admin-secret";

/// A command the bench and the soak start the server under, to profile it (for example
/// `heaptrack`, or `perf record -g -o FILE --`): the server is its child.
const WRAPPER_VAR: &str = "LRSGATE_BENCH_SERVER_WRAPPER";

struct Server {
    /// The server, or the wrapper it runs under.
    child: Child,
    wrapped: bool,
    base: String,
}

impl Server {
    /// The server's process id (the wrapper's first child, when wrapped).
    fn pid(&self) -> u32 {
        let id = self.child.id();
        if !self.wrapped {
            return id;
        }
        std::fs::read_to_string(format!("/proc/{id}/task/{id}/children"))
            .ok()
            .and_then(|c| c.split_whitespace().next()?.parse().ok())
            .unwrap_or(id)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.wrapped {
            // A wrapped server stops gracefully, so the wrapper can finish its profile.
            let _ = Command::new("kill")
                .args(["-TERM", &self.pid().to_string()])
                .status();
        } else {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// One backend's figures.
struct Figures {
    store: String,
    mode: Mode,
    /// From the first POST until every statement is answerable: acknowledged and, in
    /// evidence mode, its evidence in a profile.
    ingest: Duration,
    /// Of that, the wait after the last acknowledgement for evidence to be applied.
    evidence_wait: Option<Duration>,
    /// From the last acknowledgement until the whole evidence journal was applied, when
    /// the server reports its journal.
    settled: Option<Duration>,
    /// How long the server's background work went on once that was done (`quiet`).
    quieted: Duration,
    /// (filter name, p50 ms, p99 ms).
    queries: Vec<(&'static str, f64, f64)>,
    /// The server's CPU time (user and system, all threads) over `ingest`, seconds.
    ingest_cpu: f64,
    /// RSS once ingest is answerable, before the queries.
    ingested_rss_mb: f64,
    rss_mb: f64,
    peak_rss_mb: f64,
    /// The SQLite write-ahead logs at the end (main, evidence file), MB.
    wal_mb: Option<(f64, f64)>,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if let Some(trials) = args.crash_trials {
        return crash::run(&args, trials).await;
    }
    if let Some(minutes) = args.soak {
        return soak::run(&args, minutes).await;
    }
    let temp = tempfile::tempdir()?;
    let dir = args.dir.clone().unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&dir)?;
    println!(
        "lrsgate bench: {} statements in batches of {}, {} POSTs in flight, {} GETs per filter",
        args.statements, args.batch, args.concurrency, args.queries
    );
    let mut all = Vec::new();
    for &mode in &args.modes {
        let suffix = mode.name();
        // A fresh store for every run, also in a `--dir` that an earlier run used.
        let file = dir.join(format!("bench-{suffix}.db"));
        remove_sqlite_store(&file)?;
        let mut stores = vec![format!("sqlite://{}", file.display())];
        if let Some(url) = &args.mongodb {
            let database = format!("lrsgate_bench_{}", uuid::Uuid::new_v4().simple());
            stores.push(crate::store::with_database(url, &database));
        }
        for store in stores {
            println!(
                "measuring on {}, mode {}",
                crate::redact::redacted_url(&store),
                mode.name()
            );
            all.push(measure(&args, store, mode).await?);
        }
    }
    print_table(&args, &all);
    Ok(())
}

/// Removes the SQLite store at `file`: the database, its evidence file and their logs.
fn remove_sqlite_store(file: &std::path::Path) -> anyhow::Result<()> {
    for suffix in [
        "",
        "-wal",
        "-shm",
        "-evidence",
        "-evidence-wal",
        "-evidence-shm",
    ] {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(anyhow::Error::new(e).context(format!(
                    "removing {}",
                    std::path::Path::new(&name).display()
                )))
            }
            _ => {}
        }
    }
    Ok(())
}

async fn measure(args: &BenchArgs, store: String, mode: Mode) -> anyhow::Result<Figures> {
    let server = start_server(&store, mode).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let credential = match mode {
        Mode::Evidence => Some(evidence_credential(&client, &server.base).await?),
        _ => None,
    };
    let cpu_before = cpu_seconds_of(server.pid())?;
    let mut ingest = ingest(&client, &server.base, args).await?;
    let mut evidence_wait = None;
    if let Some((key, secret)) = &credential {
        // A profile answers once every acknowledged statement's evidence is applied.
        let started = Instant::now();
        let response = client
            .get(format!("{}/api/v1/profiles", server.base))
            .basic_auth(key, Some(secret))
            .query(&[("agent", agent(0).to_string())])
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("a profile answered {}", response.status());
        }
        evidence_wait = Some(started.elapsed());
        ingest += started.elapsed();
    }

    let ingest_cpu = cpu_seconds_of(server.pid())? - cpu_before;
    let (ingested_rss_mb, _) = memory_of(server.pid())?;
    // Reads are timed at rest, once the evidence thread has applied the whole journal and
    // the logs are checkpointed (the soak times them while statements keep arriving).
    let settled = match evidence_wait {
        Some(wait) => settle(&client, &server.base).await.map(|s| wait + s),
        None => None,
    };
    let quieted = quiet(server.pid()).await?;

    let mut rng = StdRng::seed_from_u64(7);
    let people = args.people.max(1);
    let mut queries = Vec::new();
    for name in ["agent", "verb", "activity"] {
        let mut requests = (0..args.queries + WARM_UP).map(|_| {
            let value = match name {
                "agent" => agent(rng.gen_range(0..people)).to_string(),
                "verb" => verb_id(rng.gen_range(0..VERBS.len())),
                _ => activity_id(rng.gen_range(0..ACTIVITIES)),
            };
            client
                .get(format!("{}/xapi/statements", server.base))
                .basic_auth(KEY, Some(SECRET))
                .header("X-Experience-API-Version", "1.0.3")
                .query(&[(name, value.as_str()), ("limit", "25")])
        });
        // The first lookups of a kind have the server build its filters of the sealed
        // index buckets, in the background: the timed ones start once that is done.
        send(name, requests.by_ref().take(WARM_UP)).await?;
        quiet(server.pid()).await?;
        queries.push(timed(name, 0, requests).await?);
    }
    if let Some(credential) = &credential {
        queries.extend(evidence_queries(&client, &server.base, credential, args, &mut rng).await?);
    }
    let (rss_mb, peak_rss_mb) = memory_of(server.pid())?;
    let wal_mb = store.strip_prefix("sqlite://").map(|path| {
        let size = |suffix: &str| {
            std::fs::metadata(format!("{path}{suffix}")).map_or(0.0, |m| m.len() as f64 / 1e6)
        };
        (size("-wal"), size("-evidence-wal"))
    });
    Ok(Figures {
        store,
        mode,
        ingest,
        evidence_wait,
        settled,
        quieted,
        queries,
        ingest_cpu,
        ingested_rss_mb,
        rss_mb,
        peak_rss_mb,
        wal_mb,
    })
}

/// Requests of each kind sent before the timed ones, and not timed: the first reads of a
/// kind on a read connection prepare its SQL and fill its page cache (up to 30 ms for the
/// very first read after start), which is a cold start, not the steady state the
/// percentiles describe. Sequential reads go to one connection (the one idle last), and
/// it needs a few dozen reads before the index's inner pages are in its cache (when reads
/// went to the four connections in turn, after 10 in all the next 200 agent lookups at 1 M
/// statements had a p99 twice that of the 200 after them). Their arguments are drawn like
/// the timed ones', so the timed reads do not find their own pages warmed.
const WARM_UP: usize = 50;

/// Sends the requests one after another, the first `warm_up` untimed; (label, p50 ms, p99
/// ms) of the rest.
async fn timed(
    label: &'static str,
    warm_up: usize,
    mut requests: impl Iterator<Item = reqwest::RequestBuilder>,
) -> anyhow::Result<(&'static str, f64, f64)> {
    send(label, requests.by_ref().take(warm_up)).await?;
    let mut latencies = send(label, requests).await?;
    latencies.sort();
    Ok((
        label,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
    ))
}

/// Sends the requests one after another; how long each took to answer in full.
async fn send(
    label: &str,
    requests: impl Iterator<Item = reqwest::RequestBuilder>,
) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::new();
    for request in requests {
        let started = Instant::now();
        let response = request.send().await?;
        if !response.status().is_success() {
            bail!("{label} answered {}", response.status());
        }
        response.bytes().await?;
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

/// The longest the reads wait for the evidence journal to be applied.
const SETTLE_LIMIT: Duration = Duration::from_secs(300);

/// Waits until the server's evidence journal has no entry left to apply (at most
/// `SETTLE_LIMIT`) and says how long that took; `None` when `/metrics` shows no journal.
async fn settle(client: &reqwest::Client, base: &str) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < SETTLE_LIMIT {
        let lag = soak::metrics(client, base).await?.lag_entries?;
        if lag <= 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Some(started.elapsed())
}

/// The server is at rest once its CPU time grows by less than this share of a core over
/// `QUIET_WINDOW`.
const QUIET_SHARE: f64 = 0.05;
const QUIET_WINDOW: Duration = Duration::from_millis(500);
/// The longest the reads wait for the server to come to rest.
const QUIET_LIMIT: Duration = Duration::from_secs(60);

/// Waits until the server's background work after ingest is done: copying the
/// write-ahead logs into their databases (hundreds of MB after a million statements), the
/// evidence thread's last checkpoint, the journal's trim. Reads timed during it measure
/// that work; after it, the store itself. How long it took (at most `QUIET_LIMIT`).
async fn quiet(pid: u32) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut before = cpu_seconds_of(pid)?;
    while started.elapsed() < QUIET_LIMIT {
        tokio::time::sleep(QUIET_WINDOW).await;
        let now = cpu_seconds_of(pid)?;
        if now - before < QUIET_SHARE * QUIET_WINDOW.as_secs_f64() {
            break;
        }
        before = now;
    }
    Ok(started.elapsed())
}

/// A credential of the default tenant to read evidence and define teams with.
async fn evidence_credential(
    client: &reqwest::Client,
    base: &str,
) -> anyhow::Result<(String, String)> {
    let response = client
        .post(format!("{base}/api/v1/admin/tenants/default/credentials"))
        .basic_auth("admin", Some(ADMIN_SECRET))
        .json(&json!({ "name": "bench evidence", "scopes": ["evidence:read", "people:write", "opportunities:write"] }))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("creating a credential answered {}", response.status());
    }
    let credential: Value = response.json().await?;
    Ok((
        credential["key"].as_str().unwrap_or_default().to_owned(),
        credential["secret"].as_str().unwrap_or_default().to_owned(),
    ))
}

/// The shipped framework, and the items whose experts are asked for.
const FRAMEWORK: &str = "https://w3id.org/lrsgate/frameworks/wlp";
const EXPERT_ITEMS: [&str; 8] = [
    "competency/thinking-strategically",
    "competency/building-trust",
    "competency/planning-and-implementing-assignments",
    "aoe/coaching",
    "aoe/designing-learning",
    "aoe/measuring-and-evaluating",
    "aoe/facilitating-organizational-change",
    "aoe/managing-organizational-knowledge",
];

/// Teams of this many people are mapped.
const TEAM_SIZE: usize = 50;
const TEAMS: usize = 20;

/// Profiles of random people, the top 20 experts of random items, and skill maps of
/// teams of 50 random people.
async fn evidence_queries(
    client: &reqwest::Client,
    base: &str,
    credential: &(String, String),
    args: &BenchArgs,
    rng: &mut StdRng,
) -> anyhow::Result<Vec<(&'static str, f64, f64)>> {
    let api = |path: &str| format!("{base}/api/v1/{path}");
    let items: Vec<String> = EXPERT_ITEMS
        .iter()
        .map(|i| {
            format!("{FRAMEWORK}/{i}")
                .replace(':', "%3A")
                .replace('/', "%2F")
        })
        .collect();
    let (key, secret) = credential;
    let get = |path: &str| client.get(api(path)).basic_auth(key, Some(secret));
    let people = args.people.max(1);
    let mut teams = Vec::new();
    for _ in 0..TEAMS {
        let members: Vec<_> = (0..TEAM_SIZE)
            .map(|_| agent(rng.gen_range(0..people)))
            .collect();
        let response = client
            .post(api("teams"))
            .basic_auth(key, Some(secret))
            .json(&json!({ "name": "Bench team", "members": members }))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("creating a team answered {}", response.status());
        }
        let team: Value = response.json().await?;
        teams.push(team["id"].as_str().unwrap_or_default().to_owned());
    }
    let n = args.queries + WARM_UP;
    let profiles: Vec<String> = (0..n)
        .map(|_| agent(rng.gen_range(0..people)).to_string())
        .collect();
    let profile = timed(
        "profile",
        WARM_UP,
        profiles
            .iter()
            .map(|a| get("profiles").query(&[("agent", a)])),
    )
    .await?;
    let picks: Vec<usize> = (0..n).map(|_| rng.gen_range(0..items.len())).collect();
    let experts = timed(
        "experts top 20",
        WARM_UP,
        picks
            .iter()
            .map(|i| get(&format!("competencies/{}/experts", items[*i])).query(&[("limit", "20")])),
    )
    .await?;
    let team_picks: Vec<usize> = (0..n).map(|_| rng.gen_range(0..teams.len())).collect();
    let maps = timed(
        "team map (50 people)",
        WARM_UP,
        team_picks
            .iter()
            .map(|t| get(&format!("teams/{}/skills", teams[*t]))),
    )
    .await?;
    let mut figures = vec![profile, experts, maps];
    figures.extend(lxp_queries(&get, &api, client, credential, &profiles, n, rng).await?);
    Ok(figures)
}

/// The shipped framework's roles, for upskilling and recommendations.
const ROLES: [&str; 4] = [
    "role/learning-strategist",
    "role/business-partner",
    "role/project-manager",
    "role/professional-specialist",
];
/// Opportunities made to rank candidates for.
const OPPORTUNITIES: usize = 10;

/// Candidates of opportunities needing three random items, upskilling needs of the
/// shipped roles over everyone (the first ask of each role computes its figures; later
/// ones reuse them until evidence changes), and recommendations of random people against
/// a random role.
async fn lxp_queries(
    get: &impl Fn(&str) -> reqwest::RequestBuilder,
    api: &impl Fn(&str) -> String,
    client: &reqwest::Client,
    (key, secret): &(String, String),
    people: &[String],
    n: usize,
    rng: &mut StdRng,
) -> anyhow::Result<Vec<(&'static str, f64, f64)>> {
    let mut opportunities = Vec::new();
    for o in 0..OPPORTUNITIES {
        let needs: Vec<Value> = (0..3)
            .map(|k| {
                let item = EXPERT_ITEMS[(o + k * 3) % EXPERT_ITEMS.len()];
                json!({ "item": format!("{FRAMEWORK}/{item}"), "level": rng.gen_range(2..=3) })
            })
            .collect();
        let response = client
            .post(api("opportunities"))
            .basic_auth(key, Some(secret))
            .json(
                &json!({ "name": format!("Bench project {o}"), "kind": "project", "needs": needs }),
            )
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("creating an opportunity answered {}", response.status());
        }
        let created: Value = response.json().await?;
        opportunities.push(created["id"].as_str().unwrap_or_default().to_owned());
    }
    let picks: Vec<usize> = (0..n)
        .map(|_| rng.gen_range(0..opportunities.len()))
        .collect();
    let candidates = timed(
        "candidates top 20",
        WARM_UP,
        picks.iter().map(|o| {
            get(&format!("opportunities/{}/candidates", opportunities[*o]))
                .query(&[("limit", "20")])
        }),
    )
    .await?;
    let roles: Vec<String> = ROLES.iter().map(|r| format!("{FRAMEWORK}/{r}")).collect();
    let first = timed(
        "upskilling, first ask per role",
        0,
        roles
            .iter()
            .map(|r| get("upskilling").query(&[("role", r)])),
    )
    .await?;
    let role_picks: Vec<usize> = (0..n).map(|_| rng.gen_range(0..roles.len())).collect();
    let upskilling = timed(
        "upskilling (role, everyone)",
        WARM_UP,
        role_picks
            .iter()
            .map(|r| get("upskilling").query(&[("role", &roles[*r])])),
    )
    .await?;
    let recommendations = timed(
        "recommendations",
        WARM_UP,
        people
            .iter()
            .zip(&role_picks)
            .map(|(a, r)| get("recommendations").query(&[("agent", a), ("role", &roles[*r])])),
    )
    .await?;
    Ok(vec![candidates, first, upskilling, recommendations])
}

fn print_table(args: &BenchArgs, all: &[Figures]) {
    let backend = |f: &Figures| {
        let kind = f.store.split("://").next().unwrap_or("?");
        format!("{kind}, {}", f.mode.name())
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
        "ingest, statements per server CPU-s",
        all.iter()
            .map(|f| format!("{:.0}", args.statements as f64 / f.ingest_cpu.max(1e-9)))
            .collect(),
    );
    row(
        "ingest, seconds",
        all.iter()
            .map(|f| format!("{:.2}", f.ingest.as_secs_f64()))
            .collect(),
    );
    row(
        "of which evidence after the last 2xx, s",
        all.iter()
            .map(|f| {
                f.evidence_wait
                    .map_or("-".to_owned(), |w| format!("{:.2}", w.as_secs_f64()))
            })
            .collect(),
    );
    row(
        "journal applied after the last 2xx, s",
        all.iter()
            .map(|f| {
                f.settled
                    .map_or("-".to_owned(), |w| format!("{:.2}", w.as_secs_f64()))
            })
            .collect(),
    );
    row(
        "at rest before the reads, s",
        all.iter()
            .map(|f| format!("{:.2}", f.quieted.as_secs_f64()))
            .collect(),
    );
    let labels: Vec<&str> = all
        .iter()
        .max_by_key(|f| f.queries.len())
        .map(|f| f.queries.iter().map(|q| q.0).collect())
        .unwrap_or_default();
    for label in labels {
        row(
            &format!("{label}, p50/p99 ms"),
            all.iter()
                .map(|f| {
                    f.queries
                        .iter()
                        .find(|q| q.0 == label)
                        .map_or("-".to_owned(), |q| format!("{:.2} / {:.2}", q.1, q.2))
                })
                .collect(),
        );
    }
    row(
        "gateway RSS after ingest, MB",
        all.iter()
            .map(|f| format!("{:.1}", f.ingested_rss_mb))
            .collect(),
    );
    row(
        "gateway RSS / peak RSS, MB",
        all.iter()
            .map(|f| format!("{:.1} / {:.1}", f.rss_mb, f.peak_rss_mb))
            .collect(),
    );
    row(
        "write-ahead logs (main / evidence), MB",
        all.iter()
            .map(|f| {
                f.wal_mb
                    .map_or("-".to_owned(), |(m, e)| format!("{m:.1} / {e:.1}"))
            })
            .collect(),
    );
}

async fn start_server(store: &str, mode: Mode) -> anyhow::Result<Server> {
    let on_off = |on: bool| if on { "on" } else { "off" };
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let wrapper = std::env::var(WRAPPER_VAR)
        .ok()
        .filter(|w| !w.trim().is_empty());
    let mut command = match &wrapper {
        Some(w) => {
            let mut words = w.split_whitespace();
            let mut c = Command::new(words.next().unwrap_or_default());
            c.args(words).arg(std::env::current_exe()?);
            c
        }
        None => Command::new(std::env::current_exe()?),
    };
    let child = command
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
        .env("LRSGATE_ADMIN_SECRET", ADMIN_SECRET)
        .env("LRSGATE_TAGGING", on_off(mode != Mode::Plain))
        .env("LRSGATE_EVIDENCE_RECORDING", on_off(mode == Mode::Evidence))
        // Its warnings and errors (the log level is `warn`) explain a failed run.
        .stdout(Stdio::inherit())
        .spawn()
        .context("starting the server")?;
    let server = Server {
        child,
        wrapped: wrapper.is_some(),
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
            let body = corpus::batch(first, size, args.people.max(1));
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

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// The CPU time a process has used so far (user and system, all threads), in seconds:
/// a figure that holds still when other processes share the cores, unlike the wall clock.
fn cpu_seconds_of(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .context("reading the server's /proc stat")?;
    // Fields after the command name, which is in parentheses and may hold spaces:
    // utime and stime are the 14th and 15th fields of the line.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let field = |n: usize| {
        after
            .split_whitespace()
            .nth(n)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Ok((field(11) + field(12)) / clock_ticks_per_second())
}

/// The kernel's clock ticks per second, which /proc counts CPU time in.
fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100.0)
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
