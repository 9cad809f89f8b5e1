//! Opportunities and the career marketplace (issue 20, part 1): opportunities are kept and
//! validated; candidates come ranked by fit with each rank explained by its proofs; a
//! person sees the open opportunities they fit best. Weights are the documented defaults
//! (README "Skill evidence": mastered 1.0, passed 0.9, completed 0.6; level 2 from 1.0,
//! level 3 from 2.5, level 4 from 5.0), and statements are dated at `AT`, the moment
//! scores are computed at, except Eve's (365 days before: half their weight).
//!
//! Fit = the mean over the needs of min(1, score ÷ the target level's starting score), 1
//! when the level is reached (README "Opportunities, upskilling and recommendations").

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Caller, TestApp};

const FW: &str = "https://w3id.org/lrsgate/frameworks/wlp";
const ADL: &str = "http://adlnet.gov/expapi/verbs/";
const AT: &str = "2026-06-01T00:00:00Z";

fn planning() -> String {
    format!("{FW}/competency/planning-and-implementing-assignments")
}

fn results() -> String {
    format!("{FW}/competency/driving-results")
}

fn communicating() -> String {
    format!("{FW}/competency/communicating-effectively")
}

fn mbox(name: &str) -> Value {
    json!({ "objectType": "Agent", "mbox": format!("mailto:{name}@example.com") })
}

/// A statement tagged explicitly (confidence 1) with `item`, `days` before `AT`.
fn evidence(who: &str, verb: &str, activity: &str, item: &str, days: i64) -> Value {
    let when = chrono::DateTime::parse_from_rfc3339(AT).unwrap() - chrono::Duration::days(days);
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "actor": mbox(who),
        "verb": { "id": format!("{ADL}{verb}") },
        "object": { "id": format!("https://courses.example.com/{activity}") },
        "context": { "contextActivities": { "other": [{ "id": item }] } },
        "timestamp": when.to_rfc3339()
    })
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

/// Planning (target level 3, from score 2.5) and driving results (level 2, from 1.0):
/// - Cy: planning 3 × mastered = 3.0 (met), results mastered + completed = 1.6 (met): fit 1;
/// - Ann: planning 3.0 (met), results passed 0.9 (level 1): fit (1 + 0.9) ÷ 2 = 0.95;
/// - Bo: planning completed 0.6 (0.6 ÷ 2.5 = 0.24), results 1.9 (met): fit 0.62;
/// - Eve: planning 3 × mastered a year ago = 1.5 (0.6), no results: fit 0.3;
/// - Dee has evidence for another item only: no candidate.
async fn tell_the_story(app: &TestApp) -> Vec<String> {
    let mut statements = Vec::new();
    for who in ["cy", "ann"] {
        for n in 0..3 {
            statements.push(evidence(
                who,
                "mastered",
                &format!("plan-{n}"),
                &planning(),
                0,
            ));
        }
    }
    statements.push(evidence("cy", "mastered", "results-1", &results(), 0));
    statements.push(evidence("cy", "completed", "results-2", &results(), 0));
    statements.push(evidence("ann", "passed", "results-1", &results(), 0));
    statements.push(evidence("bo", "completed", "plan-0", &planning(), 0));
    statements.push(evidence("bo", "mastered", "results-1", &results(), 0));
    statements.push(evidence("bo", "passed", "results-2", &results(), 0));
    for n in 0..3 {
        statements.push(evidence(
            "eve",
            "mastered",
            &format!("plan-{n}"),
            &planning(),
            365,
        ));
    }
    statements.push(evidence("dee", "mastered", "talk-1", &communicating(), 0));
    let cy_planning: Vec<String> = statements[..3]
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(app.store(&Value::Array(statements)).await.len(), 16);
    cy_planning
}

fn migration() -> Value {
    json!({
        "name": "Platform migration",
        "kind": "project",
        "needs": [{ "item": planning(), "level": 3 }, { "item": results(), "level": 2 }],
        "description": "Move the LMS to the new platform."
    })
}

