//! Skill evidence end to end: statements over simulated months for a handful of people
//! (one with three linked identities, a voided statement, a failed assessment), then the
//! profile, expert ranking, adjacency, activities, a team's map and a person's gaps
//! against hand-computed numbers. Weights are the documented defaults (README "Skill
//! evidence"): passed 0.9, completed 0.6, experienced 0.2, mastered 1.0, failure −0.3,
//! result factor 0.5 + 0.5 × scaled, half-life 365 days; scores are decayed to `AT`.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{Caller, TestApp};

const FW: &str = "https://w3id.org/lrsgate/frameworks/wlp";
const AT: &str = "2026-06-01T00:00:00Z";
const ADL: &str = "http://adlnet.gov/expapi/verbs/";

fn item(path: &str) -> String {
    format!("{FW}/{path}")
}

fn strategy() -> String {
    item("competency/thinking-strategically")
}

fn acumen() -> String {
    item("competency/applying-business-acumen")
}

fn planning() -> String {
    item("competency/planning-and-implementing-assignments")
}

fn course(n: &str) -> String {
    format!("https://courses.example.com/{n}")
}

/// 2^(−days / 365): what is left of evidence `days` before `AT`.
fn decay(days: f64) -> f64 {
    (-days / 365.0).exp2()
}

fn mbox(name: &str) -> Value {
    json!({ "objectType": "Agent", "mbox": format!("mailto:{name}@example.com") })
}

fn lms(name: &str) -> Value {
    json!({ "objectType": "Agent", "account": { "homePage": "https://lms.example.com", "name": name } })
}

fn linkedin(name: &str) -> Value {
    json!({ "objectType": "Agent", "account": { "homePage": "https://www.linkedin.com", "name": name } })
}

/// A statement tagged explicitly (confidence 1) with `items`, `days` before `AT`.
fn evidence(actor: Value, verb: &str, activity: &str, items: &[String], days: i64) -> Value {
    let when = chrono::DateTime::parse_from_rfc3339(AT).unwrap() - chrono::Duration::days(days);
    let other: Vec<Value> = items.iter().map(|i| json!({ "id": i })).collect();
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "actor": actor,
        "verb": { "id": format!("{ADL}{verb}") },
        "object": { "id": course(activity) },
        "context": { "contextActivities": { "other": other } },
        "timestamp": when.to_rfc3339()
    })
}

fn with_result(mut statement: Value, result: Value) -> Value {
    statement["result"] = result;
    statement
}

fn without_id(mut statement: Value) -> Value {
    statement.as_object_mut().unwrap().remove("id");
    statement
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

/// Every score decomposes: listed contributions + the rest = score, and each
/// contribution = weight × decay with weight = the product of its factors.
fn assert_adds_up(scored: &Value) {
    let proofs = scored["proofs"].as_array().expect("proofs");
    let listed: f64 = proofs
        .iter()
        .map(|p| {
            let w = &p["weight"];
            let product: f64 = ["verb", "result", "confidence", "trust"]
                .iter()
                .map(|f| w[f].as_f64().unwrap())
                .product();
            close(&w["value"], product, "weight = product of factors");
            close(
                &p["contribution"],
                product * p["decay"].as_f64().unwrap(),
                "contribution",
            );
            p["contribution"].as_f64().unwrap()
        })
        .sum();
    let rest = scored["other_proofs"]["contribution"]
        .as_f64()
        .unwrap_or(0.0);
    close(&scored["score"], listed + rest, "score = Σ contributions");
}

fn entry<'v>(list: &'v Value, iri: &str) -> &'v Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e["item"]["iri"] == iri)
        .unwrap_or_else(|| panic!("{iri} missing from {list}"))
}

fn at() -> (&'static str, String) {
    ("at", AT.to_owned())
}

