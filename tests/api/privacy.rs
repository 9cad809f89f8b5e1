//! Privacy operations (issue 21, README "Privacy"): exporting a person, erasing a person
//! with a dry run, the audit record. One story: Ann (an e-mail address and an LMS account,
//! linked) learns and is mentioned by Bob and Cy; Bob and Cy also learn without her.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;

use reqwest::Method;
use serde_json::{json, Value};
use sha2::Digest as _;

use crate::helpers::{multipart, Caller, TestApp};

const FW: &str = "https://w3id.org/lrsgate/frameworks/wlp";
const ADL: &str = "http://adlnet.gov/expapi/verbs/";
/// Strings that identify Ann anywhere: her e-mail, her LMS login, her name.
const ANN_MARKS: [&str; 3] = ["ann@example.com", "ann-lms-01", "Ann Example"];

fn coaching() -> String {
    format!("{FW}/aoe/coaching")
}

fn ann_mail() -> Value {
    json!({"objectType": "Agent", "name": "Ann Example", "mbox": "mailto:ann@example.com"})
}

fn ann_lms() -> Value {
    json!({"objectType": "Agent", "account": {"homePage": "https://lms.example.com", "name": "ann-lms-01"}})
}

fn agent(name: &str) -> Value {
    json!({"objectType": "Agent", "name": name, "mbox": format!("mailto:{name}@example.com")})
}

/// A statement by `actor`, tagged explicitly with the Coaching area of expertise.
fn learning(actor: Value, verb: &str, course: &str) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "actor": actor,
        "verb": {"id": format!("{ADL}{verb}")},
        "object": {"id": format!("https://courses.example.com/{course}")},
        "context": {"contextActivities": {"other": [{"id": coaching()}]}}
    })
}

/// The statements of the story, by what they are to Ann.
struct Story {
    /// Ann is the actor (one of them voided by her, one with an attachment).
    ann_acts: Vec<String>,
    /// Ann is only mentioned: instructor, team member, object agent.
    mentions_ann: Vec<String>,
    /// Ann is not in them.
    others: Vec<String>,
    attachment: Vec<u8>,
}

async fn store_one(app: &TestApp, s: &Value) -> String {
    app.store(s).await.remove(0)
}

async fn tell_the_story(app: &TestApp) -> Story {
    let mut ann_acts = Vec::new();
    for (actor, course) in [(ann_mail(), "coaching-1"), (ann_lms(), "coaching-2")] {
        ann_acts.push(store_one(app, &learning(actor, "completed", course)).await);
    }
    let mistake = store_one(app, &learning(ann_mail(), "passed", "coaching-3")).await;
    let void = json!({"actor": ann_mail(), "verb": {"id": format!("{ADL}voided")},
                      "object": {"objectType": "StatementRef", "id": mistake}});
    ann_acts.push(mistake);
    ann_acts.push(store_one(app, &void).await);

    let attachment = b"Ann's certificate of coaching".to_vec();
    let hash = hex::encode(sha2::Sha256::digest(&attachment));
    let mut with_file = learning(ann_lms(), "passed", "coaching-exam");
    with_file["attachments"] = json!([{
        "usageType": "http://example.com/usage/certificate",
        "display": {"en-US": "certificate"},
        "contentType": "text/plain",
        "length": attachment.len(),
        "sha2": hash,
    }]);
    let body = multipart("ann-b", &with_file, &[(&hash, "text/plain", &attachment)]);
    let response = app
        .xapi(Method::POST, "statements")
        .header("Content-Type", "multipart/mixed; boundary=ann-b")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    ann_acts.extend(response.json::<Vec<String>>().await.unwrap());

    let mut taught = learning(agent("bob"), "completed", "coaching-1");
    taught["context"]["instructor"] = ann_mail();
    let mut in_team = learning(agent("cy"), "completed", "coaching-2");
    in_team["context"]["team"] = json!({"objectType": "Group", "name": "Coaches",
        "mbox": "mailto:coaches@example.com",
        "member": [ann_lms(), agent("cy")]});
    let met = json!({"actor": agent("cy"), "verb": {"id": format!("{ADL}interacted")},
                     "object": ann_mail()});
    let mut mentions_ann = Vec::new();
    for s in [taught, in_team, met] {
        mentions_ann.push(store_one(app, &s).await);
    }
    let mut others = Vec::new();
    for s in [
        learning(agent("bob"), "passed", "coaching-exam"),
        learning(agent("cy"), "mastered", "coaching-3"),
    ] {
        others.push(store_one(app, &s).await);
    }
    Story {
        ann_acts,
        mentions_ann,
        others,
        attachment,
    }
}

