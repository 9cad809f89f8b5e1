//! Who may do what: the admin API, the xAPI authorization scopes (xAPI 1.0.3 Part Three
//! §4.4 "OAuth Authorization Scope"; IEEE 9274.1.1 the same list), and tenant isolation.

use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{ids_of, json_of, statement, status_of, TestApp, KEY, SECRET};

fn state_query() -> Vec<(&'static str, String)> {
    vec![
        ("activityId", "http://example.com/activities/a".into()),
        (
            "agent",
            json!({"mbox": "mailto:ann@example.com"}).to_string(),
        ),
        ("stateId", "bookmark".into()),
    ]
}

fn profile_query() -> Vec<(&'static str, String)> {
    vec![
        ("activityId", "http://example.com/activities/a".into()),
        ("profileId", "p".into()),
    ]
}

/// Statuses of one request per xAPI action, in the order of `ACTIONS`.
const ACTIONS: [&str; 7] = [
    "POST statements",
    "GET statements",
    "PUT state",
    "GET state",
    "PUT activity profile",
    "GET activity profile",
    "GET activities",
];

async fn statuses(app: &TestApp, who: (&str, &str)) -> Vec<u16> {
    let mut out = Vec::new();
    let send = |method: Method, path: &str, query: Vec<(&'static str, String)>| {
        app.xapi_as(who, method, path).query(&query)
    };
    let requests = [
        send(Method::POST, "statements", vec![]).json(&statement(
            "ann@example.com",
            "completed",
            "a",
        )),
        send(Method::GET, "statements", vec![]),
        send(Method::PUT, "activities/state", state_query()).json(&json!({"page": 1})),
        send(Method::GET, "activities/state", state_query()),
        send(Method::PUT, "activities/profile", profile_query())
            .header("If-None-Match", "*")
            .json(&json!({"p": 1})),
        send(Method::GET, "activities/profile", profile_query()),
        send(
            Method::GET,
            "activities",
            vec![("activityId", "http://example.com/activities/a".into())],
        ),
    ];
    for r in requests {
        out.push(r.send().await.unwrap().status().as_u16());
    }
    out
}

/// Allowed actions answer 2xx (or 404 for a document not written yet, 412 for a profile
/// written before); forbidden ones 403.
fn allowed(status: u16) -> bool {
    status != 403 && status != 401
}

#[tokio::test]
async fn each_scope_allows_exactly_what_the_spec_says() {
    let app = TestApp::spawn().await;
    // Data for the readers to find.
    app.store(&statement("ann@example.com", "completed", "a"))
        .await;
    let matrix: [(&str, [bool; 7]); 8] = [
        ("all", [true; 7]),
        ("all/read", [false, true, false, true, false, true, true]),
        (
            "statements/write",
            [true, false, false, false, false, false, false],
        ),
        (
            "statements/read",
            [false, true, false, false, false, false, false],
        ),
        (
            "statements/read/mine",
            [false, true, false, false, false, false, false],
        ),
        ("state", [false, false, true, true, false, false, false]),
        ("profile", [false, false, false, false, true, true, true]),
        ("define", [false, false, false, false, false, false, true]),
    ];
    for (scope, expected) in matrix {
        let (key, secret) = app.credential("default", &[scope]).await;
        let got = statuses(&app, (&key, &secret)).await;
        for ((action, status), want) in ACTIONS.iter().zip(&got).zip(expected) {
            assert_eq!(
                allowed(*status),
                want,
                "scope {scope}: {action} answered {status}"
            );
        }
    }
}

