//! `lrsgate import csv FILE --mapping MAPPING.toml` (issue 16, item 4), run as the built
//! binary against a gateway's store: LMS exports (fixtures under
//! `tests/fixtures/lms-csv/`, each mapping naming the export it imitates) become one
//! statement per row with ids derived from the row, so a second import stores nothing new
//! and an import cut short completes when run again; a file with a rejected row stores
//! nothing and the report names the row's line and why.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::helpers::{ids_of, TestApp};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lms-csv")
        .join(name)
}

/// Runs `lrsgate import csv FILE --mapping MAPPING --store <the app's store> EXTRA…`.
async fn import(app: &TestApp, file: &Path, mapping: &str, extra: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_lrsgate"));
    command
        .args(["import", "csv"])
        .arg(file)
        .arg("--mapping")
        .arg(fixture(mapping))
        .args(["--store", &app.store])
        .args(extra)
        .env_remove("LRSGATE_CONFIG")
        .env("NO_COLOR", "1");
    tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn stored(app: &TestApp) -> Vec<Value> {
    app.all_statements(&[("limit", "500")]).await
}

fn id_set(statements: &[Value]) -> BTreeSet<String> {
    ids_of(statements).into_iter().collect()
}

#[tokio::test]
async fn a_moodle_completion_report_imported_twice_stores_each_row_once() {
    // Arrange
    let app = TestApp::spawn().await;
    let file = fixture("moodle-course-completion.csv");

    // Act
    let first = import(&app, &file, "moodle.toml", &[]).await;
    let after_first = stored(&app).await;
    let second = import(&app, &file, "moodle.toml", &[]).await;
    let after_second = stored(&app).await;

    // Assert
    assert!(first.status.success(), "{}", stdout(&first));
    assert!(
        stdout(&first).contains("8 rows: 8 statements"),
        "{}",
        stdout(&first)
    );
    assert!(second.status.success(), "{}", stdout(&second));
    assert_eq!(after_first.len(), 8);
    assert_eq!(id_set(&after_first), id_set(&after_second));
    assert_eq!(
        after_second.len(),
        8,
        "the second import stored nothing new"
    );
    let ana_safety = after_first
        .iter()
        .find(|s| {
            s["actor"]["mbox"] == "mailto:ana.souza@example.edu"
                && s["object"]["id"] == "https://moodle.example.edu/course/SAFETY101"
        })
        .expect("Ana's completion of SAFETY101");
    assert_eq!(
        ana_safety["verb"]["id"],
        "http://adlnet.gov/expapi/verbs/completed"
    );
    assert_eq!(ana_safety["result"]["completion"], true);
    assert_eq!(ana_safety["result"]["score"]["raw"], 92.5);
    assert_eq!(ana_safety["result"]["score"]["scaled"], 0.925);
    // "Friday, 6 October 2023, 10:32 AM" in the site's +01:00.
    let at = ana_safety["timestamp"].as_str().unwrap_or_default();
    assert!(at.starts_with("2023-10-06T09:32:00"), "{at}");
    assert_eq!(
        ana_safety["object"]["definition"]["name"]["en-US"],
        "Workplace Safety Essentials"
    );
    assert_eq!(ana_safety["context"]["platform"], "Moodle");
    let progressed = after_first
        .iter()
        .filter(|s| s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/progressed")
        .count();
    assert_eq!(progressed, 3, "the `No` rows are in progress");
    assert!(after_first
        .iter()
        .any(|s| s["object"]["id"] == "https://moodle.example.edu/course/COACH%202"));
}

#[tokio::test]
async fn an_import_cut_short_completes_when_run_again_without_duplicates() {
    // Arrange: the first rows of a Cornerstone transcript (header and three records, one
    // of them spanning two lines), as an import killed after its first batch leaves them.
    let app = TestApp::spawn().await;
    let whole = fixture("cornerstone-transcript.csv");
    let text = std::fs::read_to_string(&whole).expect("fixture");
    let prefix: String = text.lines().take(6).map(|l| format!("{l}\n")).collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let part = dir.path().join("transcript-part.csv");
    std::fs::write(&part, prefix).expect("write");

    // Act
    let first = import(&app, &part, "cornerstone.toml", &[]).await;
    let partial = stored(&app).await;
    let rerun = import(&app, &whole, "cornerstone.toml", &[]).await;
    let completed = stored(&app).await;

    // Assert: the same statements as one whole import into a fresh store.
    assert!(first.status.success(), "{}", stdout(&first));
    assert_eq!(partial.len(), 4, "{}", stdout(&first));
    assert!(rerun.status.success(), "{}", stdout(&rerun));
    assert!(
        stdout(&rerun).contains("7 rows: 6 statements, 1 skipped"),
        "{}",
        stdout(&rerun)
    );
    assert_eq!(completed.len(), 6);
    assert!(id_set(&partial).is_subset(&id_set(&completed)));
    let fresh = TestApp::spawn().await;
    let once = import(&fresh, &whole, "cornerstone.toml", &[]).await;
    assert!(once.status.success(), "{}", stdout(&once));
    assert_eq!(id_set(&stored(&fresh).await), id_set(&completed));
    let failed = completed
        .iter()
        .find(|s| s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/failed")
        .expect("Alan's failed assessment");
    assert_eq!(
        failed["actor"]["account"]["homePage"],
        "https://acme.csod.com"
    );
    assert_eq!(failed["actor"]["account"]["name"], "E10458");
    assert_eq!(failed["result"]["success"], false);
    assert_eq!(failed["result"]["score"]["scaled"], 0.54);
    assert_eq!(
        failed["context"]["extensions"]["https://acme.csod.com/xapi/extensions/training-type"],
        "Test"
    );
}

#[tokio::test]
async fn a_dry_run_checks_every_row_and_stores_nothing() {
    // Arrange
    let app = TestApp::spawn().await;

    // Act
    let good = import(
        &app,
        &fixture("cornerstone-transcript.csv"),
        "cornerstone.toml",
        &["--dry-run"],
    )
    .await;
    let bad = import(
        &app,
        &fixture("cornerstone-transcript-bad.csv"),
        "cornerstone.toml",
        &["--dry-run"],
    )
    .await;

    // Assert
    assert!(good.status.success(), "{}", stdout(&good));
    assert!(stdout(&good).contains("Dry run"), "{}", stdout(&good));
    assert!(!bad.status.success(), "{}", stdout(&bad));
    assert!(stdout(&bad).contains("line 6:"), "{}", stdout(&bad));
    assert!(stored(&app).await.is_empty());
}

#[tokio::test]
async fn rejected_rows_are_reported_by_line_and_reason_and_nothing_is_stored() {
    // Arrange: a transcript whose second record spans lines 3-4, then three bad rows.
    let app = TestApp::spawn().await;

    // Act
    let output = import(
        &app,
        &fixture("cornerstone-transcript-bad.csv"),
        "cornerstone.toml",
        &[],
    )
    .await;

    // Assert
    let report = stdout(&output);
    assert!(!output.status.success(), "{report}");
    for expected in [
        "line 3: date: `2024-03-20` does not match the format `%m/%d/%Y`",
        "line 5: learner: column `User ID` is empty",
        "line 6: status: `Exempt` is not a mapped status",
        "line 7: score.raw: `eighty` is not a number",
        "Nothing was stored",
    ] {
        assert!(
            report.contains(expected),
            "missing `{expected}` in:\n{report}"
        );
    }
    assert!(!report.contains("line 2:"), "{report}");
    assert!(
        stored(&app).await.is_empty(),
        "the valid row was not stored either"
    );
}

#[tokio::test]
async fn a_row_failing_xapi_validation_is_rejected_with_the_field() {
    // Arrange: an in-house export whose course column should hold IRIs; one does not.
    let app = TestApp::spawn().await;

    // Act
    let output = import(
        &app,
        &fixture("inhouse-completions.csv"),
        "inhouse.toml",
        &[],
    )
    .await;

    // Assert
    let report = stdout(&output);
    assert!(!output.status.success(), "{report}");
    assert!(report.contains("line 3: /object/id"), "{report}");
    assert!(!report.contains("line 2:"), "{report}");
    assert!(stored(&app).await.is_empty());
}

#[tokio::test]
async fn a_mapping_naming_a_missing_column_stops_before_any_row() {
    // Arrange: the Moodle mapping on the Cornerstone file.
    let app = TestApp::spawn().await;

    // Act
    let output = import(
        &app,
        &fixture("cornerstone-transcript.csv"),
        "moodle.toml",
        &[],
    )
    .await;

    // Assert
    let report = stdout(&output);
    assert!(!output.status.success(), "{report}");
    assert!(
        report.contains("learner.email names column `Email address`"),
        "{report}"
    );
    assert!(stored(&app).await.is_empty());
}
