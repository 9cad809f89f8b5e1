//! Personal recommendations (issue 20, part 4): a playlist from every source for a
//! person's gaps against a role and for skills adjacent to their strengths, leaving out
//! what they did whatever the verb, each with its reason.
//!
//! Pat mastered "clinic" (driving results) yesterday: level 1. Against the project-manager
//! role (planning 5, driving results 4, communicating 4, influencing 3, acumen 3) the gaps
//! are 5, 3, 4, 3 and 3 levels; the framework relates driving results to measuring and
//! evaluating, which Pat lacks (adjacent, aimed at level 2: gap 2). Olga reached level 4 in
//! driving results through "bootcamp"; Pete did it once and stayed below: its success rate
//! is 1/2.
//!
//! score = Σ gap × confidence × (0.5 + 0.5 × success rate) (README "Opportunities,
//! upskilling and recommendations"):
//! - bootcamp (others' evidence, confidence 1, driving results): 3 × 1 × 0.75 = 2.25;
//! - planning-101 (LinkedIn Learning, confidence 0.8, planning): 5 × 0.8 × 0.5 = 2.0;
//! - the influence talk (talk feed, 0.8, influencing): 3 × 0.8 × 0.5 = 1.2;
//! - metrics (manual, 1.0, measuring and evaluating): 2 × 1 × 0.5 = 1.0;
//! - "clinic" (done) and "launched-only" (Pat launched it: no evidence, but done) are left out.

use serde_json::{json, Value};

use crate::helpers::{Caller, TestApp};

const FW: &str = "https://w3id.org/lrsgate/frameworks/wlp";
const ADL: &str = "http://adlnet.gov/expapi/verbs/";

fn iri(path: &str) -> String {
    format!("{FW}/{path}")
}

fn results() -> String {
    iri("competency/driving-results")
}

fn mbox(name: &str) -> Value {
    json!({ "objectType": "Agent", "mbox": format!("mailto:{name}@example.com") })
}

fn course(name: &str) -> String {
    format!("https://courses.example.com/{name}")
}

fn statement(who: &str, verb: &str, activity: &str, days: i64) -> Value {
    let when = chrono::Utc::now() - chrono::Duration::days(days);
    json!({
        "actor": mbox(who),
        "verb": { "id": format!("{ADL}{verb}") },
        "object": { "id": activity },
        "context": { "contextActivities": { "other": [{ "id": results() }] } },
        "timestamp": when.to_rfc3339()
    })
}

async fn tell_the_story(app: &TestApp, hr: &Caller<'_>) {
    let mut s = vec![
        statement("pat", "mastered", &course("clinic"), 1),
        // Launching shows nothing, but Pat has been there.
        statement("pat", "launched", &course("launched-only"), 2),
        statement("pete", "mastered", &course("bootcamp"), 3),
    ];
    for day in (15..=20).rev() {
        s.push(statement("olga", "mastered", &course("bootcamp"), day));
    }
    assert_eq!(app.store(&Value::Array(s)).await.len(), 9);
    let catalog = [
        (
            course("planning-101"),
            "competency/planning-and-implementing-assignments",
            0.8,
            "linkedin-learning",
        ),
        (
            "https://talks.example.com/influence".to_owned(),
            "competency/influencing-stakeholders",
            0.8,
            "talk-feed",
        ),
        (
            course("metrics"),
            "aoe/measuring-and-evaluating",
            1.0,
            "manual",
        ),
        (
            course("launched-only"),
            "competency/planning-and-implementing-assignments",
            1.0,
            "lms",
        ),
    ];
    for (activity, item, confidence, source) in catalog {
        let entry = json!({
            "activityId": activity,
            "alignments": [{ "item": iri(item), "confidence": confidence, "source": source }]
        });
        let (status, answer) = hr
            .send(
                reqwest::Method::PUT,
                "catalog/activities",
                &[],
                Some(&entry),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
    }
}

#[actix_web::test]
async fn a_playlist_for_the_gaps_leaves_out_what_was_done_and_says_why() {
    let app = TestApp::spawn().await;
    let hr = Caller::of(&app, "default", &["evidence:read", "frameworks:write"]).await;
    tell_the_story(&app, &hr).await;

    let answer = hr
        .get(
            "recommendations",
            &[
                ("agent", mbox("pat").to_string()),
                ("role", iri("role/project-manager")),
            ],
        )
        .await;
    assert_eq!(answer["agent"]["mbox"], "mailto:pat@example.com");
    let playlist: Vec<(&str, f64)> = answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["activity"].as_str().unwrap(),
                r["score"].as_f64().unwrap(),
            )
        })
        .collect();
    let expected = [
        (course("bootcamp"), 2.25),
        (course("planning-101"), 2.0),
        ("https://talks.example.com/influence".to_owned(), 1.2),
        (course("metrics"), 1.0),
    ];
    assert_eq!(playlist.len(), expected.len(), "{answer}");
    for ((got, score), (want, want_score)) in playlist.iter().zip(&expected) {
        assert_eq!(got, want, "{answer}");
        assert!(
            (score - want_score).abs() < 1e-9,
            "{got}: {score} ≠ {want_score}"
        );
    }
    let bootcamp = &answer["items"][0];
    assert_eq!(bootcamp["source"], "statements");
    assert_eq!(bootcamp["helped"], json!({ "learners": 2, "reached": 1 }));
    assert_eq!(bootcamp["for"][0]["item"], results());
    assert_eq!(
        (
            bootcamp["for"][0]["level"].as_u64(),
            bootcamp["for"][0]["target"].as_u64()
        ),
        (Some(1), Some(4))
    );
    let reason = bootcamp["reason"].as_str().unwrap();
    assert!(
        reason.contains("Driving results (you are at level 1, the role needs 4)"),
        "{reason}"
    );
    assert!(
        reason.contains("1 of 2 people who took it while below the target then reached it"),
        "{reason}"
    );
    assert_eq!(answer["items"][1]["source"], "linkedin-learning");
    assert_eq!(answer["items"][2]["source"], "talk-feed");
    let metrics = &answer["items"][3];
    assert_eq!(metrics["for"][0]["why"], "adjacent");
    assert_eq!(metrics["for"][0]["adjacent_to"], results());
    assert!(metrics["reason"]
        .as_str()
        .unwrap()
        .contains("adjacent to your Driving results"));

    // Without a role: the adjacent skills only.
    let adjacent = hr
        .get("recommendations", &[("agent", mbox("pat").to_string())])
        .await;
    let activities: Vec<&str> = adjacent["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["activity"].as_str().unwrap())
        .collect();
    assert!(
        activities.contains(&course("metrics").as_str()),
        "{adjacent}"
    );
    assert!(!activities.contains(&course("clinic").as_str()));
    assert!(!activities.contains(&course("launched-only").as_str()));
}
