//! Teaching as evidence (issue 20, part 3): the person named in a statement's
//! `context.instructor` (xAPI 1.0.3 Data 2.4.6, "instructor that the Statement relates
//! to") gains evidence for the items the learner's statement is evidence for, and for the
//! shipped framework's "Delivering training", with the `teaching` strength (default 0.5) ×
//! the tag's confidence; the proofs say `"role": "instructor"`. The learner's own evidence
//! for the same statement and item is untouched, a retag derives the same, and voiding the
//! statement takes the teaching evidence away too.
//!
//! Ann passed course 1 ten days before `AT`, Bo completed it twenty days before, both with
//! Ian as instructor; Cy only launched it (no evidence, so nothing for Ian). Ian's score for
//! planning (and for Delivering training) is 0.5 × 2^(−10/365) + 0.5 × 2^(−20/365).

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Caller, TestApp};

const FW: &str = "https://w3id.org/lrsgate/frameworks/wlp";
const ADL: &str = "http://adlnet.gov/expapi/verbs/";
const AT: &str = "2026-06-01T00:00:00Z";
const TAUGHT: &str = "https://w3id.org/lrsgate/verbs/taught";

fn planning() -> String {
    format!("{FW}/competency/planning-and-implementing-assignments")
}

fn training() -> String {
    format!("{FW}/aoe/delivering-training")
}

fn mbox(name: &str) -> Value {
    json!({ "objectType": "Agent", "mbox": format!("mailto:{name}@example.com") })
}

fn decay(days: f64) -> f64 {
    (-days / 365.0).exp2()
}

fn taught(who: &str, verb: &str, days: i64) -> Value {
    let when = chrono::DateTime::parse_from_rfc3339(AT).unwrap() - chrono::Duration::days(days);
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "actor": mbox(who),
        "verb": { "id": format!("{ADL}{verb}") },
        "object": { "id": "https://courses.example.com/1" },
        "context": {
            "instructor": mbox("ian"),
            "contextActivities": { "other": [{ "id": planning() }] }
        },
        "timestamp": when.to_rfc3339()
    })
}

fn score_of<'v>(profile: &'v Value, item: &str) -> Option<&'v Value> {
    profile["competencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["item"]["iri"] == item)
}

fn close(actual: &Value, expected: f64, what: &str) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: not a number"));
    assert!(
        (actual - expected).abs() < 1e-9,
        "{what}: {actual} ≠ {expected}"
    );
}

async fn profile(hr: &Caller<'_>, who: &str) -> Value {
    hr.get(
        "profiles",
        &[("agent", mbox(who).to_string()), ("at", AT.into())],
    )
    .await
}

async fn retag(hr: &Caller<'_>) {
    let (status, job) = hr.send(Method::POST, "tagging/retag", &[], None).await;
    assert!(status == 202 || status == 200, "{job}");
    let id = job["id"].as_str().unwrap_or_default().to_owned();
    for _ in 0..400 {
        let (_, job) = hr
            .send(Method::GET, &format!("tagging/jobs/{id}"), &[], None)
            .await;
        match job["state"].as_str() {
            Some("succeeded") => return,
            Some("running") => tokio::time::sleep(Duration::from_millis(50)).await,
            _ => panic!("retag job: {job}"),
        }
    }
    panic!("the retag did not finish");
}

#[actix_web::test]
async fn the_instructor_gains_evidence_for_what_was_taught_and_for_delivering_training() {
    let app = TestApp::spawn().await;
    let hr = Caller::of(&app, "default", &["evidence:read", "frameworks:write"]).await;
    let ann = taught("ann", "passed", 10);
    let bo = taught("bo", "completed", 20);
    let cy = taught("cy", "launched", 5);
    let ids: Vec<String> = [&ann, &bo]
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    app.store(&json!([ann, bo, cy])).await;

    let expected = 0.5 * decay(10.0) + 0.5 * decay(20.0);
    let check = |ian: &Value| {
        for item in [planning(), training()] {
            let scored = score_of(ian, &item).unwrap_or_else(|| panic!("{item}: {ian}"));
            close(&scored["score"], expected, &item);
            assert_eq!(scored["evidence"], 2);
            let proofs = scored["proofs"].as_array().unwrap();
            let mut statements: Vec<&str> = proofs
                .iter()
                .map(|p| p["statement"].as_str().unwrap())
                .collect();
            statements.sort_unstable();
            let mut want: Vec<&str> = ids.iter().map(String::as_str).collect();
            want.sort_unstable();
            assert_eq!(statements, want);
            for p in proofs {
                assert_eq!(p["role"], "instructor", "{p}");
                assert_eq!(p["verb"], TAUGHT);
                assert_eq!(p["weight"]["verb"], 0.5);
            }
        }
        assert_eq!(ian["competencies"].as_array().unwrap().len(), 2, "{ian}");
    };
    let ian = profile(&hr, "ian").await;
    check(&ian);
    // The learner keeps their own evidence of the same statement and item.
    let learner = profile(&hr, "ann").await;
    let planned = score_of(&learner, &planning()).expect("Ann's planning");
    close(&planned["score"], 0.9 * decay(10.0), "Ann's planning");
    assert!(planned["proofs"][0].get("role").is_none());
    assert!(score_of(&learner, &training()).is_none());

    // A retag derives the same teaching evidence.
    retag(&hr).await;
    check(&profile(&hr, "ian").await);

    // Voiding Ann's statement takes Ian's evidence from it away too.
    let void = json!({
        "actor": mbox("ann"),
        "verb": { "id": format!("{ADL}voided") },
        "object": { "objectType": "StatementRef", "id": ids[0] }
    });
    app.store(&void).await;
    let ian = profile(&hr, "ian").await;
    close(
        &score_of(&ian, &planning()).unwrap()["score"],
        0.5 * decay(20.0),
        "after the void",
    );
}

#[actix_web::test]
async fn the_teaching_strength_is_configurable() {
    let app = TestApp::spawn_with(|s| s.evidence.teaching = 0.8).await;
    let hr = Caller::of(&app, "default", &["evidence:read"]).await;
    app.store(&json!([taught("ann", "passed", 0)])).await;
    let ian = profile(&hr, "ian").await;
    close(
        &score_of(&ian, &planning()).unwrap()["score"],
        0.8,
        "planning",
    );
    close(
        &score_of(&ian, &training()).unwrap()["score"],
        0.8,
        "delivering training",
    );
}
