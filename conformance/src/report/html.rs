//! One self-contained HTML page for auditors: the verdict, a table per area, and every
//! check with its requirements, filterable by area and status; each failure and warning
//! shows its message and the requests and answers behind it. Styles and the filter script
//! are inline: the page opens offline and can be mailed as one file.

use std::fmt::Write as _;

use super::{CheckResult, Outcome, RunReport};
use crate::client::Exchange;

const STYLE: &str = "
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1em 2em;color:#222}
h1{font-size:1.4em;margin-bottom:.2em}.meta{color:#555;margin-top:0}
.verdict{font-weight:bold;font-size:1.2em;padding:.4em .8em;border-radius:4px;display:inline-block}
.verdict.pass{background:#d9f2dd;color:#145c24}.verdict.fail{background:#fbdcdc;color:#8a1515}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
td:first-child,th:first-child,td:last-child{text-align:left}
.filters{position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #ddd}
.filters label{margin-right:1.5em}
details.check{border:1px solid #ddd;border-radius:4px;margin:.3em 0;padding:.2em .6em}
details.check summary{cursor:pointer}
.badge{display:inline-block;min-width:3.2em;text-align:center;border-radius:3px;font-size:.8em;font-weight:bold;padding:0 .3em}
.badge.pass{background:#d9f2dd;color:#145c24}.badge.fail{background:#e33;color:#fff}
.badge.warn{background:#fde9b8;color:#6b4a00}.badge.skip{background:#eee;color:#555}
.req-ids{color:#666;font-size:.85em}.message{white-space:pre-wrap;font-weight:600}
pre{background:#f6f6f6;border:1px solid #e4e4e4;padding:.5em;overflow:auto;max-height:30em;white-space:pre-wrap;word-break:break-all}
.hidden{display:none}
";

const SCRIPT: &str = "
(function(){
  var area=document.getElementById('area'),status=document.getElementById('status'),
      shown=document.getElementById('shown'),checks=document.querySelectorAll('details.check');
  function apply(){
    var n=0;
    checks.forEach(function(c){
      var ok=(!area.value||c.dataset.area===area.value)&&(!status.value||c.dataset.status===status.value);
      c.classList.toggle('hidden',!ok); if(ok){n++;}
    });
    shown.textContent=n+' of '+checks.length+' checks shown';
  }
  area.addEventListener('change',apply);status.addEventListener('change',apply);apply();
})();
";

pub fn render(report: &RunReport) -> String {
    let counts = report.counts();
    let mut out = String::new();
    let title = format!(
        "xAPI {} conformance of {}",
        report.xapi_version, report.endpoint
    );
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    let _ = writeln!(
        out,
        "<h1>{}</h1>\n<p class=\"meta\">{} · started {} · {} checks in {:.2} s</p>",
        escape(&title),
        escape(&report.tool),
        escape(&report.started_at),
        counts.total(),
        report.duration_ms as f64 / 1000.0
    );
    let (class, verdict) = if report.passed() {
        ("pass", "PASS: every MUST check passed".to_owned())
    } else {
        (
            "fail",
            format!(
                "FAIL: {} MUST checks failed, {} not run",
                counts.fail, counts.skip
            ),
        )
    };
    let _ = writeln!(out, "<p class=\"verdict {class}\">{verdict}</p>");
    out.push_str("<table>\n<tr><th>area</th><th>pass</th><th>fail</th><th>warn</th><th>skip</th><th>first problem</th></tr>\n");
    for area in report.by_area() {
        let problem = area
            .first_problem
            .map(|c| format!("<code>{}</code>", escape(&c.id)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{problem}</td></tr>",
            area.area, area.counts.pass, area.counts.fail, area.counts.warn, area.counts.skip
        );
    }
    let _ = writeln!(
        out,
        "<tr><th>all</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr>\n</table>",
        counts.pass, counts.fail, counts.warn, counts.skip
    );
    out.push_str(
        "<div class=\"filters\"><label>Area <select id=\"area\"><option value=\"\">all</option>",
    );
    for area in report.by_area() {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", area.area);
    }
    out.push_str(
        "</select></label><label>Status <select id=\"status\"><option value=\"\">all</option>",
    );
    for (value, label) in [
        ("fail", "failed (MUST)"),
        ("warn", "warning (SHOULD/MAY)"),
        ("pass", "passed"),
        ("skip", "not run"),
    ] {
        let _ = write!(out, "<option value=\"{value}\">{label}</option>");
    }
    out.push_str("</select></label><span id=\"shown\"></span></div>\n<main>\n");
    for check in &report.checks {
        check_html(&mut out, check);
    }
    let _ = write!(
        out,
        "</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    );
    out
}

fn check_html(out: &mut String, check: &CheckResult) {
    let status = check.outcome.as_str();
    let open = if check.outcome == Outcome::Fail {
        " open"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "<details class=\"check\" data-area=\"{}\" data-status=\"{status}\"{open}><summary><span class=\"badge {status}\">{}</span> <code>{}</code> {} <span class=\"req-ids\">{} · {}</span></summary>",
        check.area,
        status.to_uppercase(),
        escape(&check.id),
        escape(&check.title),
        check.level,
        escape(&check.requirements.join("; "))
    );
    if let Some(message) = &check.message {
        let _ = writeln!(out, "<p class=\"message\">{}</p>", escape(message));
    }
    for exchange in &check.exchanges {
        exchange_html(out, exchange);
    }
    out.push_str("</details>\n");
}

fn exchange_html(out: &mut String, exchange: &Exchange) {
    let mut request = format!("{} {}\n", exchange.method, exchange.url);
    for (name, value) in &exchange.request_headers {
        request.push_str(&format!("{name}: {value}\n"));
    }
    if let Some(body) = &exchange.request_body {
        request.push('\n');
        request.push_str(body);
    }
    let response = match (&exchange.status, &exchange.error) {
        (_, Some(error)) => format!("no answer: {error}"),
        (Some(status), None) => {
            let mut text = format!("{status} ({} ms)\n", exchange.elapsed_ms);
            for (name, value) in &exchange.response_headers {
                text.push_str(&format!("{name}: {value}\n"));
            }
            if let Some(body) = &exchange.response_body {
                text.push('\n');
                text.push_str(body);
            }
            text
        }
        (None, None) => String::new(),
    };
    let _ = writeln!(
        out,
        "<div class=\"exchange\"><pre class=\"request\">{}</pre><pre class=\"response\">{}</pre></div>",
        escape(&request),
        escape(&response)
    );
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
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
    fn is_self_contained_and_shows_failures() {
        let html = render(&sample::report());
        for external in ["<link", " src=", "@import", "url(", "href="] {
            assert!(!html.contains(external), "external reference {external}");
        }
        assert!(html.contains("<style>") && html.contains("<script>"));
        assert!(html.contains("id=\"area\"") && html.contains("id=\"status\""));
        assert_eq!(html.matches("<details class=\"check\"").count(), 5);
        // The failing check's request and answer are on the page, escaped.
        assert!(html.contains("PUT http://127.0.0.1:1/xapi/statements?statementId=x"));
        assert!(html.contains("&lt;b&gt;&amp;"));
        assert!(html.contains("expected 204, got 200 &lt;x&gt;"));
        assert!(!html.contains("<b>&"));
    }
}
