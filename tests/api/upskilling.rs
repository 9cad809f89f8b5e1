//! Upskilling needs for HR (issue 20, part 2): per item of a role, the people below its
//! target, the total gap, coverage now and 90 and 365 days ago, and the activities that
//! closed the gap for others. Weights are the documented defaults (mastered 1.0; level 3
//! from score 2.5, level 4 from 5.0; half-life 365 days); statements are dated in days
//! before now, so a statement `d` days old is worth 2^(−d/365).
//!
//! The project-manager role of the shipped framework needs driving results at level 4.
//! - Ann: "bootcamp" mastered on days 20…16 before now, then "clinic" on day 15: she
//!   reaches level 4 with the clinic (before it: 1 + 2^(−1/365) + … + 2^(−4/365) ≈ 4.98 <
//!   5); now ≈ 5.8, level 4; 90 and 365 days ago she had nothing.
//! - Bo: "bootcamp" on days 30 and 29: ≈ 1.89, level 2, never reached.
//! - Cy: "clinic" six times on days 400…395: ≈ 2.82 now (level 3); 365 days ago ≈ 5.6
//!   (level 4, reached), 90 days ago ≈ 3.35 (level 3).
//! - Dee: a mastery of planning 3 days ago only: level 0 in driving results, 1 in planning.
//! - Zed (not in the team): "bootcamp" on days 10…5, reaching level 4.
//!
//! Team (Ann, Bo, Cy, Dee): below 3 (Bo, Cy, Dee), gap (4−2) + (4−3) + (4−0) = 7, coverage
//! now 1/4, 90 days ago 0, 365 days ago 1/4; closers: clinic (2 learners, 2 reached),
//! bootcamp (Ann and Bo, 1 reached). Everyone (the five): below 3, gap 7, coverage 2/5, 0,
//! 1/5; clinic 2 of 2, bootcamp (Ann, Bo, Zed) 2 of 3.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Caller, TestApp};

const FW: &str = "https://w3id.org/lrsgate/frameworks/wlp";
const ADL: &str = "http://adlnet.gov/expapi/verbs/";

fn results() -> String {
    format!("{FW}/competency/driving-results")
}

fn planning() -> String {
    format!("{FW}/competency/planning-and-implementing-assignments")
}

fn manager() -> String {
    format!("{FW}/role/project-manager")
}

fn mbox(name: &str) -> Value {
    json!({ "objectType": "Agent", "mbox": format!("mailto:{name}@example.com") })
}

fn course(name: &str) -> String {
    format!("https://courses.example.com/{name}")
}

/// A mastery tagged explicitly (confidence 1) with `item`, `days` before now.
fn mastered(who: &str, activity: &str, item: &str, days: i64) -> Value {
    let when = chrono::Utc::now() - chrono::Duration::days(days);
    json!({
        "actor": mbox(who),
        "verb": { "id": format!("{ADL}mastered") },
        "object": { "id": course(activity), "definition": { "name": { "en": format!("The {activity}") } } },
        "context": { "contextActivities": { "other": [{ "id": item }] } },
        "timestamp": when.to_rfc3339()
    })
}

async fn tell_the_story(app: &TestApp) {
    let mut s = Vec::new();
    for day in (16..=20).rev() {
        s.push(mastered("ann", "bootcamp", &results(), day));
    }
    s.push(mastered("ann", "clinic", &results(), 15));
    s.push(mastered("bo", "bootcamp", &results(), 30));
    s.push(mastered("bo", "bootcamp", &results(), 29));
    for day in (395..=400).rev() {
        s.push(mastered("cy", "clinic", &results(), day));
    }
    s.push(mastered("dee", "plan", &planning(), 3));
    for day in (5..=10).rev() {
        s.push(mastered("zed", "bootcamp", &results(), day));
    }
    assert_eq!(app.store(&Value::Array(s)).await.len(), 21);
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

fn item<'v>(answer: &'v Value, iri: &str) -> &'v Value {
    answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"] == iri)
        .unwrap_or_else(|| panic!("{iri} missing from {answer}"))
}

