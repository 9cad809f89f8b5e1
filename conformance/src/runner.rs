//! Runs the selected checks against one endpoint: filtering (`--grep`, `--area`, version),
//! bounded concurrency, `--bail`, a progress bar on a terminal, and a time limit per check
//! on top of the per-request timeout so nothing can hang a run.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt as _};
use indicatif::{ProgressBar, ProgressStyle};

use crate::catalogue::{Catalogue, CatalogueError};
use crate::check::{Check, Ctx, Failure, Level};
use crate::client::{Client, ConnectError};
use crate::config::{Config, Filter, XapiVersion};
use crate::fixtures::Fixtures;
use crate::report::{CheckResult, Outcome, RunReport};

/// Why a run could not take place (as opposed to checks failing).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("the LRS at {endpoint} cannot be reached: {reason}")]
    Unreachable { endpoint: String, reason: String },
    #[error("no check matches the filter for xAPI {0}")]
    NothingSelected(XapiVersion),
}

/// The checks that apply to `version` and pass `filter`, in registry order.
pub fn select(checks: Vec<Check>, version: XapiVersion, filter: &Filter) -> Vec<Check> {
    let patterns: Vec<String> = filter.grep.iter().map(|g| g.to_lowercase()).collect();
    checks
        .into_iter()
        .filter(|c| c.applies_to(version))
        .filter(|c| filter.areas.is_empty() || filter.areas.contains(&c.area))
        .filter(|c| {
            patterns.is_empty()
                || patterns.iter().any(|p| {
                    c.id.to_lowercase().contains(p)
                        || c.title.to_lowercase().contains(p)
                        || c.requirement_ids(version)
                            .any(|id| id.to_lowercase().contains(p))
                })
        })
        .collect()
}

/// Runs the whole suite.
pub async fn run(config: &Config) -> Result<RunReport, RunError> {
    run_checks(config, crate::checks::all()).await
}

/// Runs `checks` (filtered by `config`).
pub async fn run_checks(config: &Config, checks: Vec<Check>) -> Result<RunReport, RunError> {
    let catalogue = Catalogue::load(config.version)?;
    let selected = select(checks, config.version, &config.filter);
    if selected.is_empty() {
        return Err(RunError::NothingSelected(config.version));
    }
    let client = Client::connect(config).await?;
    preflight(&client).await?;

    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let started = Instant::now();
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let progress = progress_bar(config, selected.len());
    let stop = Arc::new(AtomicBool::new(false));
    // A check makes several requests, each bounded by the timeout; this bounds the rest.
    let check_limit = (config.timeout * 10).max(Duration::from_secs(30));

    let mut results: Vec<(usize, CheckResult)> = stream::iter(selected.into_iter().enumerate())
        .map(|(index, check)| {
            let level = catalogue.level_of(&check);
            let cx = Ctx {
                http: client.session(),
                version: config.version,
                fx: Fixtures::new(&run_id, check.id),
            };
            let stop = Arc::clone(&stop);
            let progress = progress.clone();
            let bail = config.bail;
            let version = config.version;
            async move {
                let result = run_one(&check, level, cx, version, &stop, check_limit).await;
                if bail && result.outcome == Outcome::Fail {
                    stop.store(true, Ordering::SeqCst);
                }
                progress.inc(1);
                if result.outcome == Outcome::Fail {
                    progress.set_message(format!("last failure: {}", result.id));
                }
                (index, result)
            }
        })
        .buffer_unordered(config.concurrency.max(1))
        .collect()
        .await;
    progress.finish_and_clear();
    results.sort_by_key(|(index, _)| *index);
    Ok(RunReport {
        tool: concat!("lrs-conformance ", env!("CARGO_PKG_VERSION")).to_owned(),
        endpoint: client.endpoint().to_owned(),
        xapi_version: config.version,
        started_at,
        duration_ms: millis(started.elapsed()),
        checks: results.into_iter().map(|(_, r)| r).collect(),
    })
}

async fn run_one(
    check: &Check,
    level: Level,
    cx: Ctx,
    version: XapiVersion,
    stop: &AtomicBool,
    limit: Duration,
) -> CheckResult {
    let mut result = CheckResult {
        id: check.id.to_owned(),
        title: check.title.to_owned(),
        area: check.area,
        level,
        requirements: check.requirement_ids(version).map(str::to_owned).collect(),
        outcome: Outcome::Skip,
        message: None,
        duration_ms: 0,
        exchanges: Vec::new(),
    };
    if stop.load(Ordering::SeqCst) {
        return result;
    }
    let session = cx.http.clone();
    let started = Instant::now();
    // Spawned so a panicking check fails alone instead of ending the run.
    let task = tokio::spawn(check.start(cx));
    let verdict = match tokio::time::timeout(limit, task).await {
        Ok(Ok(verdict)) => verdict,
        Ok(Err(join)) => Err(Failure::new(format!("the check itself crashed: {join}"))),
        Err(_) => Err(Failure::new(format!(
            "the check did not finish within {} s",
            limit.as_secs()
        ))),
    };
    result.duration_ms = millis(started.elapsed());
    match verdict {
        Ok(()) => result.outcome = Outcome::Pass,
        Err(failure) => {
            result.outcome = if level == Level::Must {
                Outcome::Fail
            } else {
                Outcome::Warn
            };
            result.message = Some(failure.message);
            result.exchanges = session.exchanges();
        }
    }
    result
}

/// One request before any check, so an unreachable endpoint is a usage error (exit 2),
/// not a hundred failed checks.
async fn preflight(client: &Client) -> Result<(), RunError> {
    client
        .session()
        .request(reqwest::Method::GET, "about")
        .send()
        .await
        .map(drop)
        .map_err(|f| RunError::Unreachable {
            endpoint: client.endpoint().to_owned(),
            reason: f.message,
        })
}