#[tokio::test]
async fn statements_read_mine_returns_only_the_callers_statements() {
    let app = TestApp::spawn().await;
    let (key, secret) = app
        .credential("default", &["statements/write", "statements/read/mine"])
        .await;
    let me = (key.as_str(), secret.as_str());
    let mine: Vec<String> = json_of(app.xapi_as(me, Method::POST, "statements").json(&json!([
        statement("ann@example.com", "completed", "a"),
        statement("bob@example.com", "completed", "a"),
    ])))
    .await;
    let others = app
        .store(&json!([
            statement("ann@example.com", "completed", "a"),
            statement("cy@example.com", "completed", "a"),
        ]))
        .await;

    let page: Value = json_of(
        app.xapi_as(me, Method::GET, "statements")
            .query(&[("limit", "1")]),
    )
    .await;
    let mut seen = ids_of(page["statements"].as_array().unwrap());
    // Follow the `more` link, and also try it with the restriction edited out of the token.
    let more = page["more"].as_str().unwrap().to_owned();
    let follow: Value = json_of(
        app.xapi_as(me, Method::GET, "statements")
            .query(&[("more", more.rsplit("more=").next().unwrap())]),
    )
    .await;
    seen.extend(ids_of(follow["statements"].as_array().unwrap()));
    seen.sort();
    let mut expected = mine.clone();
    expected.sort();
    assert_eq!(seen, expected);

    let token = more.rsplit("more=").next().unwrap();
    let decoded = base64_decode(token);
    let mut forged: Value = serde_json::from_slice(&decoded).unwrap();
    forged["query"]["authority"] = Value::Null;
    forged["cursor"]["after"] = Value::Null;
    let forged = base64_encode(&serde_json::to_vec(&forged).unwrap());
    let forged_page: Value = json_of(
        app.xapi_as(me, Method::GET, "statements")
            .query(&[("more", forged.as_str())]),
    )
    .await;
    for id in ids_of(forged_page["statements"].as_array().unwrap()) {
        assert!(mine.contains(&id), "a forged token reached {id}");
    }

    // Someone else's statement by id is as absent as one that never existed.
    for id in [&others[0], &Uuid::new_v4().to_string()] {
        let status = status_of(
            app.xapi_as(me, Method::GET, "statements")
                .query(&[("statementId", id.as_str())]),
        )
        .await;
        assert_eq!(status, 404);
    }
    let own = app
        .xapi_as(me, Method::GET, "statements")
        .query(&[("statementId", mine[0].as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

#[tokio::test]
async fn without_define_statements_do_not_redefine_activities() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.credential("default", &["statements/write"]).await;
    let mut s = statement("ann@example.com", "completed", "undefined-here");
    s["object"]["definition"]["name"]["en-US"] = json!("Renamed");
    let status = status_of(
        app.xapi_as((&key, &secret), Method::POST, "statements")
            .json(&s),
    )
    .await;
    assert_eq!(status, 200);
    let activity: Value = json_of(
        app.xapi(Method::GET, "activities")
            .query(&[("activityId", "http://example.com/activities/undefined-here")]),
    )
    .await;
    assert!(activity.get("definition").is_none(), "{activity}");
}

#[tokio::test]
async fn the_admin_api_manages_tenants_and_credentials_and_revocation_is_immediate() {
    let app = TestApp::spawn().await;
    let create = |name: &str| {
        app.admin(Method::POST, "tenants")
            .json(&json!({ "name": name }))
            .send()
    };
    assert_eq!(create("acme").await.unwrap().status(), 201);
    assert_eq!(create("acme").await.unwrap().status(), 409);
    let bad = create("Not A Name").await.unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["pointer"], "name");

    let tenants: Value = json_of(app.admin(Method::GET, "tenants")).await;
    let names: Vec<&str> = tenants
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "acme"]);

    let unknown_scope = app
        .admin(Method::POST, "tenants/acme/credentials")
        .json(&json!({"name": "lms", "scopes": ["statements/everything"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown_scope.status(), 400);
    let body: Value = unknown_scope.json().await.unwrap();
    assert_eq!(body["error"]["pointer"], "scopes");

    let (key, secret) = app.credential("acme", &["all", "admin"]).await;
    let listed: Value = json_of(app.admin(Method::GET, "tenants/acme/credentials")).await;
    assert_eq!(listed[0]["key"], key.as_str());
    assert!(listed[0].get("secret").is_none() && listed[0].get("secret_hash").is_none());

    // A tenant admin sees its own tenant only; others look absent; tenants are the operator's.
    let own = |path: &str| {
        app.client
            .get(format!("{}/api/v1/admin/{path}", app.address))
            .basic_auth(&key, Some(&secret))
            .send()
    };
    assert_eq!(own("tenants/acme/credentials").await.unwrap().status(), 200);
    assert_eq!(
        own("tenants/default/credentials").await.unwrap().status(),
        404
    );
    assert_eq!(
        own("tenants/nowhere/credentials").await.unwrap().status(),
        404
    );
    let as_tenant: Value = own("tenants").await.unwrap().json().await.unwrap();
    assert_eq!(as_tenant.as_array().unwrap().len(), 1);
    let creating = app
        .client
        .post(format!("{}/api/v1/admin/tenants", app.address))
        .basic_auth(&key, Some(&secret))
        .json(&json!({"name": "sneaky"}))
        .send()
        .await
        .unwrap();
    assert_eq!(creating.status(), 403);

    // A partner's xAPI credential (`all`, no `admin`), and a wrong admin secret.
    let (partner_key, partner_secret) = app.credential("acme", &["all"]).await;
    let plain = app
        .client
        .get(format!("{}/api/v1/admin/tenants", app.address))
        .basic_auth(&partner_key, Some(&partner_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 403);
    let wrong = app
        .client
        .get(format!("{}/api/v1/admin/tenants", app.address))
        .basic_auth("admin", Some("guess"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let post = || {
        app.xapi_as((&key, &secret), Method::POST, "statements")
            .json(&statement("ann@example.com", "completed", "a"))
            .send()
    };
    assert_eq!(post().await.unwrap().status(), 200);
    let revoked = app
        .admin(Method::DELETE, &format!("tenants/acme/credentials/{key}"))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    assert_eq!(post().await.unwrap().status(), 401);
}

/// Every xAPI resource with another tenant's ids: nothing is found, nothing collides,
/// nothing is voided, and its `more` links serve only the caller's own statements.
#[tokio::test]
async fn tenants_never_see_or_touch_each_others_data() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.credential("acme", &["all"]).await;
    let acme = (key.as_str(), secret.as_str());

    let id = Uuid::new_v4().to_string();
    let mut theirs = statement("ann@example.com", "completed", "secret-course");
    theirs["id"] = json!(id);
    for _ in 0..3 {
        let s = statement("ann@example.com", "completed", "secret-course");
        let status = status_of(app.xapi_as(acme, Method::POST, "statements").json(&s)).await;
        assert_eq!(status, 200);
    }
    let status = status_of(
        app.xapi_as(acme, Method::PUT, "statements")
            .query(&[("statementId", id.as_str())])
            .json(&theirs),
    )
    .await;
    assert_eq!(status, 204);
    let state = app
        .xapi_as(acme, Method::PUT, "activities/state")
        .query(&state_query())
        .json(&json!({"secret": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(state.status(), 204);
    let acme_page: Value = json_of(
        app.xapi_as(acme, Method::GET, "statements")
            .query(&[("limit", "1")]),
    )
    .await;
    let acme_more = acme_page["more"].as_str().unwrap().to_owned();

    // The default tenant: the same id is free, with other content.
    let mut mine = statement("bob@example.com", "attempted", "course");
    mine["id"] = json!(id);
    let status = app.put_statement(&id, &mine).await.status();
    assert_eq!(status, 204, "another tenant's id must not conflict");
    let got: Value = app
        .get_statements(&[("statementId", &id)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["actor"]["mbox"], "mailto:bob@example.com");

    let filters: Vec<Vec<(&str, String)>> = vec![
        vec![(
            "activity",
            "http://example.com/activities/secret-course".into(),
        )],
        vec![(
            "agent",
            json!({"mbox": "mailto:ann@example.com"}).to_string(),
        )],
        vec![
            (
                "agent",
                json!({"mbox": "mailto:ann@example.com"}).to_string(),
            ),
            ("related_agents", "true".into()),
        ],
    ];
    for f in filters {
        let page: Value = json_of(app.xapi(Method::GET, "statements").query(&f)).await;
        assert_eq!(page["statements"], json!([]), "{f:?}");
    }
    let state = app
        .xapi(Method::GET, "activities/state")
        .query(&state_query())
        .send()
        .await
        .unwrap();
    assert_eq!(state.status(), 404);
    let ids: Value = json_of(
        app.xapi(Method::GET, "activities/state")
            .query(&state_query()[..2]),
    )
    .await;
    assert_eq!(ids, json!([]));
    let activity: Value = json_of(
        app.xapi(Method::GET, "activities")
            .query(&[("activityId", "http://example.com/activities/secret-course")]),
    )
    .await;
    assert!(activity.get("definition").is_none(), "{activity}");
    let agents: Value = json_of(app.xapi(Method::GET, "agents").query(&[(
        "agent",
        json!({"mbox": "mailto:ann@example.com"}).to_string(),
    )]))
    .await;
    assert!(agents.get("name").is_none(), "{agents}");

    // Their `more` link, used here, serves only this tenant's statements.
    let page: Value = app.get_more(&acme_more).await.json().await.unwrap();
    for s in page["statements"].as_array().unwrap() {
        assert_ne!(
            s["object"]["id"],
            "http://example.com/activities/secret-course"
        );
    }

    // Voiding their statement id voids nothing of theirs.
    let voiding = json!({
        "actor": {"mbox": "mailto:admin@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": id},
    });
    app.store(&voiding).await;
    let still: Value = json_of(
        app.xapi_as(acme, Method::GET, "statements")
            .query(&[("statementId", id.as_str())]),
    )
    .await;
    assert_eq!(
        still["object"]["id"],
        "http://example.com/activities/secret-course"
    );
}

/// The operator's own credentials (configured at start, or created at first start when
/// none is) reach every API of their tenant: the xAPI resources and the gateway's
/// evidence, framework, people and tenant-admin APIs; managing tenants stays with the
/// operator's admin credential.
#[tokio::test]
async fn the_operators_credentials_reach_every_api_of_their_tenant() {
    let configured = TestApp::spawn().await;
    let created = TestApp::spawn_with(|s| s.credentials.clear()).await;
    let initial = created
        .initial_credential
        .clone()
        .expect("created at first start");
    let agent = json!({"mbox": "mailto:ops@example.com"}).to_string();
    for (app, (key, secret)) in [
        (&configured, (KEY, SECRET)),
        (&created, (initial.0.as_str(), initial.1.as_str())),
    ] {
        let get = |path: &str, query: &[(&str, &str)]| {
            app.client
                .get(format!("{}/api/v1/{path}", app.address))
                .basic_auth(key, Some(secret))
                .query(query)
                .send()
        };
        for (path, query) in [
            ("frameworks", vec![]),
            ("profiles", vec![("agent", agent.as_str())]),
            ("people", vec![("agent", agent.as_str())]),
            ("teams", vec![]),
            ("admin/tenants", vec![]),
        ] {
            let status = get(path, &query).await.unwrap().status();
            assert_eq!(status, 200, "{path} with the operator's credential");
        }
        let statements = app
            .xapi_as((key, secret), Method::GET, "statements")
            .send()
            .await
            .unwrap();
        assert_eq!(statements.status(), 200);
        let new_tenant = app
            .client
            .post(format!("{}/api/v1/admin/tenants", app.address))
            .basic_auth(key, Some(secret))
            .json(&json!({"name": "other"}))
            .send()
            .await
            .unwrap();
        assert_eq!(new_tenant.status(), 403, "tenants are the operator admin's");
    }
}