fn closers(item: &Value) -> Vec<(String, u64, u64)> {
    item["closers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let activity = c["activity"].as_str().unwrap().to_owned();
            (
                activity,
                c["learners"].as_u64().unwrap(),
                c["reached"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn a_teams_upskilling_needs_match_hand_computed_counts() {
    let app = TestApp::spawn().await;
    let hr = Caller::of(&app, "default", &["evidence:read", "people:write"]).await;
    tell_the_story(&app).await;
    let members: Vec<Value> = ["ann", "bo", "cy", "dee"].into_iter().map(mbox).collect();
    let team = json!({ "name": "PMO", "members": members });
    let (status, team) = hr.send(Method::POST, "teams", &[], Some(&team)).await;
    assert_eq!(status, 201, "{team}");
    let team = team["id"].as_str().unwrap().to_owned();

    let answer = hr
        .get("upskilling", &[("role", manager()), ("team", team.clone())])
        .await;
    assert_eq!(answer["people"], 4);
    assert_eq!(answer["role_name"], "Project manager");
    let results = item(&answer, &results());
    assert_eq!(
        (
            results["target"].as_u64(),
            results["below"].as_u64(),
            results["gap"].as_u64()
        ),
        (Some(4), Some(3), Some(7))
    );
    close(&results["coverage"]["now"], 0.25, "now");
    close(&results["coverage"]["days_90"], 0.0, "90 days ago");
    close(&results["coverage"]["days_365"], 0.25, "365 days ago");
    assert_eq!(
        closers(results),
        [(course("clinic"), 2, 2), (course("bootcamp"), 2, 1)]
    );
    assert_eq!(results["closers"][0]["name"], "The clinic");
    close(
        &results["closers"][1]["success_rate"],
        0.5,
        "bootcamp's success rate",
    );
    // Planning (level 5): only Dee has evidence (one mastery, level 1): 5 + 5 + 5 + 4.
    let planning = item(&answer, &planning());
    assert_eq!(
        (planning["below"].as_u64(), planning["gap"].as_u64()),
        (Some(4), Some(19))
    );
    assert_eq!(planning["closers"], json!([]));
}

#[actix_web::test]
async fn without_a_team_everyone_with_evidence_counts_and_pages_follow_the_role() {
    let app = TestApp::spawn().await;
    let hr = Caller::of(&app, "default", &["evidence:read"]).await;
    tell_the_story(&app).await;

    let first = hr
        .get("upskilling", &[("role", manager()), ("limit", "2".into())])
        .await;
    assert_eq!(first["people"], 5);
    let items: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item"].as_str().unwrap())
        .collect();
    assert_eq!(items, [planning(), results()], "the role's order");
    let results = item(&first, &results());
    assert_eq!(
        (results["below"].as_u64(), results["gap"].as_u64()),
        (Some(3), Some(7))
    );
    close(&results["coverage"]["now"], 0.4, "now");
    close(&results["coverage"]["days_90"], 0.0, "90 days ago");
    close(&results["coverage"]["days_365"], 0.2, "365 days ago");
    assert_eq!(
        closers(results),
        [(course("clinic"), 2, 2), (course("bootcamp"), 3, 2)],
        "equal reach: the better success rate first"
    );

    let more = first["more"].as_str().expect("more items");
    let rest: Value = hr
        .app
        .client
        .get(format!("{}{more}", hr.app.address))
        .basic_auth(&hr.key, Some(&hr.secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"].as_array().unwrap().len(), 2, "{rest}");
    let last = hr
        .get(
            "upskilling",
            &[
                ("role", manager()),
                ("limit", "2".into()),
                ("cursor", "4".into()),
            ],
        )
        .await;
    assert_eq!(last["items"].as_array().unwrap().len(), 1);
    assert!(last.get("more").is_none());

    for (query, status, pointer) in [
        (vec![("role", "nope".to_owned())], 404, None),
        (vec![], 400, Some("role")),
        (
            vec![("role", manager()), ("cursor", "-1".into())],
            400,
            Some("cursor"),
        ),
        (
            vec![("role", manager()), ("team", "no-team".into())],
            404,
            None,
        ),
    ] {
        let (got, answer) = hr.send(Method::GET, "upskilling", &query, None).await;
        assert_eq!(got, status, "{query:?}: {answer}");
        if let Some(pointer) = pointer {
            assert_eq!(answer["error"]["pointer"], pointer, "{answer}");
        }
    }
}

/// A statement of `verb` about `activity`, tagged explicitly with `item`, `days` before now.
fn did(who: &str, verb: &str, activity: &str, item: &str, days: i64) -> Value {
    let mut s = mastered(who, activity, item, days);
    s["verb"]["id"] = json!(format!("{ADL}{verb}"));
    s
}

/// Promise: over everyone, the figures the store keeps up to date as evidence arrives and
/// is voided are the ones a walk of every row gives — the same answer as for a team of
/// exactly everyone with evidence, whose figures are walked at the asking.
#[actix_web::test]
async fn kept_figures_match_a_walk_of_every_row_after_additions_and_voiding() {
    let app = TestApp::spawn().await;
    let hr = Caller::of(&app, "default", &["evidence:read", "people:write"]).await;
    let people: Vec<String> = (0..12).map(|n| format!("p{n}")).collect();
    let verbs = [
        "mastered", "mastered", "mastered", "mastered", "passed", "failed", "attended",
    ];
    let mut seed: u64 = 20;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let mut kept = Vec::new();
    let mut voidable = Vec::new();
    for who in &people {
        // Everyone keeps one planning statement, so everyone stays in the population.
        kept.push(did(
            who,
            "completed",
            "plan",
            &planning(),
            1 + next(700) as i64,
        ));
        for _ in 0..(8 + next(16)) {
            let item = if next(3) == 0 { planning() } else { results() };
            let verb = verbs[next(verbs.len() as u64) as usize];
            let activity = ["bootcamp", "clinic", "workshop", "talk"][next(4) as usize];
            voidable.push(did(who, verb, activity, &item, next(450) as i64));
        }
    }
    app.store(&Value::Array(kept)).await;
    let ids = app.store(&Value::Array(voidable)).await;
    let voids: Vec<Value> = ids
        .iter()
        .filter(|_| next(4) == 0)
        .map(|id| {
            json!({
                "actor": mbox("admin"),
                "verb": { "id": format!("{ADL}voided") },
                "object": { "objectType": "StatementRef", "id": id }
            })
        })
        .collect();
    assert!(!voids.is_empty());
    app.store(&Value::Array(voids)).await;

    let members: Vec<Value> = people.iter().map(|p| mbox(p)).collect();
    let team = json!({ "name": "Everyone", "members": members });
    let (status, team) = hr.send(Method::POST, "teams", &[], Some(&team)).await;
    assert_eq!(status, 201, "{team}");
    let team = team["id"].as_str().unwrap().to_owned();
    let (mut covered, mut closed) = (false, false);
    for role in [manager(), format!("{FW}/role/learning-strategist")] {
        let everyone = hr.get("upskilling", &[("role", role.clone())]).await;
        let walked = hr
            .get(
                "upskilling",
                &[("role", role.clone()), ("team", team.clone())],
            )
            .await;
        assert_eq!(everyone["people"], 12, "{everyone}");
        assert_eq!(walked["people"], 12, "{walked}");
        assert_eq!(everyone["items"], walked["items"], "{role}");
        for i in everyone["items"].as_array().unwrap() {
            let c = &i["coverage"];
            // 90 and 365 days ago come from the spans kept per level.
            covered |= [&c["days_90"], &c["days_365"]]
                .iter()
                .any(|v| v.as_f64() > Some(0.0));
            closed |= !i["closers"].as_array().unwrap().is_empty();
        }
    }
    assert!(covered && closed, "a story with something to compare");
}