/// Links Ann's two identities and gives both documents; Bob gets a document too.
async fn ann_is_known(app: &TestApp, hr: &Caller<'_>) -> String {
    let (status, person) = hr
        .send(
            Method::POST,
            "people/link",
            &[],
            Some(&json!({"agents": [ann_mail(), ann_lms()]})),
        )
        .await;
    assert_eq!(status, 200, "{person}");
    for (resource, query, content) in [
        (
            "activities/state",
            vec![
                (
                    "activityId",
                    "https://courses.example.com/coaching-1".to_owned(),
                ),
                ("agent", ann_lms().to_string()),
                ("stateId", "bookmark".to_owned()),
            ],
            "page 7 of Ann",
        ),
        (
            "agents/profile",
            vec![
                ("agent", ann_mail().to_string()),
                ("profileId", "prefs".to_owned()),
            ],
            "Ann likes dark mode",
        ),
        (
            "activities/state",
            vec![
                (
                    "activityId",
                    "https://courses.example.com/coaching-1".to_owned(),
                ),
                ("agent", agent("bob").to_string()),
                ("stateId", "bookmark".to_owned()),
            ],
            "page 3 of Bob",
        ),
    ] {
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = app
            .document(Method::PUT, resource, &query)
            .header("Content-Type", "text/plain")
            .header("If-None-Match", "*")
            .body(content)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204, "{resource}");
    }
    let (status, _) = hr
        .send(
            Method::POST,
            "teams",
            &[],
            Some(&json!({"name": "Mentors", "members": [ann_mail(), agent("bob")]})),
        )
        .await;
    assert_eq!(status, 201);
    person["id"].as_str().unwrap().to_owned()
}

