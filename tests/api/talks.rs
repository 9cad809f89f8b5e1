//! TED-style talk feeds: catalogs in RSS 2.0 with iTunes tags, Atom, JSON and CSV
//! (tests/fixtures/talks/, README there names each shape's documentation) served by a
//! stand-in on 127.0.0.1 or read from a file; and watch events in the xAPI Video profile's
//! shape (https://w3id.org/xapi/video) weighed by how much was watched.

use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::linkedin_pull::Operator;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/talks");
const VIDEO_TYPE: &str = "https://w3id.org/xapi/video/activity-type/video";
const WLP: &str = "https://w3id.org/lrsgate/frameworks/wlp/";

fn fixture_path(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

/// (path, If-None-Match sent, status) of every request a stand-in served.
type Seen = Arc<Mutex<Vec<(String, Option<String>, u16)>>>;

/// Serves the fixture files with their content types and an ETag, and counts requests.
struct FeedServer {
    url: String,
    seen: Seen,
}

impl FeedServer {
    async fn start() -> FeedServer {
        let seen: Seen = Arc::default();
        let data = web::Data::new(seen.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/{file}", web::get().to(serve))
        })
        .workers(1)
        .listen(listener)
        .expect("listen")
        .run();
        tokio::spawn(server);
        FeedServer {
            url: format!("http://127.0.0.1:{port}"),
            seen,
        }
    }
}

async fn serve(
    seen: web::Data<Seen>,
    request: HttpRequest,
    file: web::Path<String>,
) -> HttpResponse {
    let file = file.into_inner();
    let if_none_match = request
        .headers()
        .get("If-None-Match")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Ok(body) = std::fs::read(fixture_path(&file)) else {
        seen.lock().unwrap().push((file, if_none_match, 404));
        return HttpResponse::NotFound().finish();
    };
    let etag = format!("\"{}\"", body.len());
    if if_none_match.as_deref() == Some(etag.as_str()) {
        seen.lock().unwrap().push((file, if_none_match, 304));
        return HttpResponse::NotModified().finish();
    }
    let content_type = match file.rsplit_once('.').map(|(_, e)| e) {
        Some("rss") => "application/rss+xml; charset=utf-8",
        Some("atom") => "application/atom+xml",
        Some("json") => "application/json",
        _ => "text/csv",
    };
    seen.lock().unwrap().push((file, if_none_match, 200));
    HttpResponse::Ok()
        .insert_header(("Content-Type", content_type))
        .insert_header(("ETag", etag))
        .body(body)
}

