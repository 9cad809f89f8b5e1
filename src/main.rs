//! The `lrsgate` command: `serve` (the default), `bench`, `migrate`, `tenant`,
//! `credential`, `connector`, `person`, `retag` and `health`.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use lrsgate::config::{config_path, Layer, LogFormat};
use lrsgate::redact::redacted_url;
use lrsgate::store::Store;
use lrsgate::{Application, Settings};
use tracing_subscriber::EnvFilter;

/// mimalloc returns freed memory to the system promptly and keeps per-thread heaps small,
/// which holds the server's resident size down under sustained ingest.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long memory freed in mimalloc waits before it goes back to the system, in ms (its
/// own default is 10). At a million statements with evidence, 2 ms took the gateway's
/// peak RSS from 134–156 MB to 118–134 MB at the same ingest rate; 0 cost a sixth of the
/// rate (README, Benchmarks). An operator's `MIMALLOC_PURGE_DELAY` is left to win.
#[cfg(feature = "mimalloc")]
const PURGE_DELAY_MS: std::ffi::c_long = 2;

/// `mi_option_purge_delay` in the `mi_option_t` enum of mimalloc 2's `mimalloc.h` (the
/// version Cargo.toml pins), which the Rust bindings do not name.
#[cfg(feature = "mimalloc")]
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

#[cfg(feature = "mimalloc")]
#[allow(unsafe_code)]
fn return_freed_memory_sooner() {
    extern "C" {
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: the mimalloc library the `mimalloc` crate links defines this function
        // with this signature; it only stores one option's value, which mimalloc reads
        // at its next purge.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) }
    }
}

#[derive(Parser)]
#[command(
    name = "lrsgate",
    version,
    about = "xAPI Learning Record Store and LMS/LXP gateway"
)]
struct Cli {
    /// TOML configuration file (also LRSGATE_CONFIG).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
    /// Start a server on 127.0.0.1 with a fresh store, ingest generated statements over
    /// HTTP and print ingest rate, filtered-query latencies and the server's memory.
    Bench(lrsgate::bench::BenchArgs),
    /// Copy every record of one store into another, empty one (SQLite to MongoDB or back),
    /// then verify counts and checksums.
    Migrate(lrsgate::migrate::MigrateArgs),
    /// Manage tenants on the configured store.
    Tenant {
        #[command(subcommand)]
        command: lrsgate::admin_cli::TenantCommand,
        /// Store URL (otherwise the configured one).
        #[arg(long, global = true)]
        store: Option<String>,
    },
    /// Manage a tenant's credentials on the configured store.
    Credential {
        #[command(subcommand)]
        command: lrsgate::admin_cli::CredentialCommand,
        /// Store URL (otherwise the configured one).
        #[arg(long, global = true)]
        store: Option<String>,
    },
    /// Run a connector now from the shell, or list connectors with their status.
    Connector {
        #[command(subcommand)]
        command: lrsgate::admin_cli::ConnectorCommand,
        /// The tenant's name.
        #[arg(long, global = true, default_value = "default")]
        tenant: String,
        /// Store URL (otherwise the configured one).
        #[arg(long, global = true)]
        store: Option<String>,
    },
    /// Export or erase a person (privacy requests), or measure erasure (`person bench`).
    Person {
        #[command(subcommand)]
        command: lrsgate::privacy::cli::PersonCommand,
        /// The tenant's name.
        #[arg(long, global = true, default_value = "default")]
        tenant: String,
        /// Store URL (otherwise the configured one).
        #[arg(long, global = true)]
        store: Option<String>,
    },
    /// Recompute the tags of a tenant's statements after frameworks or rules changed.
    Retag {
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Store URL (otherwise the configured one).
        #[arg(long)]
        store: Option<String>,
    },
    /// Import records from files into a tenant's statements (`import csv FILE --mapping M`).
    Import {
        #[command(subcommand)]
        command: lrsgate::admin_cli::ImportCommand,
        /// Store URL (otherwise the configured one).
        #[arg(long, global = true)]
        store: Option<String>,
    },
    /// Copy a SQLite store consistently while the server may be running: the database
    /// file to PATH and its evidence file to PATH-evidence.
    Backup {
        /// Where the copy goes (must not exist yet).
        path: PathBuf,
        /// Store URL (otherwise the configured one).
        #[arg(long)]
        store: Option<String>,
    },
    /// Ask a running server on this machine whether it is ready (`/health/ready` on the
    /// configured listen address); exits 0 when it is, 1 otherwise. The Docker image's
    /// HEALTHCHECK runs this, having no curl.
    Health {
        /// Ask `/health/live` instead: is the process up at all.
        #[arg(long)]
        live: bool,
        /// The URL to GET instead of the one derived from the listen address.
        #[arg(long)]
        url: Option<String>,
    },
}

