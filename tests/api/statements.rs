//! The Statements resource (xAPI 1.0.3 Communication §2.1; IEEE 9274.1.1 statement resource).

use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{agent_param, ids_of, multipart, statement, TestApp};

#[tokio::test]
async fn post_assigns_id_stored_authority_and_version() {
    // Arrange
    let app = TestApp::spawn().await;
    // Act
    let ids = app
        .store(&statement("a@example.com", "completed", "course-1"))
        .await;
    let got: Value = app
        .get_statements(&[("statementId", &ids[0])])
        .await
        .json()
        .await
        .unwrap();
    // Assert: Data 2.4.1 id, 2.4.8 stored, 2.4.9 authority, 2.4.10 version, 2.4.7 timestamp
    assert_eq!(got["id"], json!(ids[0]));
    assert!(got["stored"].as_str().is_some_and(|s| s.ends_with('Z')));
    assert_eq!(got["timestamp"], got["stored"]);
    assert_eq!(got["authority"]["account"]["name"], json!("test-key"));
    assert_eq!(got["version"], json!("1.0.0"));
}

#[tokio::test]
async fn put_is_idempotent_for_the_same_statement_and_409_for_different_content() {
    let app = TestApp::spawn().await;
    let id = Uuid::new_v4().to_string();
    let s = statement("a@example.com", "completed", "course-1");

    assert_eq!(app.put_statement(&id, &s).await.status(), 204);
    // Communication 2.1.1: same id and matching content is not a conflict.
    let mut same = s.clone();
    same["verb"]["display"] = json!({"fr": "terminé"});
    assert_eq!(app.put_statement(&id, &same).await.status(), 204);
    // ...different content is 409 Conflict and changes nothing.
    let other = statement("a@example.com", "failed", "course-1");
    assert_eq!(app.put_statement(&id, &other).await.status(), 409);
    let got: Value = app
        .get_statements(&[("statementId", &id)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        got["verb"]["id"],
        json!("http://adlnet.gov/expapi/verbs/completed")
    );
}

#[tokio::test]
async fn put_needs_a_statement_id_matching_the_body() {
    let app = TestApp::spawn().await;
    let s = statement("a@example.com", "completed", "course-1");
    let missing = app
        .xapi(Method::PUT, "statements")
        .json(&s)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    let mut with_id = s.clone();
    with_id["id"] = json!(Uuid::new_v4().to_string());
    assert_eq!(
        app.put_statement(&Uuid::new_v4().to_string(), &with_id)
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn a_batch_with_one_invalid_statement_stores_nothing() {
    let app = TestApp::spawn().await;
    let good = statement("a@example.com", "completed", "course-1");
    let mut bad = statement("b@example.com", "completed", "course-2");
    bad["verb"]["id"] = json!("not an iri");

    let response = app.post_statements(&json!([good, bad])).await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    // The error names the field (JSON pointer into the batch) and the rule.
    assert_eq!(error["error"]["pointer"], json!("/1/verb/id"));
    assert_eq!(error["error"]["rule"], json!("iri"));
    assert!(app.all_statements(&[]).await.is_empty());
}

#[tokio::test]
async fn a_batch_repeating_an_id_is_rejected() {
    let app = TestApp::spawn().await;
    let id = Uuid::new_v4().to_string();
    let mut a = statement("a@example.com", "completed", "course-1");
    a["id"] = json!(id);
    assert_eq!(
        app.post_statements(&json!([a.clone(), a])).await.status(),
        400
    );
}

#[tokio::test]
async fn schema_violations_name_the_pointer() {
    let app = TestApp::spawn().await;
    let mut s = statement("a@example.com", "completed", "course-1");
    s["actor"]["mbox_sha1sum"] = json!("0123456789012345678901234567890123456789");
    let response = app.post_statements(&s).await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["error"]["pointer"], json!("/actor"));
    assert_eq!(error["error"]["rule"], json!("schema"));
}

#[tokio::test]
async fn voided_statements_are_only_reachable_by_voided_statement_id() {
    let app = TestApp::spawn().await;
    let target = app
        .store(&statement("a@example.com", "completed", "course-1"))
        .await
        .remove(0);
    let voiding = json!({
        "actor": {"mbox": "mailto:admin@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": target}
    });
    let voider = app.store(&voiding).await.remove(0);

    // Data 2.3.2: a voided statement is not returned by statementId or by queries...
    assert_eq!(
        app.get_statements(&[("statementId", &target)])
            .await
            .status(),
        404
    );
    let got: Value = app
        .get_statements(&[("voidedStatementId", &target)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["id"], json!(target));
    let all = ids_of(&app.all_statements(&[]).await);
    assert_eq!(all, vec![voider.clone()]);
    // ...and voidedStatementId does not find a statement that is not voided.
    assert_eq!(
        app.get_statements(&[("voidedStatementId", &voider)])
            .await
            .status(),
        404
    );

    // Voiding a voiding statement has no effect.
    let revoke = json!({
        "actor": {"mbox": "mailto:admin@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": voider}
    });
    app.store(&revoke).await;
    assert_eq!(
        app.get_statements(&[("statementId", &voider)])
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn filters_match_by_agent_verb_activity_and_registration() {
    let app = TestApp::spawn().await;
    let registration = Uuid::new_v4().to_string();
    let mut with_reg = statement("a@example.com", "completed", "course-1");
    with_reg["context"] = json!({"registration": registration, "instructor": {"mbox": "mailto:teacher@example.com"},
                                 "team": {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]},
                                 "contextActivities": {"parent": [{"id": "http://example.com/activities/program"}]}});
    let a1 = app.store(&with_reg).await.remove(0);
    let a2 = app
        .store(&statement("a@example.com", "attempted", "course-2"))
        .await
        .remove(0);
    let b1 = app
        .store(&statement("b@example.com", "completed", "course-2"))
        .await
        .remove(0);

    let q = |pairs: Vec<(&'static str, String)>| pairs;
    let cases = [
        (
            q(vec![("agent", agent_param("a@example.com"))]),
            vec![a2.clone(), a1.clone()],
        ),
        (
            q(vec![(
                "verb",
                "http://adlnet.gov/expapi/verbs/completed".into(),
            )]),
            vec![b1.clone(), a1.clone()],
        ),
        (
            q(vec![(
                "activity",
                "http://example.com/activities/course-2".into(),
            )]),
            vec![b1.clone(), a2.clone()],
        ),
        (
            q(vec![("registration", registration.clone())]),
            vec![a1.clone()],
        ),
        (
            q(vec![
                ("agent", agent_param("a@example.com")),
                ("verb", "http://adlnet.gov/expapi/verbs/completed".into()),
            ]),
            vec![a1.clone()],
        ),
        // related_agents widens agent to instructor (and authority, team, ...).
        (
            q(vec![("agent", agent_param("teacher@example.com"))]),
            vec![],
        ),
        (
            q(vec![
                ("agent", agent_param("teacher@example.com")),
                ("related_agents", "true".into()),
            ]),
            vec![a1.clone()],
        ),
        // related_activities widens activity to context activities.
        (
            q(vec![(
                "activity",
                "http://example.com/activities/program".into(),
            )]),
            vec![],
        ),
        (
            q(vec![
                ("activity", "http://example.com/activities/program".into()),
                ("related_activities", "true".into()),
            ]),
            vec![a1.clone()],
        ),
        // related_* still finds the direct positions, once each.
        (
            q(vec![
                ("agent", agent_param("a@example.com")),
                ("related_agents", "true".into()),
            ]),
            vec![a2.clone(), a1.clone()],
        ),
        (
            q(vec![
                ("activity", "http://example.com/activities/course-2".into()),
                ("related_activities", "true".into()),
            ]),
            vec![b1.clone(), a2.clone()],
        ),
        (
            q(vec![("ascending", "true".into())]),
            vec![a1.clone(), a2.clone(), b1.clone()],
        ),
    ];
    for (query, expected) in cases {
        let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            ids_of(&app.all_statements(&pairs).await),
            expected,
            "query {pairs:?}"
        );
    }
}

#[tokio::test]
async fn since_and_until_bound_stored() {
    let app = TestApp::spawn().await;
    let first = app
        .store(&statement("a@example.com", "completed", "c1"))
        .await
        .remove(0);
    let got: Value = app
        .get_statements(&[("statementId", &first)])
        .await
        .json()
        .await
        .unwrap();
    let stored = got["stored"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let second = app
        .store(&statement("a@example.com", "completed", "c2"))
        .await
        .remove(0);

    assert_eq!(
        ids_of(&app.all_statements(&[("since", &stored)]).await),
        vec![second.clone()]
    );
    assert_eq!(
        ids_of(&app.all_statements(&[("until", &stored)]).await),
        vec![first.clone()]
    );
}

#[tokio::test]
async fn more_pages_stay_consistent_while_statements_arrive() {
    let app = TestApp::spawn().await;
    let batch: Vec<Value> = (0..25)
        .map(|i| statement("a@example.com", "completed", &format!("c{i}")))
        .collect();
    let mut ids = app.store(&json!(batch)).await;
    ids.reverse(); // newest first

    let page: Value = app
        .get_statements(&[("limit", "10")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["statements"].as_array().unwrap().len(), 10);
    // Statements stored after the first page do not shift the following pages.
    app.store(&statement("late@example.com", "completed", "late"))
        .await;
    let mut seen = ids_of(page["statements"].as_array().unwrap());
    let mut more = page["more"].as_str().unwrap().to_owned();
    while !more.is_empty() {
        assert!(
            more.starts_with("/xapi/statements?more="),
            "relative more link: {more}"
        );
        let next: Value = app.get_more(&more).await.json().await.unwrap();
        seen.extend(ids_of(next["statements"].as_array().unwrap()));
        more = next["more"].as_str().unwrap().to_owned();
    }
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn formats_ids_and_canonical() {
    let app = TestApp::spawn().await;
    let mut s = statement("a@example.com", "completed", "course-1");
    s["verb"]["display"] = json!({"en-US": "completed", "de-DE": "abgeschlossen"});
    let id = app.store(&s).await.remove(0);

    let ids: Value = app
        .get_statements(&[("statementId", &id), ("format", "ids")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        ids["actor"],
        json!({"objectType": "Agent", "mbox": "mailto:a@example.com"})
    );
    assert_eq!(
        ids["object"],
        json!({"id": "http://example.com/activities/course-1"})
    );
    assert_eq!(
        ids["verb"],
        json!({"id": "http://adlnet.gov/expapi/verbs/completed"})
    );

    let canonical: Value = app
        .xapi(Method::GET, "statements")
        .query(&[("statementId", id.as_str()), ("format", "canonical")])
        .header("Accept-Language", "de")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        canonical["verb"]["display"],
        json!({"de-DE": "abgeschlossen"})
    );
}

#[tokio::test]
async fn get_rejects_unknown_and_conflicting_parameters() {
    let app = TestApp::spawn().await;
    let id = Uuid::new_v4().to_string();
    assert_eq!(app.get_statements(&[("color", "blue")]).await.status(), 400);
    assert_eq!(
        app.get_statements(&[("statementId", &id), ("verb", "http://v/x")])
            .await
            .status(),
        400
    );
    assert_eq!(
        app.get_statements(&[("statementId", &id), ("voidedStatementId", &id)])
            .await
            .status(),
        400
    );
    assert_eq!(app.get_statements(&[("limit", "-1")]).await.status(), 400);
    assert_eq!(
        app.get_statements(&[("since", "yesterday")]).await.status(),
        400
    );
    assert_eq!(
        app.get_statements(&[("statementId", &id)]).await.status(),
        404
    );
}

/// 1.0.3 Communication 2.1.3.s2.b5: every answer of the Statements resource carries
/// X-Experience-API-Consistent-Through, writes and errors included.
#[tokio::test]
async fn statement_writes_and_errors_carry_consistent_through() {
    let app = TestApp::spawn().await;
    let posted = app
        .post_statements(&statement("a@example.com", "completed", "c"))
        .await;
    let refused = app
        .post_statements(&json!({"verb": "not a statement"}))
        .await;
    assert_eq!(
        (posted.status().as_u16(), refused.status().as_u16()),
        (200, 400)
    );
    for response in [posted, refused] {
        assert!(response
            .headers()
            .contains_key("x-experience-api-consistent-through"));
    }
}

/// 1.0.3 Communication 2.1.3 (Agent filter): a Group whose member has the identifier
/// matches as actor or object; the same agent as a team member matches only with
/// `related_agents`.
#[tokio::test]
async fn the_agent_filter_matches_groups_with_that_member() {
    let app = TestApp::spawn().await;
    let member = json!({"mbox": "mailto:m@example.com"});
    let group =
        json!({"objectType": "Group", "member": [member, {"mbox": "mailto:n@example.com"}]});
    let mut by_group = statement("x@example.com", "completed", "c");
    by_group["actor"] = group.clone();
    let mut with_team = statement("y@example.com", "completed", "c");
    with_team["context"] = json!({"team": group});
    let ids = app.store(&json!([by_group, with_team])).await;
    let agent = member.to_string();
    let found = app.all_statements(&[("agent", agent.as_str())]).await;
    assert_eq!(ids_of(&found), vec![ids[0].clone()]);
    let related = app
        .all_statements(&[("agent", agent.as_str()), ("related_agents", "true")])
        .await;
    assert_eq!(ids_of(&related).len(), 2);
}

#[tokio::test]
async fn statement_gets_carry_consistent_through_and_last_modified() {
    let app = TestApp::spawn().await;
    let id = app
        .store(&statement("a@example.com", "completed", "c"))
        .await
        .remove(0);
    for query in [vec![("statementId", id.as_str())], vec![]] {
        let response = app.get_statements(&query).await;
        assert!(response
            .headers()
            .contains_key("x-experience-api-consistent-through"));
        assert!(response.headers().contains_key("last-modified"));
        assert_eq!(response.headers()["x-experience-api-version"], "1.0.3");
    }
    let head = app
        .xapi(Method::HEAD, "statements")
        .query(&[("statementId", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert!(head.bytes().await.unwrap().is_empty());
}

/// Communication 2.1.3: `format=exact` (the default) returns statements as stored; a page's
/// Last-Modified is the newest `stored` on it (2.1.3, "Last-Modified" header). Pages shown
/// exactly are sent from the stored text, so they must match the single-statement GET.
#[tokio::test]
async fn exact_pages_show_each_statement_as_its_single_get_does() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for (n, who) in ["a", "b", "c"].iter().enumerate() {
        let mut s = statement(&format!("{who}@example.com"), "completed", "course-9");
        s["result"] = json!({"score": {"scaled": 0.5 + n as f64 / 10.0}, "success": true});
        s["object"]["definition"] = json!({"name": {"en-US": "Caf\u{e9} \"quoted\" course"}});
        ids.extend(app.store(&s).await);
    }
    let mut pages = Vec::new();
    let first = app
        .get_statements(&[("limit", "2"), ("format", "exact")])
        .await;
    assert_eq!(first.headers()["content-type"], "application/json");
    let last_modified = first.headers()["last-modified"].clone();
    let first: Value = first.json().await.unwrap();
    let more = first["more"].as_str().unwrap().to_owned();
    assert!(more.starts_with("/xapi/statements?more="), "{more}");
    pages.push(first);
    pages.push(app.get_more(&more).await.json().await.unwrap());
    assert_eq!(pages[1]["more"], "");
    let shown: Vec<Value> = pages
        .iter()
        .flat_map(|p| p["statements"].as_array().unwrap().clone())
        .collect();
    assert_eq!(
        ids_of(&shown),
        ids.iter().rev().cloned().collect::<Vec<_>>()
    );
    for s in &shown {
        let id = s["id"].as_str().unwrap();
        let single: Value = app
            .get_statements(&[("statementId", id)])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(s, &single);
    }
    let newest = app
        .get_statements(&[("statementId", ids[2].as_str())])
        .await
        .headers()["last-modified"]
        .clone();
    assert_eq!(last_modified, newest);
}

fn with_attachment(content: &[u8]) -> (Value, String) {
    use sha2::Digest;
    let hash = hex::encode(sha2::Sha256::digest(content));
    let mut s = statement("a@example.com", "completed", "course-1");
    s["attachments"] = json!([{
        "usageType": "http://example.com/attachment-usage/test",
        "display": {"en-US": "notes"},
        "contentType": "text/plain",
        "length": content.len(),
        "sha2": hash
    }]);
    (s, hash)
}

#[tokio::test]
async fn attachments_round_trip_as_multipart_mixed() {
    let app = TestApp::spawn().await;
    let content = b"here are my notes";
    let (s, hash) = with_attachment(content);
    let body = multipart("xyzzy", &s, &[(&hash, "text/plain", content)]);
    let response = app
        .xapi(Method::POST, "statements")
        .header("Content-Type", "multipart/mixed; boundary=xyzzy")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let id: Vec<String> = response.json().await.unwrap();

    let got = app
        .get_statements(&[("statementId", &id[0]), ("attachments", "true")])
        .await;
    let content_type = got.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("multipart/mixed; boundary="));
    let text = String::from_utf8(got.bytes().await.unwrap().to_vec()).unwrap();
    assert!(text.contains("here are my notes"));
    assert!(text.contains(&format!("X-Experience-API-Hash: {hash}")));
}

#[tokio::test]
async fn attachments_must_match_their_declaration() {
    let app = TestApp::spawn().await;
    let (s, hash) = with_attachment(b"real content");
    // Communication 2.1.4: a declared attachment without fileUrl needs its part...
    let missing = app.post_statements(&s).await;
    assert_eq!(missing.status(), 400);
    // ...and a part must hash to what it declares.
    let body = multipart("b", &s, &[(&hash, "text/plain", b"other content")]);
    let wrong = app
        .xapi(Method::POST, "statements")
        .header("Content-Type", "multipart/mixed; boundary=b")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 400);
    assert!(app.all_statements(&[]).await.is_empty());
}

#[tokio::test]
async fn statements_of_either_version_are_kept_with_their_version() {
    let app = TestApp::spawn().await.with_version("2.0.0");
    let mut s = statement("a@example.com", "completed", "course-1");
    s["context"] = json!({"contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:peer@example.com"}}]});
    let id = app.store(&s).await.remove(0);
    let response = app.get_statements(&[("statementId", &id)]).await;
    assert_eq!(response.headers()["x-experience-api-version"], "2.0.0");
    let got: Value = response.json().await.unwrap();
    assert_eq!(got["version"], json!("2.0.0"));
    // contextAgents count as related agents.
    let related = app
        .all_statements(&[
            ("agent", &agent_param("peer@example.com")),
            ("related_agents", "true"),
        ])
        .await;
    assert_eq!(ids_of(&related), vec![id]);
    // A 1.0.3 client cannot send 2.0-only properties.
    let old = TestApp::spawn().await;
    assert_eq!(old.post_statements(&s).await.status(), 400);
}

/// IEEE 9274.1.1 4.2.1: a statement with a property given twice in one object is refused,
/// naming the property; nothing is stored.
#[tokio::test]
async fn a_property_given_twice_is_refused() {
    let app = TestApp::spawn().await;
    let id = Uuid::new_v4().to_string();
    let body = format!(
        r#"{{"id": "{id}", "actor": {{"mbox": "mailto:a@example.com", "mbox": "mailto:b@example.com"}},
            "verb": {{"id": "http://adlnet.gov/expapi/verbs/completed"}},
            "object": {{"id": "http://example.com/c"}}}}"#
    );
    let refused = app
        .xapi(Method::POST, "statements")
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["pointer"], "/actor/mbox");
    assert_eq!(error["error"]["rule"], "duplicate-property");
    assert_eq!(
        app.get_statements(&[("statementId", &id)]).await.status(),
        404
    );
}

/// 1.0.3 Communication 2.1.3.s3: the StatementRef rule applies recursively — a statement
/// about a statement about a matching statement matches too.
#[tokio::test]
async fn statement_refs_match_through_a_chain() {
    let app = TestApp::spawn().await;
    let target = app
        .store(&statement("a@example.com", "completed", "chained"))
        .await
        .remove(0);
    let about = |id: &str| {
        json!({"actor": {"mbox": "mailto:b@example.com"},
               "verb": {"id": "http://example.com/verbs/commented"},
               "object": {"objectType": "StatementRef", "id": id}})
    };
    let first = app.store(&about(&target)).await.remove(0);
    let second = app.store(&about(&first)).await.remove(0);
    let activity = "http://example.com/activities/chained";
    let found = app.all_statements(&[("activity", activity)]).await;
    let ids = ids_of(&found);
    assert!(
        [&target, &first, &second].iter().all(|id| ids.contains(id)),
        "{ids:?}"
    );
}
