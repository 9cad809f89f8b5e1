//! Retention policies (issue 21, "Retention"; README "Privacy"): per-tenant policies by
//! age, optionally by verb or activity prefix, and runs whose dry-run counts are the real
//! run's, leaving evidence and activity statistics consistent with what remains.

use reqwest::Method;
use serde_json::{json, Value};
use sha2::Digest as _;

use crate::helpers::{multipart, Caller, TestApp};

const ADL: &str = "http://adlnet.gov/expapi/verbs/";
const COACHING: &str = "https://w3id.org/lrsgate/frameworks/wlp/aoe/coaching";

fn tagged(mbox: &str, verb: &str, course: &str) -> Value {
    json!({
        "actor": {"objectType": "Agent", "mbox": format!("mailto:{mbox}@example.com")},
        "verb": {"id": format!("{ADL}{verb}")},
        "object": {"id": format!("https://courses.example.com/{course}")},
        "context": {"contextActivities": {"other": [{"id": COACHING}]}}
    })
}

async fn admin(app: &TestApp, method: Method, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut request = app.admin(method, path);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The Coaching activities' statistics, by activity id.
async fn activity_statements(hr: &Caller<'_>) -> Vec<(String, u64)> {
    let path = format!(
        "competencies/{}/activities",
        COACHING.replace(':', "%3A").replace('/', "%2F")
    );
    let answer = hr.get(&path, &[]).await;
    let mut out: Vec<(String, u64)> = answer["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["activity"].as_str().unwrap().to_owned(),
                a["statements"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Issue 21, "Retention … applied by a scheduled job with `dry_run` … evidence and
/// statistics kept consistent; retention dry-run equals the real run's counts": a policy
/// for one verb and an activity prefix removes exactly the statements it covers, with
/// their evidence, statistics, dead attachment and audit record, and the dry run's counts
/// are the real run's.
#[tokio::test]
async fn a_retention_run_deletes_what_its_dry_run_counted_and_nothing_else() {
    let app = TestApp::spawn().await;
    let hr = Caller::of(&app, "default", &["evidence:read"]).await;
    let mut kept = Vec::new();
    for s in [
        tagged("ann", "completed", "coaching-1"),
        tagged("bob", "completed", "coaching-1"),
        // The verb matches, the activity does not.
        tagged("ann", "attempted", "other/coaching-9"),
    ] {
        kept.extend(app.store(&s).await);
    }
    let mut gone = Vec::new();
    for s in [
        tagged("ann", "attempted", "coaching-1"),
        tagged("bob", "attempted", "coaching-2"),
    ] {
        gone.extend(app.store(&s).await);
    }
    let content = b"an old draft".to_vec();
    let hash = hex::encode(sha2::Sha256::digest(&content));
    let mut with_file = tagged("bob", "attempted", "coaching-2");
    with_file["attachments"] = json!([{"usageType": "http://example.com/usage/draft",
        "display": {"en-US": "draft"}, "contentType": "text/plain",
        "length": content.len(), "sha2": hash}]);
    let response = app
        .xapi(Method::POST, "statements")
        .header("Content-Type", "multipart/mixed; boundary=r")
        .body(multipart(
            "r",
            &with_file,
            &[(&hash, "text/plain", &content)],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    gone.extend(response.json::<Vec<String>>().await.unwrap());
    app.settle().await;
    let before = activity_statements(&hr).await;
    assert!(
        before.contains(&("https://courses.example.com/coaching-2".into(), 2)),
        "{before:?}"
    );

    let policy = json!({"older_than_days": 0, "verb": format!("{ADL}attempted"),
                        "activity_prefix": "https://courses.example.com/coaching-"});
    let (status, stored) = admin(&app, Method::PUT, "retention/drafts", Some(&policy)).await;
    assert_eq!(status, 201, "{stored}");
    assert_eq!(stored["id"], "drafts");

    let (status, dry) = admin(
        &app,
        Method::POST,
        "retention/drafts/run?dry_run=true",
        None,
    )
    .await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["statements_deleted"], gone.len());
    assert_eq!(dry["attachments_deleted"], 1);
    assert_eq!(
        activity_statements(&hr).await,
        before,
        "a dry run changes nothing"
    );

    let (status, real) = admin(&app, Method::POST, "retention/drafts/run", None).await;
    assert_eq!(status, 200, "{real}");
    for field in [
        "statements_deleted",
        "attachments_deleted",
        "dead_letters_deleted",
    ] {
        assert_eq!(
            real[field], dry[field],
            "{field}: the dry run's count is the real run's"
        );
    }
    assert_eq!(real["dry_run"], false);

    for id in &gone {
        assert_eq!(
            app.get_statements(&[("statementId", id)]).await.status(),
            404
        );
    }
    for id in &kept {
        assert_eq!(
            app.get_statements(&[("statementId", id)]).await.status(),
            200
        );
    }
    // Statistics count only what remains: coaching-1 keeps its two completions.
    assert_eq!(
        activity_statements(&hr).await,
        vec![
            ("https://courses.example.com/coaching-1".to_owned(), 2),
            ("https://courses.example.com/other/coaching-9".to_owned(), 1),
        ]
    );
    let profile = hr
        .get(
            "profiles",
            &[(
                "agent",
                json!({"mbox": "mailto:bob@example.com"}).to_string(),
            )],
        )
        .await;
    assert_eq!(profile["competencies"][0]["evidence"], 1, "{profile}");

    let (_, audit) = admin(&app, Method::GET, "audit", None).await;
    let records = audit["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{audit}");
    assert_eq!(records[0]["action"], "retention");
    assert_eq!(records[0]["policy"], "drafts");
    assert_eq!(records[0]["counts"]["statements_deleted"], gone.len());

    // Run again: nothing left to delete, and no record of nothing.
    let (_, again) = admin(&app, Method::POST, "retention/drafts/run", None).await;
    assert_eq!(again["statements_deleted"], 0);
}

/// README "Privacy": policies are listed, read, replaced and removed per tenant; a bad
/// policy is a 400 naming the field and rule.
#[tokio::test]
async fn retention_policies_are_kept_per_tenant_and_checked() {
    let app = TestApp::spawn().await;
    for (body, pointer) in [
        (json!({}), "/older_than_days"),
        (json!({"older_than_days": -1}), "/older_than_days"),
        (
            json!({"older_than_days": 30, "verb": "not an iri"}),
            "/verb",
        ),
        (
            json!({"older_than_days": 30, "activity_prefix": ""}),
            "/activity_prefix",
        ),
        (json!({"older_than_days": 30, "colour": "red"}), "body"),
    ] {
        let (status, answer) = admin(&app, Method::PUT, "retention/p1", Some(&body)).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["pointer"], pointer, "{answer}");
    }
    let (status, answer) = admin(
        &app,
        Method::PUT,
        "retention/bad%20id",
        Some(&json!({"older_than_days": 1})),
    )
    .await;
    assert_eq!((status, &answer["error"]["pointer"]), (400, &json!("id")));

    let year = json!({"older_than_days": 365});
    assert_eq!(
        admin(&app, Method::PUT, "retention/year", Some(&year))
            .await
            .0,
        201
    );
    let longer = json!({"older_than_days": 730});
    let (status, replaced) = admin(&app, Method::PUT, "retention/year", Some(&longer)).await;
    assert_eq!((status, &replaced["older_than_days"]), (200, &json!(730)));
    let (_, list) = admin(&app, Method::GET, "retention", None).await;
    assert_eq!(list, json!([{"id": "year", "older_than_days": 730}]));

    // Another tenant's admin sees its own policies only.
    let other = Caller::of(&app, "acme", &["admin"]).await;
    let (status, theirs) = other.send(Method::GET, "admin/retention", &[], None).await;
    assert_eq!((status, theirs), (200, json!([])));
    let (status, _) = other
        .send(Method::GET, "admin/retention/year", &[], None)
        .await;
    assert_eq!(status, 404);

    assert_eq!(
        admin(&app, Method::DELETE, "retention/year", None).await.0,
        204
    );
    assert_eq!(
        admin(&app, Method::GET, "retention/year", None).await.0,
        404
    );
    assert_eq!(
        admin(&app, Method::DELETE, "retention/year", None).await.0,
        404
    );
}
