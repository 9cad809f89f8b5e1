//! `lrsgate tenant …`, `lrsgate credential …`, `lrsgate retag` and `lrsgate backup`:
//! managing tenants, credentials and tags on the configured store, and copying it, for
//! operators at a shell.

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::accounts::{self, IssuedCredential};
use crate::config::Settings;
use crate::lrs::Lrs;
use crate::store::Store;

#[derive(Subcommand, Debug, Clone)]
pub enum TenantCommand {
    /// Create a tenant.
    Create { name: String },
    /// List every tenant.
    List,
}

#[derive(Subcommand, Debug, Clone)]
pub enum CredentialCommand {
    /// Create a credential (Basic key/secret, also an OAuth2 client id/secret); the secret
    /// is shown once.
    Create {
        #[arg(long, default_value = "default")]
        tenant: String,
        /// What the credential is for, e.g. the LMS's name.
        #[arg(long)]
        name: String,
        /// A scope it is granted (repeat for several), e.g. statements/write or xapi:all.
        #[arg(long = "scope", default_value = "all")]
        scopes: Vec<String>,
    },
    /// List a tenant's credentials.
    List {
        #[arg(long, default_value = "default")]
        tenant: String,
    },
    /// Revoke a credential at once on every gateway.
    Revoke {
        #[arg(long, default_value = "default")]
        tenant: String,
        key: String,
    },
}

pub async fn tenant(store: &Store, command: TenantCommand) -> anyhow::Result<()> {
    match command {
        TenantCommand::Create { name } => {
            let t = accounts::create_tenant(store, &name).await?;
            println!("Created tenant `{}` (id {}).", t.name, t.id);
        }
        TenantCommand::List => {
            println!("{:>6}  {:<32} created", "id", "name");
            for t in store.tenants.tenants().await? {
                let t = accounts::TenantView::from(t);
                println!("{:>6}  {:<32} {}", t.id, t.name, t.created);
            }
        }
    }
    Ok(())
}

pub async fn credential(store: &Store, command: CredentialCommand) -> anyhow::Result<()> {
    match command {
        CredentialCommand::Create {
            tenant,
            name,
            scopes,
        } => {
            let tenant = accounts::tenant(store, &tenant).await?;
            let IssuedCredential { credential, secret } =
                accounts::issue_credential(store, &tenant, &name, &scopes.join(" ")).await?;
            println!(
                "Created credential `{}` in tenant `{}` with scopes: {}",
                credential.name,
                credential.tenant,
                credential.scopes.join(" ")
            );
            println!("The secret is shown only this once; store it now.");
            println!("  key:    {}", credential.key);
            println!("  secret: {secret}");
        }
        CredentialCommand::List { tenant } => {
            let tenant = accounts::tenant(store, &tenant).await?;
            println!("{:<22} {:<24} scopes", "key", "name");
            for c in accounts::credentials(store, &tenant).await? {
                println!("{:<22} {:<24} {}", c.key, c.name, c.scopes.join(" "));
            }
        }
        CredentialCommand::Revoke { tenant, key } => {
            let tenant = accounts::tenant(store, &tenant).await?;
            accounts::revoke_credential(store, &tenant, &key).await?;
            println!("Revoked credential `{key}`.");
        }
    }
    Ok(())
}

/// `lrsgate retag`: recomputes the tags and evidence of a tenant's statements after its
/// frameworks, rules or evidence weights changed, with a progress spinner; prints how many
/// statements' tags moved.
pub async fn retag(store: &Store, tenant: &str, settings: &Settings) -> anyhow::Result<()> {
    let tenant = accounts::tenant(store, tenant).await?;
    let lrs = Lrs::from_settings(store.clone(), settings)?;
    let spinner = ProgressBar::new_spinner().with_message(format!("retagging {}", tenant.name));
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {msg}: {human_pos} statements ({per_sec}) {prefix}")
    {
        spinner.set_style(style);
    }
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    let (seen, changed) = lrs
        .ingest
        .retag(tenant.id, |seen, changed| {
            spinner.set_position(seen);
            spinner.set_prefix(format!("{changed} changed"));
        })
        .await?;
    spinner.finish_and_clear();
    println!(
        "Retagged tenant `{}`: {seen} statements, {changed} with changed tags.",
        tenant.name
    );
    Ok(())
}

