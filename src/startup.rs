//! Building the application from settings; used by `main` and by the tests alike.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;

use crate::auth::{self, Authenticator};
use crate::config::Settings;
use crate::http::error::ApiError;
use crate::http::{self, AppState};
use crate::lrs::Lrs;
use crate::redact::redacted_url;
use crate::store::{Store, DEFAULT_TENANT};

pub struct Application {
    port: u16,
    server: Server,
    /// Key and secret of a credential created because the store had none.
    pub initial_credential: Option<(String, String)>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = Store::open(&settings.store)
            .await
            .with_context(|| format!("opening store {}", redacted_url(&settings.store)))?;
        let initial_credential =
            auth::bootstrap(store.credentials.as_ref(), &settings.credentials).await?;
        let lrs = Lrs::from_settings(store.clone(), &settings)?;
        // The default tenant gets the shipped framework on first start.
        lrs.competencies.tagger(DEFAULT_TENANT).await?;
        let listener = TcpListener::bind(&settings.listen)
            .with_context(|| format!("binding {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let state = web::Data::new(AppState {
            auth: Authenticator::start(&store, &settings).await?,
            connectors: crate::connectors::runtime::start(&lrs, &settings).await?,
            lrs,
            settings: Arc::new(settings),
            client_versions: http::ClientVersions::default(),
            retag_jobs: Default::default(),
        });
        let max_body = state.settings.max_body_bytes;
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
                .wrap(http::cors())
                .wrap(tracing_actix())
                .configure(http::routes::configure)
        })
        .listen(listener)?
        .shutdown_timeout(30)
        .run();
        Ok(Application {
            port,
            server,
            initial_credential,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM / Ctrl-C, then drains in-flight requests.
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// One log line per request, at debug level for 4xx-free traffic.
fn tracing_actix() -> actix_web::middleware::Logger {
    actix_web::middleware::Logger::new("%r %s %b %Dms").log_target("lrsgate::http")
}
