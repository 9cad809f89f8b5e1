//! The result of a run and the reports written from it: a console summary, JUnit XML,
//! JSON and one self-contained HTML page.

pub mod console;
pub mod html;
pub mod json;
pub mod junit;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::check::{Area, Level};
use crate::client::Exchange;
use crate::config::XapiVersion;

/// What became of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    /// A MUST check failed.
    Fail,
    /// A check of SHOULD/MAY requirements only failed: reported, never a failure.
    Warn,
    /// Not run because `--bail` stopped the run.
    Skip,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Warn => "warn",
            Outcome::Skip => "skip",
        }
    }
}

/// One check's result. Exchanges are kept for checks that did not pass, so reports show
/// what went wrong without carrying every request of a passing run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub area: Area,
    pub level: Level,
    pub requirements: Vec<String>,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchanges: Vec<Exchange>,
}

/// Counts of outcomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub skip: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.pass + self.fail + self.warn + self.skip
    }

    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Pass => self.pass += 1,
            Outcome::Fail => self.fail += 1,
            Outcome::Warn => self.warn += 1,
            Outcome::Skip => self.skip += 1,
        }
    }
}

/// A whole run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    /// `lrs-conformance <version>`.
    pub tool: String,
    pub endpoint: String,
    pub xapi_version: XapiVersion,
    /// RFC 3339.
    pub started_at: String,
    pub duration_ms: u64,
    pub checks: Vec<CheckResult>,
}

/// One area's line of the summary.
pub struct AreaSummary<'a> {
    pub area: Area,
    pub counts: Counts,
    /// The first failed check, else the first warning.
    pub first_problem: Option<&'a CheckResult>,
}

impl RunReport {
    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for check in &self.checks {
            counts.add(check.outcome);
        }
        counts
    }

    /// True when every MUST check that ran passed and none was skipped.
    pub fn passed(&self) -> bool {
        let counts = self.counts();
        counts.fail == 0 && counts.skip == 0
    }

    /// The checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|c| c.outcome == Outcome::Fail)
    }

    /// A line per area that has checks in this run, in the fixed area order.
    pub fn by_area(&self) -> Vec<AreaSummary<'_>> {
        Area::ALL
            .iter()
            .filter_map(|&area| {
                let checks: Vec<&CheckResult> =
                    self.checks.iter().filter(|c| c.area == area).collect();
                if checks.is_empty() {
                    return None;
                }
                let mut counts = Counts::default();
                for c in &checks {
                    counts.add(c.outcome);
                }
                let first = |o: Outcome| checks.iter().copied().find(|c| c.outcome == o);
                Some(AreaSummary {
                    area,
                    counts,
                    first_problem: first(Outcome::Fail).or_else(|| first(Outcome::Warn)),
                })
            })
            .collect()
    }
}

/// A report file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Junit,
    Json,
    Html,
}

/// One `FORMAT=PATH` of `--report`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportTarget {
    pub format: Format,
    pub path: PathBuf,
}

/// Parses `junit=F,json=F,html=F` (any subset, any order).
pub fn parse_targets(spec: &str) -> Result<Vec<ReportTarget>, String> {
    spec.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (format, path) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not FORMAT=PATH"))?;
            let format = match format.trim() {
                "junit" => Format::Junit,
                "json" => Format::Json,
                "html" => Format::Html,
                other => {
                    return Err(format!(
                        "unknown report format `{other}` (junit, json, html)"
                    ))
                }
            };
            if path.trim().is_empty() {
                return Err(format!("`{part}` names no file"));
            }
            Ok(ReportTarget {
                format,
                path: PathBuf::from(path.trim()),
            })
        })
        .collect()
}

/// Renders `report` in `format`.
pub fn render(report: &RunReport, format: Format) -> String {
    match format {
        Format::Junit => junit::render(report),
        Format::Json => json::render(report),
        Format::Html => html::render(report),
    }
}

/// Writes every target; the first error names its file.
pub fn write_all(report: &RunReport, targets: &[ReportTarget]) -> Result<(), String> {
    for target in targets {
        std::fs::write(&target.path, render(report, target.format))
            .map_err(|e| format!("cannot write {}: {e}", target.path.display()))?;
    }
    Ok(())
}

