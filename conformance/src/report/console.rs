//! The console summary: one line per area (pass/fail/warn/skip and the first problem),
//! then every failure with its requirements, then the verdict.

use std::fmt::Write as _;

use super::{Outcome, RunReport};
use crate::client::excerpt;

/// The summary as plain text.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let counts = report.counts();
    let _ = writeln!(
        out,
        "{} — {} — xAPI {} — {} checks in {:.2} s\n",
        report.tool,
        report.endpoint,
        report.xapi_version,
        counts.total(),
        report.duration_ms as f64 / 1000.0
    );
    let _ = writeln!(
        out,
        "{:<17} {:>5} {:>5} {:>5} {:>5}  first problem",
        "area", "pass", "fail", "warn", "skip"
    );
    for area in report.by_area() {
        let problem = area
            .first_problem
            .map(|c| {
                let message = c.message.as_deref().unwrap_or("");
                excerpt(&format!("{}: {}", c.id, first_line(message)), 110)
            })
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<17} {:>5} {:>5} {:>5} {:>5}  {problem}",
            area.area.as_str(),
            area.counts.pass,
            area.counts.fail,
            area.counts.warn,
            area.counts.skip
        );
    }
    let _ = writeln!(
        out,
        "{:<17} {:>5} {:>5} {:>5} {:>5}",
        "all", counts.pass, counts.fail, counts.warn, counts.skip
    );
    for (heading, outcome) in [
        ("Failures (MUST)", Outcome::Fail),
        ("Warnings (SHOULD/MAY)", Outcome::Warn),
    ] {
        let listed: Vec<_> = report
            .checks
            .iter()
            .filter(|c| c.outcome == outcome)
            .collect();
        if listed.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{heading}:");
        for check in listed {
            let _ = writeln!(
                out,
                "  {} — {} [{}]\n    {}",
                check.id,
                check.title,
                check.requirements.join("; "),
                check
                    .message
                    .as_deref()
                    .unwrap_or("")
                    .replace('\n', "\n    ")
            );
        }
    }
    let verdict = if report.passed() {
        "PASS: every MUST check passed".to_owned()
    } else if counts.fail == 0 {
        format!("INCOMPLETE: {} checks not run", counts.skip)
    } else {
        format!("FAIL: {} MUST checks failed", counts.fail)
    };
    let _ = writeln!(out, "\n{verdict}");
    out
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn names_areas_failures_and_verdict() {
        let text = render(&sample::report());
        assert!(text.contains("about"), "{text}");
        assert!(text.contains("about.b: expected 204, got 200"), "{text}");
        assert!(text.contains("Warnings (SHOULD/MAY)"), "{text}");
        assert!(text.contains("FAIL: 1 MUST checks failed"), "{text}");
    }
}
