//! `lrsgate person …`: export or erase a person from a shell, and the erase benchmark
//! (`person bench`): a store of N statements of which M are one person's, then the time a
//! dry run and the erasure take.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::Subcommand;
use serde_json::{json, Value};

use super::{Privacy, Subject};
use crate::config::Settings;
use crate::ingest::Source;
use crate::lrs::Lrs;
use crate::store::{NewStatement, Store, TenantId};
use crate::xapi::statement::{prepare, Assigned};
use crate::xapi::XapiVersion;

#[derive(Subcommand, Debug, Clone)]
pub enum PersonCommand {
    /// Write everything held about a person to a tar archive (see README "Privacy").
    Export {
        /// Any identity of the person, as an xAPI Agent in JSON.
        #[arg(long, conflicts_with = "person")]
        agent: Option<String>,
        /// Or the person's id (of linked identities).
        #[arg(long)]
        person: Option<String>,
        /// The archive to write (must not exist yet).
        #[arg(long)]
        out: PathBuf,
    },
    /// Erase a person: their statements, documents, identities and evidence go; statements
    /// that only mention them keep a pseudonymous account instead.
    Erase {
        #[arg(long, conflicts_with = "person")]
        agent: Option<String>,
        #[arg(long)]
        person: Option<String>,
        /// Only count what would go.
        #[arg(long)]
        dry_run: bool,
    },
    /// Measure erasure: fill a fresh store (a temporary SQLite file unless `--store`
    /// names one) with `--statements`, `--mine` of them one person's (tagged, with
    /// evidence; one in ten only mentions them), then time a dry run and the erasure.
    Bench {
        #[arg(long, default_value_t = 1_000_000)]
        statements: usize,
        #[arg(long, default_value_t = 10_000)]
        mine: usize,
        /// Learners the other statements are spread over.
        #[arg(long, default_value_t = 100_000)]
        people: usize,
    },
}

fn subject(agent: Option<String>, person: Option<String>) -> anyhow::Result<Subject> {
    let agent = agent
        .map(|a| serde_json::from_str::<Value>(&a).context("--agent is not JSON"))
        .transpose()?;
    Ok(Subject::from_params(agent.as_ref(), person.as_deref())?)
}

/// Runs a `person` command on the store, in the named tenant.
pub async fn person(store: &Store, tenant: &str, command: PersonCommand) -> anyhow::Result<()> {
    let tenant_id = crate::accounts::tenant(store, tenant).await?.id;
    let privacy = Privacy::new(store.clone());
    match command {
        PersonCommand::Export { agent, person, out } => {
            let who = privacy.person(tenant_id, &subject(agent, person)?).await?;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&out)
                .with_context(|| format!("creating {}", out.display()))?;
            let (tx, mut rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(8);
            let writing = tokio::spawn(async move {
                let mut bytes = 0usize;
                while let Some(chunk) = rx.recv().await {
                    file.write_all(&chunk)?;
                    bytes += chunk.len();
                }
                file.sync_all()?;
                Ok::<_, std::io::Error>(bytes)
            });
            privacy.export(tenant_id, &who, tx).await?;
            let bytes = writing.await??;
            println!(
                "Wrote person {} ({bytes} bytes) to {}.",
                who.id,
                out.display()
            );
        }
        PersonCommand::Erase {
            agent,
            person,
            dry_run,
        } => {
            let report = privacy
                .erase(tenant_id, &subject(agent, person)?, dry_run, "cli")
                .await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        PersonCommand::Bench {
            statements,
            mine,
            people,
        } => bench(store, tenant_id, statements, mine, people).await?,
    }
    Ok(())
}

/// The benchmark's person.
fn erased_one() -> Value {
    json!({"objectType": "Agent", "mbox": "mailto:erase-me@example.com"})
}

fn body(i: usize, actor: Value, tagged: bool) -> Value {
    let mut s = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "actor": actor,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": format!("https://courses.example.com/c{}", i % 500),
                   "definition": {"name": {"en-US": format!("Course {}", i % 500)}}}
    });
    if tagged {
        s["context"] = json!({"contextActivities": {"other": [
            {"id": "https://w3id.org/lrsgate/frameworks/wlp/aoe/coaching"}]}});
    }
    s
}