#[actix_web::test]
async fn candidates_are_ranked_by_fit_and_explained_by_their_proofs() {
    let app = TestApp::spawn().await;
    let hr = Caller::of(&app, "default", &["evidence:read", "opportunities:write"]).await;
    let cy_planning = tell_the_story(&app).await;

    let (status, created) = hr
        .send(Method::POST, "opportunities", &[], Some(&migration()))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "open", "open unless said otherwise");
    assert_eq!(created["kind"], "project");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        hr.get(&format!("opportunities/{id}"), &[]).await["name"],
        "Platform migration"
    );

    let path = format!("opportunities/{id}/candidates");
    let page = hr
        .get(&path, &[("at", AT.into()), ("limit", "2".into())])
        .await;
    assert_eq!(page["opportunity"], id);
    let people: Vec<&str> = page["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["agent"]["mbox"].as_str().unwrap())
        .collect();
    assert_eq!(people, ["mailto:cy@example.com", "mailto:ann@example.com"]);
    let cy = &page["candidates"][0];
    close(&cy["fit"], 1.0, "Cy's fit");
    assert_eq!(cy["rank"], 1);
    assert_eq!(cy["recency_days"], 0);
    assert_eq!(cy["gaps"], json!([]));
    let met = &cy["met"][0];
    assert_eq!(
        (
            met["item"].as_str(),
            met["level"].as_u64(),
            met["target"].as_u64()
        ),
        (Some(planning().as_str()), Some(3), Some(3))
    );
    close(&met["score"], 3.0, "Cy's planning score");
    let proofs: Vec<&str> = met["proofs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["statement"].as_str().unwrap())
        .collect();
    assert_eq!(proofs.len(), 3);
    assert!(
        proofs.iter().all(|p| cy_planning.iter().any(|s| s == p)),
        "{proofs:?}"
    );
    assert_eq!(met["proofs"][0]["verb"], format!("{ADL}mastered"));
    let explanation = cy["explanation"].as_str().unwrap();
    assert!(
        explanation.starts_with("Meets 2 of 2 needs"),
        "{explanation}"
    );

    let ann = &page["candidates"][1];
    close(&ann["fit"], 0.95, "Ann's fit");
    let gap = &ann["gaps"][0];
    assert_eq!(
        (
            gap["item"].as_str(),
            gap["level"].as_u64(),
            gap["target"].as_u64(),
            gap["gap"].as_u64()
        ),
        (Some(results().as_str()), Some(1), Some(2), Some(1))
    );
    assert!(ann["explanation"]
        .as_str()
        .unwrap()
        .contains("short of Driving results by 1 level"));

    // The next page, through `more`.
    let more = page["more"].as_str().expect("a second page");
    assert!(more.starts_with(&format!("/api/v1/{path}?")), "{more}");
    let rest: Value = hr
        .app
        .client
        .get(format!("{}{more}&at={AT}", hr.app.address))
        .basic_auth(&hr.key, Some(&hr.secret))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fits: Vec<(String, f64)> = rest["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["agent"]["mbox"].as_str().unwrap().to_owned(),
                c["fit"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(fits.len(), 2, "{rest}");
    assert_eq!(fits[0].0, "mailto:bo@example.com");
    assert!((fits[0].1 - 0.62).abs() < 1e-9, "{fits:?}");
    assert_eq!(fits[1].0, "mailto:eve@example.com");
    assert!((fits[1].1 - 0.3).abs() < 1e-9, "{fits:?}");
    assert_eq!(rest["candidates"][1]["recency_days"], 365);
    assert_eq!(rest["candidates"][1]["rank"], 4);
    assert!(rest.get("more").is_none(), "{rest}");
}

#[actix_web::test]
async fn a_person_sees_the_open_opportunities_they_fit_best() {
    let app = TestApp::spawn().await;
    let hr = Caller::of(&app, "default", &["evidence:read", "opportunities:write"]).await;
    tell_the_story(&app).await;
    let planner = json!({
        "name": "Planning lead", "kind": "job",
        "needs": [{ "item": planning(), "level": 3 }]
    });
    let speaker = json!({
        "name": "Conference talk", "kind": "assignment", "status": "closed",
        "needs": [{ "item": planning(), "level": 1 }]
    });
    for body in [migration(), planner, speaker] {
        let (status, answer) = hr
            .send(Method::POST, "opportunities", &[], Some(&body))
            .await;
        assert_eq!(status, 201, "{answer}");
    }
    let mine = hr
        .get(
            "profiles/opportunities",
            &[("agent", mbox("ann").to_string()), ("at", AT.into())],
        )
        .await;
    let names: Vec<&str> = mine["opportunities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["opportunity"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Planning lead", "Platform migration"],
        "closed ones are left out"
    );
    close(
        &mine["opportunities"][0]["fit"],
        1.0,
        "Ann for the planning lead",
    );
    close(
        &mine["opportunities"][1]["fit"],
        0.95,
        "Ann for the migration",
    );
    assert_eq!(
        mine["opportunities"][1]["met"][0]["proofs"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let open = hr.get("opportunities", &[("status", "open".into())]).await;
    assert_eq!(open["opportunities"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn opportunities_are_validated_replaced_and_deleted() {
    let app = TestApp::spawn().await;
    let hr = Caller::of(&app, "default", &["evidence:read", "opportunities:write"]).await;
    let reader = Caller::of(&app, "default", &["evidence:read"]).await;

    let cases = [
        (json!({ "kind": "gig" }), "/kind"),
        (json!({ "needs": [] }), "/needs"),
        (
            json!({ "needs": [{ "item": "https://example.com/nope", "level": 2 }] }),
            "/needs/0/item",
        ),
        (
            json!({ "needs": [{ "item": planning(), "level": 7 }] }),
            "/needs/0/level",
        ),
        (
            json!({ "needs": [{ "item": planning(), "level": 2.5 }] }),
            "/needs/0/level",
        ),
        (json!({ "team": "no-such-team" }), "/team"),
        (json!({ "status": "maybe" }), "/status"),
        (json!({ "name": "  " }), "/name"),
        (json!({ "salary": 1 }), "/salary"),
    ];
    for (change, pointer) in cases {
        let mut body = migration();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, answer) = hr
            .send(Method::POST, "opportunities", &[], Some(&body))
            .await;
        assert_eq!(status, 400, "{change}: {answer}");
        assert_eq!(answer["error"]["pointer"], pointer, "{change}: {answer}");
    }

    let (status, _) = reader
        .send(Method::POST, "opportunities", &[], Some(&migration()))
        .await;
    assert_eq!(status, 403, "writing needs opportunities:write");

    let (status, first) = hr
        .send(Method::PUT, "opportunities/mig-1", &[], Some(&migration()))
        .await;
    assert_eq!(status, 201, "{first}");
    let mut closed = migration();
    closed["status"] = json!("closed");
    let (status, replaced) = hr
        .send(Method::PUT, "opportunities/mig-1", &[], Some(&closed))
        .await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(
        reader.get("opportunities/mig-1", &[]).await["status"],
        "closed"
    );
    let open = reader
        .get("opportunities", &[("status", "open".into())])
        .await;
    assert_eq!(open["opportunities"], json!([]));

    let (status, _) = hr
        .send(Method::DELETE, "opportunities/mig-1", &[], None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = reader
        .send(Method::GET, "opportunities/mig-1", &[], None)
        .await;
    assert_eq!(status, 404);
    let (status, answer) = reader
        .send(
            Method::GET,
            "opportunities/mig-1/candidates",
            &[("cursor", "x".into())],
            None,
        )
        .await;
    assert_eq!(status, 400, "{answer}");
}

/// With more people than the first look reads (64 per need), candidates come from the
/// needs' rankings alone: 80 people experienced planning once (0.2 each, progress 0.2 of
/// level 2's 1.0); three passed driving results (0.9), the rest attended it (0.3). The three
/// fit (0.2 + 0.9) ÷ 2 = 0.55, everyone else (0.2 + 0.3) ÷ 2 = 0.25.
#[actix_web::test]
async fn the_best_candidates_among_many_are_found_from_the_rankings() {
    let app = TestApp::spawn().await;
    let hr = Caller::of(&app, "default", &["evidence:read", "opportunities:write"]).await;
    let mut statements = Vec::new();
    for i in 0..80 {
        let who = format!("p{i:02}");
        statements.push(evidence(&who, "experienced", "intro", &planning(), 0));
        let verb = if i % 30 == 7 { "passed" } else { "attended" };
        statements.push(evidence(&who, verb, "results-1", &results(), 0));
    }
    app.store(&Value::Array(statements)).await;
    let body = json!({
        "name": "Quick win", "kind": "assignment",
        "needs": [{ "item": planning(), "level": 2 }, { "item": results(), "level": 2 }]
    });
    let (status, created) = hr
        .send(Method::POST, "opportunities", &[], Some(&body))
        .await;
    assert_eq!(status, 201, "{created}");
    let path = format!(
        "opportunities/{}/candidates",
        created["id"].as_str().unwrap()
    );
    let page = hr
        .get(&path, &[("at", AT.into()), ("limit", "4".into())])
        .await;
    let found: Vec<(String, f64)> = page["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["agent"]["mbox"].as_str().unwrap().to_owned(),
                c["fit"].as_f64().unwrap(),
            )
        })
        .collect();
    let mut best: Vec<&str> = found[..3].iter().map(|(m, _)| m.as_str()).collect();
    best.sort_unstable();
    assert_eq!(
        best,
        [
            "mailto:p07@example.com",
            "mailto:p37@example.com",
            "mailto:p67@example.com"
        ],
        "{page}"
    );
    assert!(
        found[..3].iter().all(|(_, fit)| (fit - 0.55).abs() < 1e-9),
        "{found:?}"
    );
    assert!((found[3].1 - 0.25).abs() < 1e-9, "{found:?}");
    assert!(page["more"].is_string());
}