#[derive(Subcommand, Debug, Clone)]
pub enum ImportCommand {
    /// Import an LMS's CSV export of completions and scores through a mapping file (see
    /// README, "Importing LMS exports"). A file is imported whole or not at all, and
    /// importing it again stores nothing new.
    Csv {
        /// The CSV file.
        file: std::path::PathBuf,
        /// The mapping (TOML): which columns hold the learner, course, status, score and date.
        #[arg(long)]
        mapping: std::path::PathBuf,
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Check every row, statements included, and report; store nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// `lrsgate import csv`: prints the report; an error (non-zero exit) when a row was
/// rejected, in which case nothing was stored.
pub async fn import(
    store: &Store,
    settings: &Settings,
    command: ImportCommand,
) -> anyhow::Result<()> {
    use crate::connectors::csv_import::{self, Mapping, Target};
    use anyhow::Context as _;
    let ImportCommand::Csv {
        file,
        mapping,
        tenant,
        dry_run,
    } = command;
    let text = std::fs::read_to_string(&mapping)
        .with_context(|| format!("reading the mapping {}", mapping.display()))?;
    let mapping = Mapping::from_toml(&text).with_context(|| format!("{}", mapping.display()))?;
    let csv = std::fs::File::open(&file)
        .with_context(|| format!("opening the CSV file {}", file.display()))?;
    let tenant = accounts::tenant(store, &tenant).await?;
    let lrs = Lrs::from_settings(store.clone(), settings)?;
    let authority = csv_import::authority(&mapping);
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:30}] {human_pos}/{human_len} ({per_sec})")
    {
        bar.set_style(style);
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let target = Target {
        tenant: tenant.id,
        authority: &authority,
        dry_run,
    };
    let report =
        csv_import::import(&lrs, target, &mapping, std::io::BufReader::new(csv), &bar).await;
    bar.finish_and_clear();
    let report = report.with_context(|| format!("importing {}", file.display()))?;
    print!("{}", report.render());
    if !report.rejected.is_empty() {
        anyhow::bail!(
            "{} of {} rows rejected; nothing was stored",
            report.rejected.len(),
            report.rows
        );
    }
    Ok(())
}

/// `lrsgate backup PATH`: a consistent copy of the SQLite store at `store_url`, taken
/// while a gateway may be writing to it (see `store::sqlite::backup`).
pub async fn backup(store_url: &str, target: &std::path::Path) -> anyhow::Result<()> {
    let source = match store_url.split_once("://") {
        Some(("sqlite", path)) => path,
        None => store_url,
        Some((scheme, _)) => anyhow::bail!(
            "`lrsgate backup` copies SQLite stores; a {scheme} store is backed up with its own tools (for MongoDB, mongodump or a filesystem snapshot of the replica set)"
        ),
    };
    let (source, target) = (std::path::PathBuf::from(source), target.to_owned());
    let copied =
        tokio::task::spawn_blocking(move || crate::store::sqlite::backup::backup(&source, &target))
            .await??;
    println!(
        "Copied {} ({} pages).",
        copied.main.display(),
        copied.pages.0
    );
    match &copied.evidence {
        Some(evidence) => println!(
            "Copied {} ({} pages; evidence applied through journal entry {}, journal head {}).",
            evidence.display(),
            copied.pages.1,
            copied.applied,
            copied.journal_head
        ),
        None => println!("The store had no evidence file yet."),
    }
    Ok(())
}

#[derive(Subcommand, Debug, Clone)]
pub enum ConnectorCommand {
    /// Run one connector now, in this shell, as a gateway would (taking its lease, so it
    /// does not run twice at once); its status records the run.
    Run {
        /// The connector's id.
        name: String,
    },
    /// List the tenant's connectors with their status.
    List,
}

/// `lrsgate connector …`: running and listing a tenant's connectors through the gateway's
/// connector runtime, after putting those declared in the configuration file into the store.
pub async fn connector(
    store: &Store,
    settings: &Settings,
    tenant: &str,
    command: ConnectorCommand,
) -> anyhow::Result<()> {
    use crate::connectors::runtime::{self, Runtime, Schedule, Trigger};

    let tenant = accounts::tenant(store, tenant).await?;
    let lrs = Lrs::from_settings(store.clone(), settings)?;
    let runtime = Runtime::new(lrs, settings)?;
    runtime.declare(&settings.connectors).await?;
    match command {
        ConnectorCommand::Run { name } => {
            let report = runtime
                .run(tenant.id, &name, Trigger::Manual)
                .await
                .map_err(|e| {
                    anyhow::anyhow!("connector `{name}` (tenant `{}`): {e}", tenant.name)
                })?;
            let o = &report.outcome;
            println!(
                "Ran connector `{name}` (tenant `{}`) in {} ms: read {}, stored {}, rejected {}.",
                tenant.name,
                report.finished_millis - report.started_millis,
                o.read,
                o.stored,
                o.rejected.len()
            );
            for r in o.rejected.iter().take(50) {
                println!("  rejected {}: {}", r.record, r.reason);
            }
            if o.rejected.len() > 50 {
                println!("  … and {} more", o.rejected.len() - 50);
            }
        }
        ConnectorCommand::List => {
            let shown = |millis: Option<i64>| {
                millis
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .map_or_else(
                        || "-".to_owned(),
                        |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
                    )
            };
            println!(
                "{:<24} {:<18} {:<10} {:<8} {:<20} last error",
                "id", "kind", "every", "health", "last run (UTC)"
            );
            for record in store.connectors.connectors(tenant.id).await? {
                let (status, _) = runtime::status_of(store, tenant.id, &record.id).await?;
                let schedule = Schedule::of(&record.config).ok();
                let every = match schedule {
                    Some(Schedule { enabled: false, .. }) => "off".to_owned(),
                    Some(Schedule {
                        every_minutes: Some(m),
                        ..
                    }) => format!("{m} min"),
                    _ => "manual".to_owned(),
                };
                let health = if status.running_since_millis.is_some() {
                    "running"
                } else if status.consecutive_failures > 0 {
                    "failing"
                } else if status.runs == 0 {
                    "never"
                } else {
                    "ok"
                };
                let kind = record
                    .config
                    .get("kind")
                    .and_then(|k| k.as_str())
                    .unwrap_or("?");
                println!(
                    "{:<24} {:<18} {:<10} {:<8} {:<20} {}",
                    record.id,
                    kind,
                    every,
                    health,
                    shown(status.last_started_millis),
                    status.last_error.as_deref().unwrap_or("")
                );
            }
        }
    }
    Ok(())
}