fn learner(n: usize) -> Value {
    json!({"objectType": "Agent", "mbox": format!("mailto:learner-{n}@example.com")})
}

async fn bench(
    store: &Store,
    tenant: TenantId,
    statements: usize,
    mine: usize,
    people: usize,
) -> anyhow::Result<()> {
    let lrs = Lrs::from_settings(store.clone(), &Settings::default())?;
    lrs.competencies.tagger(tenant).await?;
    let authority = crate::auth::authority_for("bench", "bench");
    let source = Source {
        tenant,
        authority: &authority,
        version: XapiVersion::V1,
        may_define: true,
    };
    let every = (statements / mine.max(1)).max(1);
    let (mut theirs_count, started) = (0usize, Instant::now());
    for chunk in (0..statements).collect::<Vec<_>>().chunks(1000) {
        let mut others = Vec::new();
        let mut theirs = Vec::new();
        for &i in chunk {
            if i % every == 0 && theirs_count < mine {
                theirs_count += 1;
                if theirs_count % 10 == 0 {
                    // Mentioned only: the person taught someone else.
                    let mut s = body(i, learner(i % people.max(1)), true);
                    s["context"]["instructor"] = erased_one();
                    theirs.push(s);
                } else {
                    theirs.push(body(i, erased_one(), true));
                }
            } else {
                let prepared = prepare(
                    body(i, learner(i % people.max(1)), false),
                    &Assigned {
                        authority: &authority,
                        version: XapiVersion::V1,
                    },
                );
                others.push(NewStatement {
                    statement: prepared,
                    tags: Vec::new(),
                    evidence: Vec::new(),
                    teams: Vec::new(),
                });
            }
        }
        store
            .statements
            .insert_statements(tenant, others, Vec::new())
            .await?;
        if !theirs.is_empty() {
            lrs.ingest
                .statements(source, theirs, Vec::new(), true)
                .await?;
        }
        let done = chunk.last().map_or(0, |l| l + 1);
        if done % 100_000 == 0 {
            eprintln!(
                "{done} statements stored ({:.0}/s)",
                done as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    let person = crate::store::people::own_person("mbox:mailto:erase-me@example.com");
    // Evidence applied before timing, so the erasure's own evidence work is what is timed.
    let items = store
        .evidence
        .person_items(tenant, std::slice::from_ref(&person))
        .await?;
    println!(
        "store: {statements} statements, {theirs_count} naming the person ({} evidence sums), filled in {:.1} s",
        items.len(),
        started.elapsed().as_secs_f64()
    );
    let privacy = Privacy::new(store.clone());
    let who = Subject::Agent(erased_one());
    let t = Instant::now();
    let dry = privacy.erase(tenant, &who, true, "bench").await?;
    println!("dry run: {:.2} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let real = privacy.erase(tenant, &who, false, "bench").await?;
    let erased = t.elapsed();
    store.evidence.person_items(tenant, &[person]).await?;
    println!(
        "erase: {:.2} s ({} statements deleted, {} pseudonymised, {} evidence items); evidence applied after {:.2} s",
        erased.as_secs_f64(),
        real.counts.statements_deleted,
        real.counts.statements_pseudonymised,
        real.evidence_deleted,
        t.elapsed().as_secs_f64()
    );
    anyhow::ensure!(dry.counts == real.counts, "the dry run counted otherwise");
    Ok(())
}

/// `lrsgate person …` from `main`: the configured store (or `--store`); the benchmark gets
/// a fresh temporary SQLite store unless `--store` names one, never the configured one.
pub async fn main(
    config: Option<PathBuf>,
    store: Option<String>,
    tenant: &str,
    command: PersonCommand,
) -> anyhow::Result<()> {
    let is_bench = matches!(command, PersonCommand::Bench { .. });
    let scratch = tempfile::tempdir()?;
    let url = match store {
        Some(url) => url,
        None if is_bench => format!("sqlite://{}", scratch.path().join("bench.db").display()),
        None => {
            let settings = Settings::load(
                crate::config::config_path(config).as_deref(),
                crate::config::Layer::default(),
            )?;
            settings.store
        }
    };
    let store = Store::open(&url).await?;
    person(&store, tenant, command).await
}