/// The scenario's statements; returns the id of the statement later voided.
async fn tell_the_story(app: &TestApp) -> String {
    let mastered = evidence(mbox("bob"), "mastered", "c3", &[strategy()], 5);
    let voided_id = mastered["id"].as_str().unwrap().to_owned();
    let statements = json!([
        // Ann, under three identities.
        with_result(
            evidence(mbox("ann"), "passed", "c1", &[strategy(), acumen()], 30),
            json!({ "success": true, "score": { "scaled": 0.8 } }),
        ),
        evidence(lms("ann"), "completed", "c2", &[strategy()], 365),
        evidence(linkedin("ann-l"), "experienced", "t1", &[strategy()], 90),
        evidence(mbox("ann"), "failed", "a1", &[acumen()], 60),
        // Bob: a pass, and a mastery that is voided below.
        with_result(
            evidence(mbox("bob"), "passed", "c1", &[strategy(), acumen()], 10),
            json!({ "success": true, "score": { "scaled": 0.9 } }),
        ),
        mastered,
        // Without an id: the LRS assigns one, and the evidence carries it.
        without_id(evidence(mbox("cy"), "completed", "c2", &[strategy()], 1)),
        evidence(mbox("dee"), "completed", "c4", &[acumen(), planning()], 20),
        evidence(mbox("eve"), "completed", "c5", &[planning()], 20),
        // Launching weighs nothing.
        evidence(mbox("eve"), "launched", "c1", &[strategy()], 2),
    ]);
    assert_eq!(app.store(&statements).await.len(), 10);
    let void = json!({
        "actor": mbox("bob"),
        "verb": { "id": format!("{ADL}voided") },
        "object": { "objectType": "StatementRef", "id": voided_id }
    });
    app.store(&void).await;
    voided_id
}

async fn link_ann(hr: &Caller<'_>) -> String {
    let agents = json!({ "agents": [mbox("ann"), lms("ann"), linkedin("ann-l")] });
    let (status, person) = hr
        .send(Method::POST, "people/link", &[], Some(&agents))
        .await;
    assert_eq!(status, 200, "{person}");
    person["id"].as_str().unwrap().to_owned()
}

// Expected scores at AT (each: verb × result × confidence × trust × decay).
fn ann_strategy() -> f64 {
    0.9 * 0.9 * decay(30.0) + 0.6 * decay(365.0) + 0.2 * decay(90.0)
}
fn ann_acumen() -> f64 {
    0.9 * 0.9 * decay(30.0) - 0.3 * decay(60.0)
}
fn bob_strategy() -> f64 {
    0.9 * 0.95 * decay(10.0)
}
fn cy_strategy() -> f64 {
    0.6 * decay(1.0)
}