/// The files of a tar archive, by path.
fn untar(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut archive = tar::Archive::new(bytes);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        files.insert(path, content);
    }
    files
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn export(app: &TestApp, agent: &Value) -> BTreeMap<String, Vec<u8>> {
    let response = app
        .admin(Method::GET, "people/export")
        .query(&[("agent", agent.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-tar");
    untar(&response.bytes().await.unwrap())
}

/// Issue 21, "Export a person": every statement any linked identity appears in (actor,
/// object, instructor, team member), their documents, attachments, tags, evidence,
/// identities and teams, as JSON lines with a manifest of SHA-256 checksums — and nothing
/// of anybody else.
#[tokio::test]
async fn an_export_holds_exactly_the_persons_data_with_checksums() {
    let app = TestApp::spawn().await;
    let hr = Caller::of(&app, "default", &["evidence:read", "people:write"]).await;
    let story = tell_the_story(&app).await;
    let person = ann_is_known(&app, &hr).await;

    // Asked by her LMS account, the export covers both identities.
    let files = export(&app, &ann_lms()).await;
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["format"], "lrsgate-person-export/1");
    assert_eq!(manifest["person"], person.as_str());
    let listed = manifest["files"].as_array().unwrap();
    assert_eq!(listed.len(), files.len() - 1, "every other file is listed");
    for f in listed {
        let content = &files[f["path"].as_str().unwrap()];
        assert_eq!(f["sha256"], hex::encode(sha2::Sha256::digest(content)));
        assert_eq!(f["bytes"], content.len());
    }

    let statements: Vec<Value> = files
        .iter()
        .filter(|(p, _)| p.starts_with("statements/"))
        .flat_map(|(_, c)| lines(c))
        .collect();
    let ids: BTreeSet<String> = statements
        .iter()
        .map(|l| l["statement"]["id"].as_str().unwrap().to_owned())
        .collect();
    let expected: BTreeSet<String> = story
        .ann_acts
        .iter()
        .chain(&story.mentions_ann)
        .cloned()
        .collect();
    assert_eq!(
        ids, expected,
        "Ann's statements and those naming her, no others"
    );
    assert_eq!(manifest["counts"]["statements"], expected.len());
    let voided = statements.iter().filter(|l| l["voided"] == true).count();
    assert_eq!(voided, 1, "the statement Ann voided is held, so exported");
    assert!(statements
        .iter()
        .any(|l| l["tags"].as_array().is_some_and(|t| !t.is_empty())));

    let attachments = lines(&files["attachments.jsonl"]);
    assert_eq!(attachments.len(), 1);
    let file = attachments[0]["file"].as_str().unwrap();
    assert_eq!(files[file], story.attachment);

    let documents = lines(&files["documents.jsonl"]);
    let contents: BTreeSet<String> = documents
        .iter()
        .map(|d| String::from_utf8(files[d["file"].as_str().unwrap()].clone()).unwrap())
        .collect();
    assert_eq!(
        contents,
        BTreeSet::from(["page 7 of Ann".to_owned(), "Ann likes dark mode".to_owned()])
    );

    let about: Value = serde_json::from_slice(&files["person.json"]).unwrap();
    assert_eq!(about["identities"].as_array().unwrap().len(), 2);
    let teams: BTreeSet<&str> = about["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(teams, BTreeSet::from(["Coaches", "Mentors"]));

    let evidence = lines(&files["evidence.jsonl"]);
    assert!(!evidence.is_empty());
    assert!(evidence.iter().all(|e| e["person"] == person.as_str()));

    // Nobody else's: Bob's and Cy's own statements and Bob's document stay out.
    let all = files
        .values()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<String>();
    for id in &story.others {
        assert!(
            !all.contains(id.as_str()),
            "another person's statement {id}"
        );
    }
    assert!(!all.contains("page 3 of Bob"));
}

/// The agent with its identifier only (no name to echo back).
fn ifi_only(agent: &Value) -> Value {
    let mut agent = agent.clone();
    agent.as_object_mut().unwrap().remove("name");
    agent
}

/// Every text the gateway answers about anything, for the identifier checks.
async fn everything_readable(app: &TestApp, hr: &Caller<'_>, story: &Story) -> String {
    let mut seen = String::new();
    // Every statement, a page of two at a time through `more` links, and each format.
    for format in ["exact", "ids", "canonical"] {
        for s in app
            .all_statements(&[("limit", "2"), ("format", format)])
            .await
        {
            seen.push_str(&s.to_string());
        }
    }
    for agent in [ann_mail(), ann_lms()] {
        for related in ["false", "true"] {
            let found = app
                .all_statements(&[("agent", &agent.to_string()), ("related_agents", related)])
                .await;
            assert!(
                found.is_empty(),
                "a query by Ann's identifier found {found:?}"
            );
        }
        // The Agents resource echoes the IFI asked for; it must know no name for it.
        let person: Value = app
            .xapi(Method::GET, "agents")
            .query(&[("agent", ifi_only(&agent).to_string())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            person["name"].as_array().is_none_or(Vec::is_empty),
            "{person}"
        );
        let profile = hr.get("profiles", &[("agent", agent.to_string())]).await;
        assert_eq!(profile["competencies"], json!([]), "{profile}");
    }
    for id in story.ann_acts.iter().chain(&story.mentions_ann) {
        let one = app
            .get_statements(&[("statementId", id), ("attachments", "true")])
            .await;
        seen.push_str(&String::from_utf8_lossy(&one.bytes().await.unwrap()));
    }
    let experts = hr
        .get(
            &format!(
                "competencies/{}/experts",
                coaching().replace(':', "%3A").replace('/', "%2F")
            ),
            &[],
        )
        .await;
    seen.push_str(&experts.to_string());
    seen.push_str(&hr.get("teams", &[]).await.to_string());
    seen
}

/// Each person's Coaching score, by person id.
async fn coaching_scores(hr: &Caller<'_>) -> BTreeMap<String, f64> {
    let path = format!(
        "competencies/{}/experts",
        coaching().replace(':', "%3A").replace('/', "%2F")
    );
    // Decayed to one fixed moment, so that scores read at different times compare.
    let experts = hr
        .get(&path, &[("at", "2030-01-01T00:00:00Z".into())])
        .await;
    experts["experts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["person"]["id"].as_str().unwrap().to_owned(),
                e["score"].as_f64().unwrap(),
            )
        })
        .collect()
}

async fn erase(app: &TestApp, body: &Value) -> (u16, Value) {
    let response = app
        .admin(Method::POST, "people/erase")
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Issue 21, "Erase a person" and its checks: the dry run reports exactly what the real run
/// then does and changes nothing; afterwards no query (statements with any filter, `more`
/// pages, every format, attachments, the Agents resource, profiles, experts, teams, people,
/// documents) answers any of the person's identifiers; statements that only mention her
/// are kept under a pseudonymous account; other people's scores do not change; an audit
/// record says who, when and how much, without personal data.
#[tokio::test]
async fn erasing_a_person_leaves_none_of_their_identifiers_and_others_unchanged() {
    let app = TestApp::spawn().await;
    let hr = Caller::of(&app, "default", &["evidence:read", "people:write"]).await;
    let story = tell_the_story(&app).await;
    let person = ann_is_known(&app, &hr).await;
    let before = coaching_scores(&hr).await;
    assert!(
        before.contains_key(&person),
        "Ann has evidence before: {before:?}"
    );

    let (status, dry) = erase(&app, &json!({"agent": ann_mail(), "dry_run": true})).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["statements_deleted"], story.ann_acts.len());
    assert_eq!(dry["statements_pseudonymised"], story.mentions_ann.len());
    assert_eq!(dry["attachments_deleted"], 1);
    assert_eq!(dry["documents_deleted"], 2);
    assert_eq!(dry["identities_deleted"], 2);
    // Coaches (from a statement) and Mentors (defined here).
    assert_eq!(dry["team_memberships_deleted"], 2);
    assert!(dry["evidence_deleted"].as_u64().unwrap() > 0);
    // Nothing changed.
    assert_eq!(coaching_scores(&hr).await, before);
    assert!(export(&app, &ann_mail())
        .await
        .contains_key("manifest.json"));

    let (status, real) = erase(&app, &json!({"person": person})).await;
    assert_eq!(status, 200, "{real}");
    let mut expected = dry.clone();
    expected["dry_run"] = json!(false);
    expected["audit"] = real["audit"].clone();
    assert_eq!(real, expected, "the dry run's counts are the real run's");

    let seen = everything_readable(&app, &hr, &story).await;
    for mark in ANN_MARKS {
        assert!(!seen.contains(mark), "`{mark}` still answered: {seen}");
    }
    // Her own statements are gone; those mentioning her are kept, pseudonymised.
    for id in &story.ann_acts {
        assert_eq!(
            app.get_statements(&[("statementId", id)]).await.status(),
            404
        );
    }
    for id in &story.mentions_ann {
        let kept: Value = app
            .get_statements(&[("statementId", id)])
            .await
            .json()
            .await
            .unwrap();
        assert!(
            kept.to_string().contains("https://lrsgate.invalid/erased"),
            "{kept}"
        );
    }
    // Documents: hers gone, Bob's kept.
    let state = |who: Value| {
        app.document(
            Method::GET,
            "activities/state",
            &[
                ("activityId", "https://courses.example.com/coaching-1"),
                ("agent", &who.to_string()),
                ("stateId", "bookmark"),
            ],
        )
        .send()
    };
    assert_eq!(state(ann_lms()).await.unwrap().status(), 404);
    assert_eq!(state(agent("bob")).await.unwrap().status(), 200);
    let (status, _) = hr
        .send(Method::GET, &format!("people/{person}"), &[], None)
        .await;
    assert_eq!(status, 404, "no identity is linked to her person any more");

    // Everybody else's scores stand; hers is gone.
    let mut after_expected = before.clone();
    after_expected.remove(&person);
    assert_eq!(coaching_scores(&hr).await, after_expected);

    // The audit record: who and how much, no personal data.
    let audit: Value = app
        .admin(Method::GET, "audit")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let records = audit["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{audit}");
    assert_eq!(records[0]["action"], "erase");
    assert_eq!(records[0]["by"], "admin");
    assert_eq!(records[0]["id"], real["audit"]);
    assert_eq!(
        records[0]["counts"]["statements_deleted"],
        story.ann_acts.len()
    );
    let text = audit.to_string();
    for mark in ANN_MARKS.iter().copied().chain([person.as_str()]) {
        assert!(!text.contains(mark), "the audit record holds `{mark}`");
    }
}

/// Issue 21: the operations take the admin API's caller (the `admin` scope), and bad input
/// is a 400 naming the field (README "Privacy"); an unknown person is a 404.
#[tokio::test]
async fn privacy_requests_need_admin_and_name_the_bad_field() {
    let app = TestApp::spawn().await;
    for (body, field) in [
        (json!({}), "agent"),
        (json!({"agent": {"name": "no identifier"}}), "/agent"),
        (json!({"agent": ann_mail(), "person": "p"}), "person"),
        (json!({"agent": ann_mail(), "dry_run": "yes"}), "body"),
    ] {
        let (status, answer) = erase(&app, &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["pointer"], field, "{answer}");
    }
    let (status, _) = erase(&app, &json!({"person": "no-such-person"})).await;
    assert_eq!(status, 404);
    let response = app
        .admin(Method::GET, "people/export")
        .query(&[("agent", "{not json")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["pointer"], "agent");

    let reader = Caller::of(&app, "default", &["all", "evidence:read"]).await;
    let (status, _) = reader
        .send(
            Method::POST,
            "admin/people/erase",
            &[],
            Some(&json!({"agent": ann_mail()})),
        )
        .await;
    assert_eq!(status, 403, "erasing needs the admin scope");
    let admin = Caller::of(&app, "default", &["admin"]).await;
    let (status, answer) = admin
        .send(
            Method::POST,
            "admin/people/erase",
            &[],
            Some(&json!({"agent": ann_mail(), "dry_run": true})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["statements_deleted"], 0);
}