/// The settings (file, environment, `--store`) and the store they name.
async fn configured_store(
    config: Option<PathBuf>,
    store: Option<String>,
) -> anyhow::Result<(Settings, Store)> {
    let layer = Layer {
        store,
        ..Layer::default()
    };
    let settings = Settings::load(config_path(config).as_deref(), layer)?;
    let store = Store::open(&settings.store).await?;
    Ok((settings, store))
}

#[derive(clap::Args, Default, Clone)]
struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long)]
    listen: Option<String>,
    /// Store URL: sqlite://PATH (the embedded default) or
    /// mongodb://[USER:PASSWORD@]HOST[:PORT][,HOST…]/DATABASE[?OPTIONS] (also mongodb+srv://).
    #[arg(long)]
    store: Option<String>,
    /// Log filter, e.g. info or lrsgate=debug.
    #[arg(long)]
    log: Option<String>,
    /// Log format.
    #[arg(long, value_enum)]
    log_format: Option<LogFormat>,
}

impl ServeArgs {
    fn into_layer(self) -> Layer {
        Layer {
            listen: self.listen,
            store: self.store,
            log: self.log,
            log_format: self.log_format,
            ..Layer::default()
        }
    }
}

/// Logs go to standard output, coloured only when that is a terminal (and `NO_COLOR` is
/// unset), so files and pipes get plain text.
fn init_tracing(settings: &Settings) {
    let filter = EnvFilter::try_new(&settings.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour);
    match settings.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    #[cfg(feature = "mimalloc")]
    return_freed_memory_sooner();
    let cli = Cli::parse();
    let serve = match cli.command {
        Some(Command::Serve(args)) => args,
        Some(Command::Bench(args)) => return lrsgate::bench::run(args).await,
        Some(Command::Migrate(args)) => return lrsgate::migrate::run(args).await,
        Some(Command::Tenant { command, store }) => {
            let (_, store) = configured_store(cli.config, store).await?;
            return lrsgate::admin_cli::tenant(&store, command).await;
        }
        Some(Command::Credential { command, store }) => {
            let (_, store) = configured_store(cli.config, store).await?;
            return lrsgate::admin_cli::credential(&store, command).await;
        }
        Some(Command::Connector {
            command,
            tenant,
            store,
        }) => {
            let (settings, store) = configured_store(cli.config, store).await?;
            init_tracing(&settings);
            return lrsgate::admin_cli::connector(&store, &settings, &tenant, command).await;
        }
        Some(Command::Person {
            command,
            tenant,
            store,
        }) => return lrsgate::privacy::cli::main(cli.config, store, &tenant, command).await,
        Some(Command::Retag { tenant, store }) => {
            let (settings, store) = configured_store(cli.config, store).await?;
            return lrsgate::admin_cli::retag(&store, &tenant, &settings).await;
        }
        Some(Command::Import { command, store }) => {
            let (settings, store) = configured_store(cli.config, store).await?;
            return lrsgate::admin_cli::import(&store, &settings, command).await;
        }
        Some(Command::Backup { path, store }) => {
            let layer = Layer {
                store,
                ..Layer::default()
            };
            let settings = Settings::load(config_path(cli.config).as_deref(), layer)?;
            return lrsgate::admin_cli::backup(&settings.store, &path).await;
        }
        Some(Command::Health { live, url }) => {
            let url = match url {
                Some(url) => url,
                None => {
                    let settings =
                        Settings::load(config_path(cli.config).as_deref(), Layer::default())?;
                    let path = if live {
                        "/health/live"
                    } else {
                        "/health/ready"
                    };
                    lrsgate::http::ops::local_url(&settings.listen, path)
                }
            };
            println!("{}", lrsgate::http::ops::probe(&url).await?);
            return Ok(());
        }
        None => cli.serve,
    };
    let settings = Settings::load(config_path(cli.config).as_deref(), serve.into_layer())?;
    init_tracing(&settings);
    let (listen, store) = (settings.listen.clone(), redacted_url(&settings.store));
    let app = Application::build(settings).await?;
    if let Some((key, secret)) = &app.initial_credential {
        println!("Created the first credential. It is shown only this once; store it now.");
        println!("  key:    {key}");
        println!("  secret: {secret}");
    }
    tracing::info!(%listen, %store, "lrsgate listening");
    app.run().await?;
    Ok(())
}
