//! The binary's exit codes: 2 when a run cannot take place, 0 for the catalogue listing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn lrs_conformance(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lrs-conformance"))
        .args(args)
        .env_remove("LRS_CONFORMANCE_ENDPOINT")
        .output()
        .expect("the binary runs")
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(lrs_conformance(&[]).status.code(), Some(2));
    let output = lrs_conformance(&["--endpoint", "http://127.0.0.1:1/xapi", "--area", "nowhere"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn an_unreachable_lrs_exits_2_and_says_so() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}/xapi");
    let output = lrs_conformance(&["--endpoint", &endpoint, "--timeout", "2"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot be reached"), "{stderr}");
}

#[test]
fn requirements_lists_the_catalogue() {
    let output = lrs_conformance(&["requirements", "--xapi-version", "1.0.3"]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Communication 2.1.1.s2.b2"), "{text}");
    assert!(
        text.contains("statements.put-existing-id-unchanged"),
        "{text}"
    );
    let coverage = lrs_conformance(&["requirements", "--coverage"]);
    assert!(String::from_utf8_lossy(&coverage.stdout).starts_with("| area |"));
}
