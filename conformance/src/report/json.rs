//! The JSON report: the [`RunReport`] as serde writes it, with a summary up front for
//! tools that only want the counts.

use serde::Serialize;

use super::{Counts, RunReport};

#[derive(Serialize)]
struct Document<'a> {
    summary: Counts,
    passed: bool,
    #[serde(flatten)]
    report: &'a RunReport,
}

pub fn render(report: &RunReport) -> String {
    let document = Document {
        summary: report.counts(),
        passed: report.passed(),
        report,
    };
    serde_json::to_string_pretty(&document).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// Reads a JSON report back (the summary fields are derived, so they are ignored).
pub fn parse(text: &str) -> Result<RunReport, serde_json::Error> {
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn round_trips() {
        let report = sample::report();
        let text = render(&report);
        assert_eq!(parse(&text).unwrap(), report);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["summary"]["fail"], 1);
        assert_eq!(value["passed"], false);
    }
}
