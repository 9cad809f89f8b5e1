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