fn progress_bar(config: &Config, len: usize) -> ProgressBar {
    if !config.progress || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{bar:32}] {pos}/{len} {elapsed} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Area;

    fn sample() -> Vec<Check> {
        let ok = |_cx: Ctx| async { Ok(()) };
        vec![
            Check::new(Area::About, "about.one", "About answers", ok)
                .v1(&["Communication 2.8.s5.b1"])
                .v2(&["4.1.6.7#1"]),
            Check::new(
                Area::Statements,
                "statements.put",
                "PUT stores a statement",
                ok,
            )
            .v1(&["Communication 2.1.1.s1"]),
            Check::new(Area::Statements, "statements.two", "Only for 2.0", ok).v2(&["4.1.6.1#2"]),
        ]
    }

    fn ids(checks: &[Check]) -> Vec<&str> {
        checks.iter().map(|c| c.id).collect()
    }

    #[test]
    fn version_selects_checks_naming_its_requirements() {
        let all = Filter::default();
        assert_eq!(
            ids(&select(sample(), XapiVersion::V1_0_3, &all)),
            ["about.one", "statements.put"]
        );
        assert_eq!(
            ids(&select(sample(), XapiVersion::V2_0_0, &all)),
            ["about.one", "statements.two"]
        );
    }

    #[test]
    fn grep_matches_id_title_and_requirement_case_insensitively() {
        let grep = |g: &str| Filter {
            grep: vec![g.to_owned()],
            areas: vec![],
        };
        let v1 = XapiVersion::V1_0_3;
        assert_eq!(
            ids(&select(sample(), v1, &grep("ABOUT.one"))),
            ["about.one"]
        );
        assert_eq!(
            ids(&select(sample(), v1, &grep("stores a"))),
            ["statements.put"]
        );
        assert_eq!(
            ids(&select(sample(), v1, &grep("2.1.1.s1"))),
            ["statements.put"]
        );
        // A 2.0 requirement id does not select a check in a 1.0.3 run.
        assert!(select(sample(), v1, &grep("4.1.6.1#2")).is_empty());
    }

    /// An HTTP server on 127.0.0.1 answering every request 200 `{}`; its base URL.
    async fn stub_lrs() -> String {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buffer = [0u8; 4096];
                    while let Ok(n) = socket.read(&mut buffer).await {
                        if n == 0 {
                            break;
                        }
                        let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                        if socket.write_all(answer.as_bytes()).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        format!("http://{address}/xapi")
    }

    fn failing(id: &'static str, requirement: &'static str) -> Check {
        Check::new(Area::Statements, id, id, |cx: Ctx| async move {
            cx.get("statements")
                .send()
                .await?
                .expect(204, "GET /statements")?;
            Ok(())
        })
        .v1(&[requirement])
    }

    #[tokio::test]
    async fn should_failures_warn_must_failures_fail_and_keep_their_exchanges() {
        let config = Config::new(stub_lrs().await, XapiVersion::V1_0_3);
        let checks = vec![
            failing("statements.must", "Communication 2.1.1.s2.b2"),
            failing("statements.should", "Communication 2.1.1.s2.b3"),
            Check::new(Area::About, "about.ok", "ok", |_cx: Ctx| async { Ok(()) })
                .v1(&["Communication 2.8.s4"]),
        ];
        let report = run_checks(&config, checks).await.unwrap();
        let outcomes: Vec<Outcome> = report.checks.iter().map(|c| c.outcome).collect();
        assert_eq!(outcomes, [Outcome::Fail, Outcome::Warn, Outcome::Pass]);
        assert!(!report.passed());
        let failed = &report.checks[0];
        assert_eq!(failed.level, Level::Must);
        assert!(failed
            .message
            .as_deref()
            .unwrap()
            .contains("expected 204, got 200"));
        assert_eq!(failed.exchanges.len(), 1);
        assert_eq!(failed.exchanges[0].status, Some(200));
        assert!(
            report.checks[2].exchanges.is_empty(),
            "passing checks carry no exchanges"
        );
    }

    #[tokio::test]
    async fn bail_stops_starting_checks_after_a_must_failure() {
        let mut config = Config::new(stub_lrs().await, XapiVersion::V1_0_3);
        config.bail = true;
        config.concurrency = 1;
        let checks = vec![
            failing("statements.first", "Communication 2.1.1.s2.b2"),
            failing("statements.second", "Communication 2.1.1.s2.b2"),
            failing("statements.third", "Communication 2.1.1.s2.b2"),
        ];
        let report = run_checks(&config, checks).await.unwrap();
        let outcomes: Vec<Outcome> = report.checks.iter().map(|c| c.outcome).collect();
        assert_eq!(outcomes[0], Outcome::Fail);
        assert!(outcomes[1..].contains(&Outcome::Skip), "{outcomes:?}");
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_a_run_error() {
        // A port just released: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = Config::new(format!("http://127.0.0.1:{port}/xapi"), XapiVersion::V2_0_0);
        let error = run(&config).await.unwrap_err();
        assert!(matches!(error, RunError::Unreachable { .. }), "{error}");
        let bad = Config::new("ftp://example.org/xapi", XapiVersion::V2_0_0);
        assert!(matches!(run(&bad).await.unwrap_err(), RunError::Connect(_)));
    }

    #[test]
    fn area_filter_keeps_only_those_areas() {
        let filter = Filter {
            grep: vec![],
            areas: vec![Area::Statements],
        };
        assert_eq!(
            ids(&select(sample(), XapiVersion::V2_0_0, &filter)),
            ["statements.two"]
        );
    }
}