/// An exchange as plain text, for JUnit and the console.
pub fn exchange_text(exchange: &Exchange) -> String {
    let mut out = format!("> {} {}\n", exchange.method, exchange.url);
    for (name, value) in &exchange.request_headers {
        out.push_str(&format!("> {name}: {value}\n"));
    }
    if let Some(body) = &exchange.request_body {
        out.push_str(&format!(">\n> {}\n", body.replace('\n', "\n> ")));
    }
    match (&exchange.status, &exchange.error) {
        (_, Some(error)) => out.push_str(&format!("< (no answer: {error})\n")),
        (Some(status), None) => {
            out.push_str(&format!("< {status} ({} ms)\n", exchange.elapsed_ms));
            for (name, value) in &exchange.response_headers {
                out.push_str(&format!("< {name}: {value}\n"));
            }
            if let Some(body) = &exchange.response_body {
                out.push_str(&format!("<\n< {}\n", body.replace('\n', "\n< ")));
            }
        }
        (None, None) => {}
    }
    out
}

#[cfg(test)]
pub(crate) mod sample {
    //! A small report with every outcome, for the writers' tests.
    use super::*;

    pub fn report() -> RunReport {
        let exchange = Exchange {
            method: "PUT".into(),
            url: "http://127.0.0.1:1/xapi/statements?statementId=x".into(),
            request_headers: vec![("authorization".into(), "Basic ***".into())],
            request_body: Some("{\"actor\": \"<b>&'\\\"\"}".into()),
            status: Some(200),
            response_headers: vec![("content-type".into(), "application/json".into())],
            response_body: Some("[\"x\"]".into()),
            error: None,
            elapsed_ms: 3,
        };
        let result = |id: &str, area, level, outcome, message: Option<&str>| CheckResult {
            id: id.into(),
            title: format!("title of {id} <&>"),
            area,
            level,
            requirements: vec!["Communication 2.1.1.s2.b2".into()],
            outcome,
            message: message.map(Into::into),
            duration_ms: 5,
            exchanges: if outcome == Outcome::Pass {
                vec![]
            } else {
                vec![exchange.clone()]
            },
        };
        RunReport {
            tool: "lrs-conformance 0.0.0".into(),
            endpoint: "http://127.0.0.1:1/xapi".into(),
            xapi_version: XapiVersion::V1_0_3,
            started_at: "2026-01-01T00:00:00Z".into(),
            duration_ms: 42,
            checks: vec![
                result("about.a", Area::About, Level::Must, Outcome::Pass, None),
                result(
                    "about.b",
                    Area::About,
                    Level::Must,
                    Outcome::Fail,
                    Some("expected 204, got 200 <x>"),
                ),
                result(
                    "statements.c",
                    Area::Statements,
                    Level::Should,
                    Outcome::Warn,
                    Some("no 409"),
                ),
                result(
                    "statements.d",
                    Area::Statements,
                    Level::Must,
                    Outcome::Skip,
                    None,
                ),
                result(
                    "statements.e",
                    Area::Statements,
                    Level::Must,
                    Outcome::Pass,
                    None,
                ),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_reject_unknown_formats() {
        let targets = parse_targets("junit=a.xml,json=b.json, html=c.html").unwrap();
        assert_eq!(targets.len(), 3);
        assert_eq!(targets[2].format, Format::Html);
        assert_eq!(targets[2].path, PathBuf::from("c.html"));
        assert!(parse_targets("pdf=x").is_err());
        assert!(parse_targets("junit").is_err());
        assert!(parse_targets("junit=").is_err());
    }

    #[test]
    fn summary_counts_and_first_problem_per_area() {
        let report = sample::report();
        let counts = report.counts();
        assert_eq!(
            (counts.pass, counts.fail, counts.warn, counts.skip),
            (2, 1, 1, 1)
        );
        assert!(!report.passed());
        let areas = report.by_area();
        assert_eq!(areas.len(), 2);
        assert_eq!(
            areas[0].first_problem.map(|c| c.id.as_str()),
            Some("about.b")
        );
        assert_eq!(
            areas[1].first_problem.map(|c| c.id.as_str()),
            Some("statements.c")
        );
    }
}
