//! `lrsgate bench --crash-trials` (README "Crash trials"): the gateway is SIGKILLed at
//! random moments during concurrent statement batches and document writes, restarted on
//! the same store, and every acknowledged write must read back intact — the product
//! brief's "a 2xx answer to a write means the data is durable". Two trials here; the
//! documented run does 50 per store.

use std::process::Command;

#[test]
fn crash_trials_lose_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let store = crate::backend::store_url(dir.path());
    let output = Command::new(env!("CARGO_BIN_EXE_lrsgate"))
        .args(["bench", "--crash-trials", "2", "--store", &store, "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // "crash trials: 2 trials, N acknowledged writes (S statements, D document writes), 0 lost"
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("crash trials:"))
        .unwrap_or_else(|| panic!("no summary in:\n{stdout}"));
    let number_before = |word: &str| -> u64 {
        let words: Vec<&str> = summary.split([' ', ',', '(', ')']).collect();
        let at = words.iter().position(|w| *w == word).unwrap();
        words[at - 1].parse().unwrap()
    };
    assert_eq!(number_before("trials"), 2, "{summary}");
    assert!(number_before("statements") > 0, "{summary}");
    assert!(number_before("document") > 0, "{summary}");
    assert_eq!(number_before("lost"), 0, "{summary}");
}