async fn definition(app: &TestApp, activity: &str) -> Value {
    let response = app
        .xapi(Method::GET, "activities")
        .query(&[("activityId", activity)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{activity}");
    response.json::<Value>().await.unwrap()["definition"].clone()
}

/// The catalog alignments of an activity: (item, confidence, source).
async fn alignments(operator: &Operator<'_>, activity: &str) -> Vec<(String, f64, String)> {
    let response = operator
        .request(Method::GET, "catalog/activities")
        .query(&[("activityId", activity)])
        .send()
        .await
        .unwrap();
    if response.status() == 404 {
        return Vec::new();
    }
    let body: Value = response.json().await.unwrap();
    body["alignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["item"].as_str().unwrap().to_owned(),
                a["confidence"].as_f64().unwrap(),
                a["source"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn records(answer: &Value) -> Vec<String> {
    answer["outcome"]["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["record"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_ted_style_rss_feed_becomes_video_activities_aligned_by_topic() {
    let app = TestApp::spawn().await;
    let feeds = FeedServer::start().await;
    let operator = Operator::of(&app).await;
    operator
        .configure(
            "talks",
            &json!({ "kind": "talk-feed", "source": format!("{}/ted-talks.rss", feeds.url) }),
        )
        .await;

    let (status, answer) = operator.run("talks").await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["outcome"]["read"], 4, "{answer}");
    assert_eq!(answer["outcome"]["stored"], 3, "{answer}");
    assert_eq!(records(&answer), ["entry 4 (talks.example.org/talk/1004)"]);

    // RSS item → Video profile activity: name, description, moreInfo, and the iTunes
    // author and duration in extensions.
    let talk = "https://talks.example.org/talks/ann_lee_how_to_lead_a_team_through_change";
    let d = definition(&app, talk).await;
    assert_eq!(d["type"], VIDEO_TYPE);
    assert_eq!(
        d["name"]["en"],
        "How to lead a team through change | Ann Lee"
    );
    assert_eq!(d["moreInfo"], talk);
    assert_eq!(
        d["extensions"]["https://w3id.org/lrsgate/extensions/speaker"],
        "Ann Lee"
    );
    assert_eq!(
        d["extensions"]["https://w3id.org/xapi/video/extensions/length"],
        754.0
    );
    let coach = definition(
        &app,
        "https://talks.example.org/talks/ben_okafor_the_questions_great_coaches_ask",
    )
    .await;
    assert_eq!(
        coach["extensions"]["https://w3id.org/xapi/video/extensions/length"],
        545.0
    );

    // Topics → items the tagger matches, with its confidence; unknown topics ("Space",
    // "Oceans") align nothing.
    let aligned = alignments(&operator, talk).await;
    let items: Vec<&str> = aligned.iter().map(|(i, _, _)| i.as_str()).collect();
    assert!(
        items.contains(&format!("{WLP}aoe/facilitating-organizational-change").as_str()),
        "{aligned:?}"
    );
    assert!(aligned
        .iter()
        .all(|(_, c, s)| (0.6..=1.0).contains(c) && s == "talk-feed"));
    let coaching = alignments(
        &operator,
        "https://talks.example.org/talks/ben_okafor_the_questions_great_coaches_ask",
    )
    .await;
    assert_eq!(
        coaching.first().map(|a| a.0.clone()),
        Some(format!("{WLP}aoe/coaching"))
    );
    let ocean = "https://talks.example.org/talks/chi_nguyen_what_the_ocean_floor_sounds_like";
    assert!(alignments(&operator, ocean).await.is_empty());
    assert_eq!(definition(&app, ocean).await["type"], VIDEO_TYPE);

    // A manual alignment survives a re-import; an unchanged feed (ETag) is not read again.
    let manual = json!({ "activityId": ocean, "alignments": [
        { "item": format!("{WLP}aoe/managing-organizational-knowledge"), "confidence": 0.7, "source": "manual" }
    ] });
    let response = operator
        .request(Method::PUT, "catalog/activities")
        .json(&manual)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let (status, again) = operator.run("talks").await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["outcome"]["read"], 0, "{again}");
    let seen = feeds.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].2, 304, "{seen:?}");
    assert_eq!(alignments(&operator, ocean).await.len(), 1);
}

#[tokio::test]
async fn atom_json_and_csv_catalogs_import_alike_and_report_bad_records() {
    let app = TestApp::spawn().await;
    let feeds = FeedServer::start().await;
    let operator = Operator::of(&app).await;
    let run = |id: &'static str, source: String| {
        let operator = &operator;
        async move {
            operator
                .configure(id, &json!({ "kind": "talk-feed", "source": source }))
                .await;
            let (status, answer) = operator.run(id).await;
            assert_eq!(status, 200, "{id}: {answer}");
            answer
        }
    };

    let atom = run("atom", format!("{}/talks.atom", feeds.url)).await;
    assert_eq!(
        (
            atom["outcome"]["read"].as_u64(),
            atom["outcome"]["stored"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let d = definition(&app, "https://talks.example.org/talks/dee_communicate").await;
    assert_eq!(
        d["extensions"]["https://w3id.org/lrsgate/extensions/speaker"],
        "Dee Park"
    );
    let communication =
        alignments(&operator, "https://talks.example.org/talks/dee_communicate").await;
    assert_eq!(
        communication.first().map(|a| a.0.clone()),
        Some(format!("{WLP}competency/communicating-effectively"))
    );

    let json_catalog = run("json", format!("{}/talks.json", feeds.url)).await;
    assert_eq!(json_catalog["outcome"]["stored"], 2, "{json_catalog}");
    assert_eq!(records(&json_catalog), ["talk 3", "talk 4"]);
    let reasons = json_catalog["outcome"]["rejected"].to_string();
    assert!(
        reasons.contains("title") && reasons.contains("duration"),
        "{reasons}"
    );
    let trust = definition(&app, "https://talks.example.org/talks/femi_ade_trust").await;
    assert_eq!(
        trust["extensions"]["https://w3id.org/xapi/video/extensions/length"],
        840.0
    );
    assert_eq!(
        alignments(&operator, "https://talks.example.org/talks/femi_ade_trust")
            .await
            .first()
            .map(|a| a.0.clone()),
        Some(format!("{WLP}competency/building-trust"))
    );

    // CSV, from a file path as the command line gives it.
    let csv = run("csv", fixture_path("talks.csv")).await;
    assert_eq!(csv["outcome"]["stored"], 2, "{csv}");
    assert_eq!(records(&csv), ["line 3"]);
    let design = "https://talks.example.org/talks/ivo_petrov_designing_learning";
    assert_eq!(
        definition(&app, design).await["extensions"]
            ["https://w3id.org/xapi/video/extensions/length"],
        570.0
    );
    assert!(alignments(&operator, design)
        .await
        .iter()
        .any(|(i, _, _)| *i == format!("{WLP}aoe/designing-learning")));

    // A source that cannot be read fails the run with a reason, and stores nothing.
    operator
        .configure(
            "missing",
            &json!({ "kind": "talk-feed", "source": format!("{}/nothing.csv", feeds.url) }),
        )
        .await;
    let (status, answer) = operator.run("missing").await;
    assert_eq!(status, 502, "{answer}");
    assert!(answer.to_string().contains("404"), "{answer}");
}

/// A Video profile statement: `verb` is `played`/`paused`/`seeked` (profile verbs) or
/// `completed`/`terminated` (ADL), `progress` the watched fraction.
fn watched(person: &str, talk: &str, verb: &str, progress: f64, time: f64) -> Value {
    let verb = match verb {
        "completed" | "terminated" | "initialized" => {
            format!("http://adlnet.gov/expapi/verbs/{verb}")
        }
        other => format!("https://w3id.org/xapi/video/verbs/{other}"),
    };
    json!({
        "actor": { "objectType": "Agent", "name": person, "mbox": format!("mailto:{person}@example.com") },
        "verb": { "id": verb },
        "object": { "objectType": "Activity", "id": talk,
                    "definition": { "type": VIDEO_TYPE, "name": { "en": "Coaching conversations that work" } } },
        "result": { "extensions": {
            "https://w3id.org/xapi/video/extensions/time": time,
            "https://w3id.org/xapi/video/extensions/progress": progress,
            "https://w3id.org/xapi/video/extensions/played-segments": format!("0[.]{time}")
        } },
        "context": {
            "contextActivities": { "category": [{ "id": "https://w3id.org/xapi/video" }] },
            "extensions": {
                "https://w3id.org/xapi/video/extensions/length": 600.0,
                "https://w3id.org/xapi/video/extensions/session-id": format!("{person}-session")
            }
        },
        "timestamp": "2026-11-02T10:00:00.000Z"
    })
}

/// Two people watch the same talk: one to 80 %, one to 5 %. Their evidence for the talk's
/// topic is in the ratio (0.8 / 0.05) ^ `evidence.video_progress_exponent` — 4 with the
/// exponent set to 0.5 here — and the one who watched more ranks first.
#[tokio::test]
async fn a_talk_watched_to_80_percent_counts_more_than_one_left_at_5_percent() {
    let app = TestApp::spawn_with(|s| s.evidence.video_progress_exponent = 0.5).await;
    let feeds = FeedServer::start().await;
    let operator = Operator::of(&app).await;
    operator
        .configure(
            "talks",
            &json!({ "kind": "talk-feed", "source": format!("{}/talks.json", feeds.url) }),
        )
        .await;
    let (status, answer) = operator.run("talks").await;
    assert_eq!(status, 200, "{answer}");
    let talk = "https://talks.example.org/talks/eva_lind_coaching_conversations";

    app.store(&json!([
        watched("ann", talk, "played", 0.0, 0.0),
        watched("ann", talk, "paused", 0.5, 300.0),
        watched("ann", talk, "seeked", 0.5, 300.0),
        watched("ann", talk, "terminated", 0.8, 480.0),
        watched("bob", talk, "played", 0.0, 0.0),
        watched("bob", talk, "terminated", 0.05, 30.0),
    ]))
    .await;

    let coaching = format!("{WLP}aoe/coaching");
    let score = |person: &'static str| {
        let operator = &operator;
        let coaching = coaching.clone();
        async move {
            let agent = json!({ "mbox": format!("mailto:{person}@example.com") }).to_string();
            let profile = operator
                .get(
                    "profiles",
                    &[("agent", agent.as_str()), ("at", "2026-11-03T10:00:00Z")],
                )
                .await;
            let entry = profile["competencies"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["item"]["iri"] == coaching.as_str())
                .unwrap_or_else(|| panic!("no coaching evidence for {person}: {profile}"))
                .clone();
            (entry["score"].as_f64().unwrap(), entry)
        }
    };
    let (ann, ann_entry) = score("ann").await;
    let (bob, _) = score("bob").await;
    assert!(ann > bob && bob > 0.0, "{ann} vs {bob}");
    assert!((ann / bob - 4.0).abs() < 1e-6, "ratio {}", ann / bob);
    // Only the end of the session counts: played, paused and seeked are navigation.
    let proofs = ann_entry["proofs"].as_array().unwrap();
    let counted: Vec<&Value> = proofs
        .iter()
        .filter(|p| p["contribution"].as_f64().unwrap() != 0.0)
        .collect();
    assert_eq!(counted.len(), 1, "{proofs:?}");
    assert_eq!(
        counted[0]["verb"],
        "http://adlnet.gov/expapi/verbs/terminated"
    );
    let factor = counted[0]["weight"]["result"].as_f64().unwrap();
    assert!((factor - 0.8f64.sqrt()).abs() < 1e-9, "{factor}");
}
