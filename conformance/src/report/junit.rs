//! JUnit XML: one `<testsuite>` per area, one `<testcase>` per check. Failures carry the
//! message, the requirement ids and the recorded exchanges; SHOULD/MAY warnings pass and
//! say so in a property and in `<system-out>`, since JUnit has no warning state.

use std::fmt::Write as _;

use super::{exchange_text, CheckResult, Outcome, RunReport};

pub fn render(report: &RunReport) -> String {
    let counts = report.counts();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\" timestamp=\"{}\">",
        escape(&format!("{} xAPI {}", report.tool, report.xapi_version)),
        counts.total(),
        counts.fail,
        counts.skip,
        seconds(report.duration_ms),
        escape(&report.started_at)
    );
    for area in report.by_area() {
        let checks: Vec<&CheckResult> = report
            .checks
            .iter()
            .filter(|c| c.area == area.area)
            .collect();
        let time: u64 = checks.iter().map(|c| c.duration_ms).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\">",
            area.area,
            area.counts.total(),
            area.counts.fail,
            area.counts.skip,
            seconds(time)
        );
        for check in checks {
            testcase(&mut out, report, check);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn testcase(out: &mut String, report: &RunReport, check: &CheckResult) {
    let _ = write!(
        out,
        "    <testcase classname=\"xapi-{}.{}\" name=\"{} — {}\" time=\"{}\">\n      <properties>\n",
        report.xapi_version,
        check.area,
        escape(&check.id),
        escape(&check.title),
        seconds(check.duration_ms)
    );
    let _ = writeln!(
        out,
        "        <property name=\"level\" value=\"{}\"/>\n        <property name=\"outcome\" value=\"{}\"/>",
        check.level,
        check.outcome.as_str()
    );
    for id in &check.requirements {
        let _ = writeln!(
            out,
            "        <property name=\"requirement\" value=\"{}\"/>",
            escape(id)
        );
    }
    out.push_str("      </properties>\n");
    let message = check.message.as_deref().unwrap_or("");
    let details = || {
        let mut text = format!(
            "{message}\nrequirements: {}\n",
            check.requirements.join("; ")
        );
        for exchange in &check.exchanges {
            text.push('\n');
            text.push_str(&exchange_text(exchange));
        }
        escape(&text)
    };
    match check.outcome {
        Outcome::Pass => {}
        Outcome::Fail => {
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                escape(message.lines().next().unwrap_or("")),
                check.level,
                details()
            );
        }
        Outcome::Warn => {
            let _ = writeln!(
                out,
                "      <system-out>WARNING ({} not met): {}</system-out>",
                check.level,
                details()
            );
        }
        Outcome::Skip => {
            let _ = writeln!(
                out,
                "      <skipped message=\"not run: --bail stopped the run\"/>"
            );
        }
    }
    out.push_str("    </testcase>\n");
}

fn seconds(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

/// Escapes text for an attribute or element and drops characters XML 1.0 forbids.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn parses_as_xml_with_the_right_counts() {
        let mut report = sample::report();
        report.checks[1].message = Some("bad \u{1} byte & <tag>".into());
        let xml = render(&report);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        assert_eq!(root.attribute("tests"), Some("5"));
        assert_eq!(root.attribute("failures"), Some("1"));
        assert_eq!(root.attribute("skipped"), Some("1"));
        let suites: Vec<_> = root
            .children()
            .filter(|n| n.has_tag_name("testsuite"))
            .collect();
        assert_eq!(suites.len(), 2);
        assert_eq!(suites[1].attribute("name"), Some("statements"));
        assert_eq!(suites[1].attribute("tests"), Some("3"));
        let cases = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count();
        assert_eq!(cases, 5);
        let failure = doc
            .descendants()
            .find(|n| n.has_tag_name("failure"))
            .unwrap();
        assert!(failure
            .text()
            .unwrap()
            .contains("PUT http://127.0.0.1:1/xapi/statements"));
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("skipped"))
                .count(),
            1
        );
    }
}
