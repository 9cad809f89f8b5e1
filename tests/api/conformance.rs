//! The conformance suite (`conformance/`) run in-process against the gateway for xAPI 1.0.3
//! and 2.0.0: every MUST check has to pass. On failure the test prints the suite's own
//! summary, so the failing checks, their requirements and the exchanges are in the log.

use std::time::Duration;

use lrs_conformance::report::{console, exchange_text, Outcome};
use lrs_conformance::{Auth, Config, XapiVersion};

use crate::helpers::{TestApp, KEY, SECRET};

async fn audit(version: XapiVersion) {
    let app = TestApp::spawn().await;
    let mut config = Config::new(format!("{}/xapi", app.address), version);
    config.auth = Auth::Basic {
        user: KEY.into(),
        password: SECRET.into(),
    };
    config.timeout = Duration::from_secs(30);
    let report = lrs_conformance::run(&config)
        .await
        .unwrap_or_else(|e| panic!("the xAPI {version} suite could not run: {e}"));
    let ran = report.checks.len();
    assert!(ran > 0, "no check ran for xAPI {version}");
    if !report.passed() {
        let exchanges: Vec<String> = report
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Fail)
            .flat_map(|c| c.exchanges.iter().map(exchange_text))
            .collect();
        panic!(
            "xAPI {version}: MUST checks failed against the gateway\n{}\nExchanges of the failed checks:\n{}",
            console::render(&report),
            exchanges.join("\n")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_passes_every_must_check_of_xapi_1_0_3() {
    audit(XapiVersion::V1_0_3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_passes_every_must_check_of_xapi_2_0_0() {
    audit(XapiVersion::V2_0_0).await;
}
