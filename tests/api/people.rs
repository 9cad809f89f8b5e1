//! People: identities linked into one person through `/api/v1/people`, and the xAPI Agents
//! resource answering the Person of all of them.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{json_of, Caller, TestApp};

fn mbox() -> Value {
    json!({ "objectType": "Agent", "mbox": "mailto:jane@example.com" })
}

fn lms() -> Value {
    json!({ "account": { "homePage": "https://lms.example.com", "name": "jdoe" } })
}

fn linkedin() -> Value {
    json!({ "account": { "homePage": "https://www.linkedin.com", "name": "urn:li:person:8f2" } })
}

fn identities(person: &Value) -> usize {
    person["identities"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn identities_link_into_one_person_that_the_agents_resource_shows() {
    let app = TestApp::spawn().await;
    let hr = Caller::of(&app, "default", &["all", "evidence:read", "people:write"]).await;
    for (agent, name) in [(lms(), "Jane Doe"), (linkedin(), "Jane D.")] {
        let mut actor = agent.clone();
        actor["name"] = json!(name);
        let statement = json!({
            "actor": actor,
            "verb": { "id": "http://adlnet.gov/expapi/verbs/completed" },
            "object": { "id": "https://courses.example.com/onboarding" }
        });
        assert_eq!(app.post_statements(&statement).await.status(), 200);
    }

    // Unlinked, every identity is a person of its own.
    let alone = hr.person(&mbox()).await;
    assert_eq!(identities(&alone), 1);
    assert_ne!(alone["id"], hr.person(&lms()).await["id"]);

    let (status, linked) = hr
        .send(
            Method::POST,
            "people/link",
            &[],
            Some(&json!({ "agents": [mbox(), lms(), linkedin()] })),
        )
        .await;
    assert_eq!(status, 200, "{linked}");
    assert_eq!(
        linked["id"], alone["id"],
        "the first agent's person is kept"
    );
    assert_eq!(identities(&linked), 3);
    assert_eq!(hr.person(&linkedin()).await["id"], alone["id"]);

    // xAPI 1.0.3 Agents resource: the Person object of every identity of the agent.
    let person: Value = json_of(
        app.xapi(Method::GET, "agents")
            .query(&[("agent", lms().to_string())]),
    )
    .await;
    assert_eq!(person["objectType"], "Person");
    assert_eq!(person["mbox"], json!(["mailto:jane@example.com"]));
    assert_eq!(person["account"].as_array().map(Vec::len), Some(2));
    let names: Vec<&str> = person["name"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        names.contains(&"Jane Doe") && names.contains(&"Jane D."),
        "{names:?}"
    );

    // Unlinking the identity the person was named after: the others keep being one person.
    let id = alone["id"].as_str().unwrap_or_default();
    assert_eq!(hr.unlink(id, &mbox()).await, 204);
    let rest = hr.person(&lms()).await;
    assert_eq!(identities(&rest), 2);
    assert_ne!(rest["id"], alone["id"]);
    assert_eq!(hr.person(&linkedin()).await["id"], rest["id"]);
    assert_eq!(identities(&hr.person(&mbox()).await), 1);
}

#[tokio::test]
async fn linking_checks_its_agents_scopes_and_tenant() {
    let app = TestApp::spawn().await;
    let hr = Caller::of(&app, "acme", &["evidence:read", "people:write"]).await;
    let cases = [
        (json!({ "agents": [mbox()] }), "/agents"),
        (
            json!({ "agents": [mbox(), { "objectType": "Group", "member": [] }] }),
            "/agents/1",
        ),
        (
            json!({ "agents": [mbox(), { "name": "no identifier" }] }),
            "/agents/1",
        ),
    ];
    for (body, pointer) in cases {
        let (status, answer) = hr.send(Method::POST, "people/link", &[], Some(&body)).await;
        assert_eq!(
            (status, answer["error"]["pointer"].as_str()),
            (400, Some(pointer)),
            "{body}"
        );
    }
    let (_, linked) = hr
        .send(
            Method::POST,
            "people/link",
            &[],
            Some(&json!({ "agents": [mbox(), lms()] })),
        )
        .await;
    let id = linked["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        hr.send(Method::GET, &format!("people/{id}"), &[], None)
            .await
            .0,
        200
    );
    assert_eq!(
        hr.unlink(&id, &linkedin()).await,
        404,
        "not one of the person's identities"
    );

    let other = Caller::of(&app, "globex", &["evidence:read", "people:write"]).await;
    assert_eq!(
        other
            .send(Method::GET, &format!("people/{id}"), &[], None)
            .await
            .0,
        404
    );
    assert_eq!(identities(&other.person(&lms()).await), 1);

    let reader = Caller::of(&app, "acme", &["all"]).await;
    assert_eq!(
        reader
            .send(
                Method::GET,
                "people",
                &[("agent", mbox().to_string())],
                None
            )
            .await
            .0,
        403
    );
    let (status, _) = reader
        .send(
            Method::POST,
            "people/link",
            &[],
            Some(&json!({ "agents": [mbox(), lms()] })),
        )
        .await;
    assert_eq!(status, 403);
}
