//! Building the application from settings; used by `main` and by the tests alike.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;
use futures_util::future::{join_all, try_join_all};
use tokio::time::Instant;

use crate::auth::{self, Authenticator};
use crate::config::Settings;
use crate::http::error::ApiError;
use crate::http::ops::{self, MetricsListener};
use crate::http::{self, AppState};
use crate::lrs::Lrs;
use crate::redact::redacted_url;
use crate::store::{Store, StoreOptions, DEFAULT_TENANT};

pub struct Application {
    port: u16,
    server: Server,
    /// The server on `metrics_listen`, with its port.
    metrics: Option<(u16, Server)>,
    /// Closed after the last request at shutdown.
    store: Store,
    shutdown_timeout: Duration,
    /// Key and secret of a credential created because the store had none.
    pub initial_credential: Option<(String, String)>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        crate::metrics::init();
        let options = StoreOptions {
            write_queue: settings.write_queue,
            sqlite_cache_mib: settings.sqlite_cache_mib,
            sqlite_filter_mib: settings.sqlite_filter_mib,
            levels: Some(settings.evidence.scale()),
        };
        let store = Store::open_with(&settings.store, options)
            .await
            .with_context(|| format!("opening store {}", redacted_url(&settings.store)))?;
        let initial_credential =
            auth::bootstrap(store.credentials.as_ref(), &settings.credentials).await?;
        let lrs = Lrs::from_settings(store.clone(), &settings)?;
        // Completes erasures cut short, then applies retention policies hourly.
        crate::privacy::retention::start(store.clone());
        // The default tenant gets the shipped framework on first start.
        lrs.competencies.tagger(DEFAULT_TENANT).await?;
        let listener = TcpListener::bind(&settings.listen)
            .with_context(|| format!("binding {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let metrics_listener = settings
            .metrics_listen
            .as_deref()
            .map(|addr| TcpListener::bind(addr).with_context(|| format!("binding {addr}")))
            .transpose()?;
        let shutdown_timeout = Duration::from_secs(settings.shutdown_timeout_secs);
        let writes = http::limits::WriteAdmission::new(settings.max_inflight_writes);
        let statement_room =
            http::limits::StatementRoom::new(settings.max_inflight_statement_bytes);
        let state = web::Data::new(AppState {
            auth: Authenticator::start(&store, &settings).await?,
            connectors: crate::connectors::runtime::start(&lrs, &settings).await?,
            lrs,
            settings: Arc::new(settings),
            client_versions: http::ClientVersions::default(),
            retag_jobs: Default::default(),
            writes,
            statement_room,
        });
        let max_body = state.settings.max_body_bytes;
        let header_timeout = std::time::Duration::from_secs(state.settings.header_timeout_secs);
        let metrics = match metrics_listener {
            Some(listener) => Some((
                listener.local_addr()?.port(),
                metrics_server(listener, &state, shutdown_timeout)?,
            )),
            None => None,
        };
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::QueryConfig::default().error_handler(|e, _| {
                    ApiError::invalid("query", "query-string", e.to_string()).into()
                }))
                .app_data(
                    web::JsonConfig::default()
                        .limit(max_body)
                        .error_handler(|e, _| {
                            ApiError::invalid("body", "json", e.to_string()).into()
                        }),
                )
                // A deadline's 503 is an error the metrics middleware still counts.
                .wrap(from_fn(http::limits::admit_writes))
                .wrap(actix_web::middleware::from_fn(http::limits::deadline))
                .wrap(http::cors())
                .wrap(tracing_actix())
                // Outermost, so every answer is counted, 404s and middleware refusals too.
                .wrap(from_fn(ops::record_request))
                .configure(http::routes::configure)
        })
        // A client that has not sent its headers by then gets 408.
        .client_request_timeout(header_timeout)
        .listen(listener)?
        // `run` handles SIGTERM and Ctrl-C itself, for every server and the store.
        .disable_signals()
        .shutdown_timeout(shutdown_timeout.as_secs())
        .run();
        Ok(Application {
            port,
            server,
            metrics,
            store,
            shutdown_timeout,
            initial_credential,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the `metrics_listen` address, when one is configured.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down within `shutdown_timeout_secs`:
    /// stops accepting connections, lets requests in flight finish, applies the pending
    /// evidence journal and closes the store. What the deadline cuts short stays durable
    /// (every answered write is committed; the journal is applied at the next start).
    pub async fn run(self) -> std::io::Result<()> {
        let Application {
            server,
            metrics,
            store,
            shutdown_timeout,
            ..
        } = self;
        let mut servers = vec![server];
        servers.extend(metrics.map(|(_, server)| server));
        let handles: Vec<ServerHandle> = servers.iter().map(Server::handle).collect();
        let mut serving = try_join_all(servers);
        tokio::select! {
            // A server that stops by itself (it cannot bind, say) ends the process.
            result = &mut serving => return result.map(drop),
            () = shutdown_signal() => {}
        }
        let deadline = Instant::now() + shutdown_timeout;
        tracing::info!(
            timeout_secs = shutdown_timeout.as_secs(),
            "shutting down: no new connections, finishing requests in flight"
        );
        // The servers' own futures drive their stopping, so both are polled together;
        // each forces its workers down at the deadline.
        let stopping =
            async { tokio::join!(join_all(handles.iter().map(|h| h.stop(true))), &mut serving).1 };
        match tokio::time::timeout_at(deadline + Duration::from_secs(1), stopping).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "a server stopped with an error"),
            Err(_) => tracing::warn!("requests still in flight at the shutdown deadline"),
        }
        match tokio::time::timeout_at(deadline, store.ops.close()).await {
            Ok(Ok(())) => tracing::info!("store closed; shutdown complete"),
            Ok(Err(e)) => tracing::warn!(error = %e, "closing the store failed"),
            Err(_) => tracing::warn!(
                "the shutdown deadline passed before the store closed; the evidence journal is applied at the next start"
            ),
        }
        Ok(())
    }
}

/// Resolves at the first SIGTERM or Ctrl-C (SIGINT). Never resolves when neither can be
/// listened for.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    () = ctrl_c => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; Ctrl-C still shuts down");
                ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}

/// The server on `metrics_listen`: `/metrics` and nothing else.
fn metrics_server(
    listener: TcpListener,
    state: &web::Data<AppState>,
    shutdown_timeout: Duration,
) -> anyhow::Result<Server> {
    let state = state.clone();
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(MetricsListener)
            .route("/metrics", web::get().to(ops::metrics))
    })
    .workers(1)
    .listen(listener)?
    .disable_signals()
    .shutdown_timeout(shutdown_timeout.as_secs())
    .run())
}

/// One log line per request, at debug level for 4xx-free traffic.
fn tracing_actix() -> actix_web::middleware::Logger {
    actix_web::middleware::Logger::new("%r %s %b %Dms").log_target("lrsgate::http")
}