#[actix_web::test]
async fn profiles_experts_adjacency_activities_teams_and_gaps_match_hand_computed_figures() {
    let app = TestApp::spawn().await;
    let hr = Caller::of(&app, "default", &["evidence:read", "people:write"]).await;
    let voided = tell_the_story(&app).await;
    let ann = link_ann(&hr).await;

    // Profile, asked by any of Ann's identities: evidence of all three.
    let profile = hr
        .get(
            "profiles",
            &[("agent", linkedin("ann-l").to_string()), at()],
        )
        .await;
    assert_eq!(profile["person"]["id"], ann.as_str());
    assert_eq!(profile["basis"]["half_life_days"], 365.0);
    let competencies = &profile["competencies"];
    assert_eq!(competencies.as_array().unwrap().len(), 2, "{profile}");
    let s = entry(competencies, &strategy());
    assert_eq!(s["item"]["name"], "Thinking strategically");
    close(&s["score"], ann_strategy(), "Ann's strategy score");
    assert_eq!(
        (s["evidence"].as_u64(), s["level"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(
        s["proofs"][0]["activity"],
        course("c1"),
        "strongest proof first"
    );
    assert_eq!(s["first"], "2025-06-01T00:00:00.000Z");
    assert_eq!(s["last"], "2026-05-02T00:00:00.000Z");
    // 90 days earlier only the LMS completion and the talk existed.
    close(
        &s["trend"]["then"],
        0.6 * decay(275.0) + 0.2,
        "score 90 days before",
    );
    assert_eq!(s["trend"]["direction"], "rising");
    let a = entry(competencies, &acumen());
    close(&a["score"], ann_acumen(), "a failure counts against");
    for c in competencies.as_array().unwrap() {
        assert_adds_up(c);
    }
    // With one proof listed, the rest still adds up.
    let short = hr
        .get(
            "profiles",
            &[("person", ann.clone()), at(), ("proofs", "1".into())],
        )
        .await;
    let s = entry(&short["competencies"], &strategy());
    assert_eq!(s["proofs"].as_array().unwrap().len(), 1);
    assert_eq!(s["other_proofs"]["count"], 2);
    assert_adds_up(s);

    // Experts: Ann (only because her identities are linked), Bob (his voided mastery
    // gone), Cy.
    let experts = hr
        .get(
            &format!("competencies/{}/experts", urlencode(&strategy())),
            &[at()],
        )
        .await;
    let ranked: Vec<&Value> = experts["experts"].as_array().unwrap().iter().collect();
    assert_eq!(ranked.len(), 3, "{experts}");
    assert_eq!(ranked[0]["person"]["id"], ann.as_str());
    assert_eq!(
        ranked[0]["person"]["identities"].as_array().unwrap().len(),
        3
    );
    close(&ranked[0]["score"], ann_strategy(), "Ann");
    close(&ranked[1]["score"], bob_strategy(), "Bob");
    close(&ranked[2]["score"], cy_strategy(), "Cy");
    let cy_statement = ranked[2]["proofs"][0]["statement"].as_str().unwrap();
    let stored = app.get_statements(&[("statementId", cy_statement)]).await;
    assert_eq!(
        stored.status(),
        200,
        "the proof names the id the LRS assigned"
    );
    assert_eq!(ranked[1]["evidence"], 1);
    assert!(ranked[1]["proofs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["statement"] != voided.as_str()));
    for e in &ranked {
        assert_adds_up(e);
    }
    // By the item's code, paged.
    let page = hr
        .get(
            "competencies/F-BUS-5/experts",
            &[at(), ("limit", "2".into())],
        )
        .await;
    assert_eq!(page["experts"].as_array().unwrap().len(), 2);
    assert_eq!(page["next_offset"], 2);
    let rest = hr
        .get(
            "competencies/F-BUS-5/experts",
            &[at(), ("limit", "2".into()), ("offset", "2".into())],
        )
        .await;
    assert_eq!(rest["experts"][0]["rank"], 3);

    // Adjacency: 5 people with evidence; strategy: Ann, Bob, Cy; acumen: Ann, Bob, Dee;
    // both: Ann, Bob → lift 2 × 5 / (3 × 3).
    let adjacent = hr.get("competencies/F-BUS-5/adjacent", &[]).await;
    assert_eq!(
        (adjacent["population"].as_u64(), adjacent["people"].as_u64()),
        (Some(5), Some(3))
    );
    let co = adjacent["co_occurring"].as_array().unwrap();
    assert_eq!(co.len(), 1, "planning never goes with strategy: {adjacent}");
    assert_eq!(co[0]["item"]["iri"], acumen().as_str());
    assert_eq!(co[0]["people_both"], 2);
    close(&co[0]["lift"], 10.0 / 9.0, "lift");
    close(&co[0]["confidence"], 2.0 / 3.0, "confidence");
    let related = adjacent["related"].as_array().unwrap();
    assert!(related
        .iter()
        .any(|r| r["item"]["iri"] == acumen().as_str() && r["relation"] == "related"));

    // Activities that build strategy: c1 (2 learners, both passed, mean score 0.85),
    // c2 (2 completions, no success stated), t1 (watched). The voided c3 is gone.
    let built = hr.get("competencies/F-BUS-5/activities", &[]).await;
    let acts = built["activities"].as_array().unwrap();
    let ids: Vec<&str> = acts
        .iter()
        .map(|a| a["activity"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [course("c1"), course("c2"), course("t1")]);
    assert_eq!(
        (
            acts[0]["learners"].as_u64(),
            acts[0]["success_rate"].as_f64()
        ),
        (Some(2), Some(1.0))
    );
    close(&acts[0]["average_score"], 0.85, "average score");
    assert_eq!(acts[1]["completion_rate"], 1.0);
    assert!(acts[1].get("success_rate").is_none());
    assert_eq!(acts[2]["completion_rate"], 0.0);

    // Cy against the learning strategist role: every need is a gap; the strategy gap
    // recommends what Cy has not done, most learners first.
    let role = item("role/learning-strategist");
    let gaps = hr
        .get(
            "profiles/gaps",
            &[
                ("agent", mbox("cy").to_string()),
                ("role", role.clone()),
                at(),
            ],
        )
        .await;
    let needs = &gaps["needs"];
    let s = entry(needs, &strategy());
    assert_eq!(
        (
            s["target_level"].as_u64(),
            s["level"].as_u64(),
            s["gap"].as_bool()
        ),
        (Some(5), Some(1), Some(true))
    );
    close(&s["score"], cy_strategy(), "Cy's strategy");
    close(&s["target_score"], 8.0, "level 5 starts at 8");
    let recommended: Vec<&str> = s["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["activity"].as_str().unwrap())
        .collect();
    assert_eq!(recommended, [course("c1"), course("t1")]);
    let a = entry(needs, &acumen());
    let recommended: Vec<&str> = a["recommendations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["activity"].as_str().unwrap())
        .collect();
    assert_eq!(recommended, [course("c1"), course("c4"), course("a1")]);

    // A team defined through the API, and its map and needs against the role.
    let body =
        json!({ "name": "Strategy office", "members": [mbox("ann"), mbox("bob"), mbox("cy")] });
    let (status, team) = hr.send(Method::POST, "teams", &[], Some(&body)).await;
    assert_eq!(status, 201, "{team}");
    let id = team["id"].as_str().unwrap();
    let map = hr
        .get(&format!("teams/{id}/skills"), &[("role", role), at()])
        .await;
    assert_eq!(map["size"], 3);
    let s = entry(&map["skills"], &strategy());
    assert_eq!(
        (s["members"].as_u64(), s["coverage"].as_f64()),
        (Some(3), Some(1.0))
    );
    close(
        &s["strength"],
        (ann_strategy() + bob_strategy() + cy_strategy()) / 3.0,
        "team strength",
    );
    let a = entry(&map["skills"], &acumen());
    close(&a["coverage"], 2.0 / 3.0, "acumen coverage");
    let need = entry(&map["needs"], &strategy());
    assert_eq!(
        (
            need["best_level"].as_u64(),
            need["members_at_level"].as_u64(),
            need["gap"].as_bool()
        ),
        (Some(2), Some(0), Some(true))
    );

    // Unlinking the LinkedIn identity takes its evidence back out of Ann's scores.
    assert_eq!(hr.unlink(&ann, &linkedin("ann-l")).await, 204);
    let profile = hr.get("profiles", &[("person", ann.clone()), at()]).await;
    let s = entry(&profile["competencies"], &strategy());
    close(
        &s["score"],
        ann_strategy() - 0.2 * decay(90.0),
        "after unlinking",
    );
    let experts = hr.get("competencies/F-BUS-5/experts", &[at()]).await;
    assert_eq!(
        experts["experts"].as_array().unwrap().len(),
        4,
        "the LinkedIn identity is its own person now"
    );
}

fn urlencode(iri: &str) -> String {
    iri.replace(':', "%3A").replace('/', "%2F")
}

#[actix_web::test]
async fn groups_in_statements_become_teams_and_team_changes_need_people_write() {
    let app = TestApp::spawn().await;
    let hr = Caller::of(&app, "default", &["evidence:read", "people:write"]).await;
    let reader = Caller::of(&app, "default", &["evidence:read"]).await;
    let group = json!({
        "objectType": "Group", "name": "Platform team",
        "account": { "homePage": "https://hr.example.com", "name": "platform" },
        "member": [mbox("ann"), mbox("bob")]
    });
    let mut s = evidence(mbox("ann"), "completed", "c1", &[strategy()], 3);
    s["context"]["team"] = group;
    app.store(&s).await;
    let teams = reader.get("teams", &[]).await;
    let t = &teams["teams"][0];
    assert_eq!(
        (t["name"].as_str(), t["origin"].as_str()),
        (Some("Platform team"), Some("statements"))
    );
    assert_eq!(t["members"].as_array().unwrap().len(), 2);
    let id = t["id"].as_str().unwrap();
    let map = reader.get(&format!("teams/{id}/skills"), &[]).await;
    close(
        &entry(&map["skills"], &strategy())["coverage"],
        0.5,
        "coverage",
    );

    let body = json!({ "name": "Renamed", "members": [mbox("ann")] });
    let path = format!("teams/{id}");
    assert_eq!(
        reader.send(Method::PUT, &path, &[], Some(&body)).await.0,
        403
    );
    assert_eq!(hr.send(Method::PUT, &path, &[], Some(&body)).await.0, 200);
    let bad = json!({ "name": "X", "members": [{ "name": "no identifier" }] });
    let (status, error) = hr.send(Method::POST, "teams", &[], Some(&bad)).await;
    assert_eq!(
        (status, error["error"]["pointer"].as_str()),
        (400, Some("/members/0"))
    );
    assert_eq!(hr.send(Method::DELETE, &path, &[], None).await.0, 204);
    assert_eq!(reader.send(Method::GET, &path, &[], None).await.0, 404);

    // Bad parameters name the parameter.
    let (status, error) = reader
        .send(Method::GET, "profiles", &[("agent", "{".into())], None)
        .await;
    assert_eq!(
        (status, error["error"]["pointer"].as_str()),
        (400, Some("agent"))
    );
    let (status, _) = reader
        .send(Method::GET, "competencies/no-such-item/experts", &[], None)
        .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn the_stream_sends_new_evidence_for_the_asked_item() {
    let app = TestApp::spawn().await;
    let reader = Caller::of(&app, "default", &["evidence:read"]).await;
    let mut response = app
        .client
        .get(format!("{}/api/v1/evidence/stream", app.address))
        .basic_auth(&reader.key, Some(&reader.secret))
        .query(&[("item", acumen())])
        .send()
        .await
        .expect("stream");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let first = tokio::time::timeout(Duration::from_secs(10), response.chunk())
        .await
        .expect("subscribed in time")
        .expect("chunk")
        .expect("a chunk");
    assert!(String::from_utf8_lossy(&first).contains("subscribed"));

    let other = evidence(mbox("ann"), "completed", "c2", &[strategy()], 1);
    let wanted = evidence(mbox("ann"), "passed", "c1", &[acumen()], 1);
    app.store(&json!([other, wanted])).await;
    let mut text = String::new();
    for _ in 0..20 {
        if text.contains("\n\n") {
            break;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("an event in time")
            .expect("chunk")
            .expect("a chunk");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let data = text
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .expect("an evidence event");
    assert!(text.starts_with("event: evidence"), "{text}");
    let event: Value = serde_json::from_str(data).unwrap();
    assert_eq!(event["statement"], wanted["id"], "only the asked item");
    assert_eq!(event["item"], acumen().as_str());
    close(&event["weight"]["value"], 0.9, "passed");
}
