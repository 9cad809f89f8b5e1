//! The contract functions, each run against every backend by `main.rs`.

use std::collections::BTreeSet;

use bytes::Bytes;
use lrsgate::store::people::LinkedIdentity;
use lrsgate::store::{
    AttachmentData, Credential, Document, DocumentScope, NewStatement, SigningKey, StatementQuery,
    Store, StoreError, DEFAULT_TENANT,
};
use lrsgate::xapi::agent::ifi_key;
use lrsgate::xapi::document::{MissingPrecondition, Preconditions, WriteMode};
use lrsgate::xapi::statement::{prepare, Assigned};
use lrsgate::xapi::XapiVersion;
use serde_json::{json, Value};
use uuid::Uuid;

const T: i64 = DEFAULT_TENANT;
const OTHER_TENANT: i64 = 2;

pub fn agent(name: &str) -> Value {
    json!({"objectType": "Agent", "mbox": format!("mailto:{name}@example.com")})
}

pub fn agent_key(name: &str) -> String {
    ifi_key(&agent(name)).unwrap()
}

pub fn verb(v: &str) -> String {
    format!("http://adlnet.gov/expapi/verbs/{v}")
}

pub fn activity(a: &str) -> String {
    format!("http://example.com/activities/{a}")
}

pub fn statement(actor: &str, v: &str, a: &str) -> Value {
    json!({
        "id": Uuid::new_v4().to_string(),
        "actor": agent(actor),
        "verb": {"id": verb(v)},
        "object": {"objectType": "Activity", "id": activity(a)},
    })
}

/// A statement as ingest hands it to the store, with nothing derived from it.
pub fn prepared(s: Value) -> NewStatement {
    let authority = agent("authority");
    let statement = prepare(
        s,
        &Assigned {
            authority: &authority,
            version: XapiVersion::V1,
        },
    );
    NewStatement {
        statement,
        tags: Vec::new(),
        evidence: Vec::new(),
        teams: Vec::new(),
    }
}

fn query() -> StatementQuery {
    StatementQuery {
        limit: 100,
        ..StatementQuery::default()
    }
}

async fn insert(store: &Store, statements: &[Value]) -> Result<(), StoreError> {
    let batch = statements.iter().cloned().map(prepared).collect();
    store
        .statements
        .insert_statements(T, batch, Vec::new())
        .await
}

async fn insert_one(store: &Store, statement: &Value) -> Result<(), StoreError> {
    insert(store, std::slice::from_ref(statement)).await
}

async fn ids(store: &Store, q: &StatementQuery) -> Vec<String> {
    let page = store.statements.query_statements(T, q, None).await.unwrap();
    assert!(page.next.is_none(), "one page expected");
    page.statements
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

pub fn id_of(s: &Value) -> String {
    s["id"].as_str().unwrap().to_owned()
}

pub async fn a_batch_is_stored_and_read_back_with_stored_set(store: &Store) {
    let a = statement("ann", "completed", "course-1");
    let b = statement("bob", "passed", "course-2");
    insert(store, &[a.clone(), b.clone()]).await.unwrap();
    let got = store
        .statements
        .statement(T, &id_of(&a))
        .await
        .unwrap()
        .unwrap();
    assert!(!got.voided);
    assert_eq!(got.body["verb"], a["verb"]);
    assert!(got.body["stored"].is_string());
    assert!(got.stored_millis > 0);
    assert_eq!(got.body["authority"], agent("authority"));
    // Ids are looked up case-insensitively.
    let upper = id_of(&b).to_uppercase();
    assert!(store
        .statements
        .statement(T, &upper)
        .await
        .unwrap()
        .is_some());
    assert!(store
        .statements
        .statement(T, &Uuid::new_v4().to_string())
        .await
        .unwrap()
        .is_none());
    // Newest first by default.
    assert_eq!(ids(store, &query()).await, vec![id_of(&b), id_of(&a)]);
}

pub async fn the_same_id_with_the_same_content_is_accepted_unchanged(store: &Store) {
    let a = statement("ann", "completed", "course-1");
    insert_one(store, &a).await.unwrap();
    let first = store
        .statements
        .statement(T, &id_of(&a))
        .await
        .unwrap()
        .unwrap();
    insert_one(store, &a).await.unwrap();
    let second = store
        .statements
        .statement(T, &id_of(&a))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.body, second.body, "stored must not change");
    assert_eq!(ids(store, &query()).await.len(), 1);
}

pub async fn the_same_id_with_other_content_fails_the_whole_batch(store: &Store) {
    let a = statement("ann", "completed", "course-1");
    insert_one(store, &a).await.unwrap();
    let mut changed = a.clone();
    changed["verb"]["id"] = json!(verb("failed"));
    let innocent = statement("bob", "passed", "course-2");
    let err = insert(store, &[innocent.clone(), changed])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(store
        .statements
        .statement(T, &id_of(&innocent))
        .await
        .unwrap()
        .is_none());
    assert_eq!(ids(store, &query()).await, vec![id_of(&a)]);
}

pub async fn racing_writers_of_one_statement_id_cannot_both_win(store: &Store) {
    for _ in 0..5 {
        let a = statement("ann", "completed", "course-1");
        let mut b = a.clone();
        b["verb"]["id"] = json!(verb("failed"));
        let (one_a, one_b) = ([a.clone()], [b.clone()]);
        let (ra, rb) = tokio::join!(insert(store, &one_a), insert(store, &one_b));
        let winners = [&ra, &rb].iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "{ra:?} {rb:?}");
        let (winner, loser) = if ra.is_ok() { (&a, rb) } else { (&b, ra) };
        assert!(matches!(loser, Err(StoreError::Conflict(_))), "{loser:?}");
        let stored = store
            .statements
            .statement(T, &id_of(&a))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.body["verb"], winner["verb"],
            "the winner's content is stored"
        );
        // Same content racing: both are accepted, one statement is stored.
        let c = statement("cy", "completed", "course-3");
        let one_c = [c.clone()];
        let (rc, rd) = tokio::join!(insert(store, &one_c), insert(store, &one_c));
        assert!(rc.is_ok() && rd.is_ok(), "{rc:?} {rd:?}");
    }
    let q = StatementQuery {
        agent: Some(agent_key("cy")),
        ..query()
    };
    assert_eq!(ids(store, &q).await.len(), 5);
}

fn voiding(target: &str) -> Value {
    json!({
        "id": Uuid::new_v4().to_string(),
        "actor": agent("admin"),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": target},
    })
}

pub async fn voiding_hides_the_target_but_not_a_voiding_statement(store: &Store) {
    let a = statement("ann", "completed", "course-1");
    insert_one(store, &a).await.unwrap();
    let void_a = voiding(&id_of(&a));
    insert_one(store, &void_a).await.unwrap();
    let target = store
        .statements
        .statement(T, &id_of(&a))
        .await
        .unwrap()
        .unwrap();
    assert!(target.voided);
    assert_eq!(ids(store, &query()).await, vec![id_of(&void_a)]);
    let by_ann = StatementQuery {
        agent: Some(agent_key("ann")),
        ..query()
    };
    assert!(
        ids(store, &by_ann).await.is_empty(),
        "filtered queries skip it too"
    );
    // Voiding a voiding statement has no effect.
    let void_void = voiding(&id_of(&void_a));
    insert_one(store, &void_void).await.unwrap();
    let first_void = store
        .statements
        .statement(T, &id_of(&void_a))
        .await
        .unwrap()
        .unwrap();
    assert!(!first_void.voided);
    assert_eq!(
        ids(store, &query()).await,
        vec![id_of(&void_void), id_of(&void_a)]
    );
}

pub async fn every_filter_is_served_and_combined(store: &Store) {
    let registration = Uuid::new_v4().to_string();
    let mut with_context = statement("ann", "completed", "course-1");
    with_context["context"] = json!({
        "registration": registration,
        "instructor": agent("teacher"),
        "contextActivities": {"parent": [{"id": activity("program")}]},
    });
    let by_bob = statement("bob", "completed", "course-1");
    let other_verb = statement("ann", "passed", "course-2");
    insert(
        store,
        &[with_context.clone(), by_bob.clone(), other_verb.clone()],
    )
    .await
    .unwrap();
    let (c, b, o) = (id_of(&with_context), id_of(&by_bob), id_of(&other_verb));

    let q = StatementQuery {
        agent: Some(agent_key("ann")),
        ..query()
    };
    assert_eq!(ids(store, &q).await, vec![o.clone(), c.clone()]);
    let q = StatementQuery {
        verb: Some(verb("completed")),
        ..query()
    };
    assert_eq!(ids(store, &q).await, vec![b.clone(), c.clone()]);
    let q = StatementQuery {
        activity: Some(activity("course-1")),
        ..query()
    };
    assert_eq!(ids(store, &q).await, vec![b.clone(), c.clone()]);
    let q = StatementQuery {
        registration: Some(registration.clone()),
        ..query()
    };
    assert_eq!(ids(store, &q).await, vec![c.clone()]);
    // Related positions only with the related_* switches.
    let q = StatementQuery {
        agent: Some(agent_key("teacher")),
        ..query()
    };
    assert!(ids(store, &q).await.is_empty());
    let q = StatementQuery {
        agent: Some(agent_key("teacher")),
        related_agents: true,
        ..query()
    };
    assert_eq!(ids(store, &q).await, vec![c.clone()]);
    let q = StatementQuery {
        activity: Some(activity("program")),
        ..query()
    };
    assert!(ids(store, &q).await.is_empty());
    let q = StatementQuery {
        activity: Some(activity("program")),
        related_activities: true,
        ..query()
    };
    assert_eq!(ids(store, &q).await, vec![c.clone()]);
    // Filters combine, and order can be ascending.
    let q = StatementQuery {
        agent: Some(agent_key("ann")),
        verb: Some(verb("completed")),
        activity: Some(activity("course-1")),
        ..query()
    };
    assert_eq!(ids(store, &q).await, vec![c.clone()]);
    let q = StatementQuery {
        ascending: true,
        ..query()
    };
    assert_eq!(ids(store, &q).await, vec![c, b, o]);
}

pub async fn pages_are_stable_while_statements_arrive(store: &Store) {
    let batch: Vec<Value> = (0..7)
        .map(|i| statement("ann", "completed", &format!("course-{i}")))
        .collect();
    insert(store, &batch).await.unwrap();
    for ascending in [false, true] {
        let q = StatementQuery {
            limit: 3,
            ascending,
            ..query()
        };
        let mut seen = Vec::new();
        let mut cursor = None;
        for page_number in 0..10 {
            let page = store
                .statements
                .query_statements(T, &q, cursor)
                .await
                .unwrap();
            seen.extend(page.statements.iter().map(id_of));
            if page_number == 0 {
                insert(store, &[statement("late", "completed", "course-x")])
                    .await
                    .unwrap();
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let mut expected: Vec<String> = batch.iter().map(id_of).collect();
        if !ascending {
            expected.reverse();
        }
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "a statement was listed twice");
        if ascending {
            // Earlier "late" statements are older than the listing's snapshot.
            seen.retain(|id| expected.contains(id));
        }
        assert_eq!(seen, expected);
    }
}

pub async fn since_and_until_bound_by_stored_time(store: &Store) {
    let first = statement("ann", "completed", "course-1");
    insert_one(store, &first).await.unwrap();
    let stored_first = store
        .statements
        .statement(T, &id_of(&first))
        .await
        .unwrap()
        .unwrap()
        .stored_millis;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let second = statement("ann", "completed", "course-2");
    insert_one(store, &second).await.unwrap();
    let q = StatementQuery {
        since_millis: Some(stored_first),
        ..query()
    };
    assert_eq!(ids(store, &q).await, vec![id_of(&second)]);
    let q = StatementQuery {
        until_millis: Some(stored_first),
        ..query()
    };
    assert_eq!(ids(store, &q).await, vec![id_of(&first)]);
    let q = StatementQuery {
        since_millis: Some(stored_first - 1),
        ..query()
    };
    assert_eq!(ids(store, &q).await.len(), 2);
}

pub async fn attachments_are_kept_by_hash(store: &Store) {
    let content = Bytes::from_static(b"attachment body");
    let attachment = AttachmentData {
        sha2: "ab".repeat(32),
        content_type: "text/plain".into(),
        content: content.clone(),
    };
    let batch = vec![prepared(statement("ann", "completed", "course-1"))];
    store
        .statements
        .insert_statements(T, batch, vec![attachment.clone(), attachment.clone()])
        .await
        .unwrap();
    let found = store
        .statements
        .attachments(T, &["ab".repeat(32), "cd".repeat(32)])
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].content, content);
    assert_eq!(found[0].content_type, "text/plain");
    let elsewhere = store
        .statements
        .attachments(OTHER_TENANT, &["ab".repeat(32)])
        .await
        .unwrap();
    assert!(elsewhere.is_empty());
}

pub async fn consistent_through_never_passes_the_present(store: &Store) {
    let a = statement("ann", "completed", "course-1");
    insert_one(store, &a).await.unwrap();
    let stored = store
        .statements
        .statement(T, &id_of(&a))
        .await
        .unwrap()
        .unwrap()
        .stored_millis;
    let through = store.statements.consistent_through().await.unwrap();
    assert!(through <= chrono::Utc::now().timestamp_millis());
    // Once nothing is in flight, the horizon catches up with acknowledged writes.
    let mut caught_up = false;
    for _ in 0..40 {
        if store.statements.consistent_through().await.unwrap() >= stored {
            caught_up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        caught_up,
        "consistent-through stayed behind an acknowledged statement"
    );
}

pub async fn activity_definitions_merge_and_agent_names_accumulate(store: &Store) {
    let mut first = statement("ann", "completed", "course-1");
    first["actor"]["name"] = json!("Ann");
    first["object"]["definition"] = json!({"name": {"en-US": "Course"}});
    let mut second = statement("ann", "completed", "course-1");
    second["actor"]["name"] = json!("Ann Smith");
    second["object"]["definition"] =
        json!({"name": {"fr-FR": "Cours"}, "type": "http://example.com/types/course"});
    insert(store, &[first]).await.unwrap();
    insert(store, &[second]).await.unwrap();
    let definition = store
        .actors
        .activity_definition(T, &activity("course-1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(definition["name"]["en-US"], "Course");
    assert_eq!(definition["name"]["fr-FR"], "Cours");
    assert_eq!(definition["type"], "http://example.com/types/course");
    let mut names = store
        .actors
        .agent_names(T, &agent_key("ann"))
        .await
        .unwrap();
    names.sort();
    assert_eq!(names, vec!["Ann", "Ann Smith"]);
    assert!(store
        .actors
        .activity_definition(OTHER_TENANT, &activity("course-1"))
        .await
        .unwrap()
        .is_none());
}

pub fn document(content: &str, content_type: &str) -> Document {
    Document {
        content_type: content_type.into(),
        content: Bytes::from(content.to_owned()),
        etag: String::new(),
        updated_millis: 0,
    }
}

fn no_preconditions() -> Preconditions {
    Preconditions {
        if_match: None,
        if_none_match: None,
        when_missing: MissingPrecondition::Allowed,
    }
}

fn if_match(etag: &str) -> Preconditions {
    Preconditions {
        if_match: Some(vec![etag.to_owned()]),
        ..no_preconditions()
    }
}

fn state_scope(registration: Option<&str>) -> DocumentScope {
    DocumentScope::State {
        activity_id: activity("course-1"),
        agent: agent_key("ann"),
        registration: registration.map(str::to_owned),
    }
}

pub async fn documents_round_trip_list_merge_and_delete(store: &Store) {
    let docs = &store.documents;
    let scope = state_scope(None);
    let written = docs
        .write_document(
            T,
            &scope,
            "bookmark",
            document("{\"a\":1}", "application/json"),
            WriteMode::Replace,
            &no_preconditions(),
        )
        .await
        .unwrap();
    assert_eq!(written.etag.len(), 40, "SHA-1 hex");
    let merged = docs
        .write_document(
            T,
            &scope,
            "bookmark",
            document("{\"b\":2}", "application/json"),
            WriteMode::Merge,
            &no_preconditions(),
        )
        .await
        .unwrap();
    let value: Value = serde_json::from_slice(&merged.content).unwrap();
    assert_eq!(value, json!({"a": 1, "b": 2}));
    let read = docs.document(T, &scope, "bookmark").await.unwrap().unwrap();
    assert_eq!(read.etag, merged.etag);
    assert_eq!(read.content, merged.content);

    // Byte-exact binary content, in a registration's own space.
    let registered = state_scope(Some(&Uuid::new_v4().to_string()));
    let binary = Document {
        content_type: "application/octet-stream".into(),
        content: Bytes::from_static(&[0, 159, 146, 150, 255]),
        etag: String::new(),
        updated_millis: 0,
    };
    docs.write_document(
        T,
        &registered,
        "blob",
        binary,
        WriteMode::Replace,
        &no_preconditions(),
    )
    .await
    .unwrap();
    let blob = docs
        .document(T, &registered, "blob")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(blob.content.as_ref(), &[0, 159, 146, 150, 255]);

    assert_eq!(
        docs.document_ids(T, &scope, None).await.unwrap(),
        vec!["bookmark"]
    );
    assert_eq!(
        docs.document_ids(T, &registered, None).await.unwrap(),
        vec!["blob"]
    );
    let later = docs
        .document_ids(T, &scope, Some(read.updated_millis))
        .await
        .unwrap();
    assert!(later.is_empty());

    // A stale If-Match fails; deleting the whole scope leaves other scopes alone.
    let stale = docs
        .delete_documents(T, &scope, Some("bookmark"), &if_match(&written.etag))
        .await;
    assert!(
        matches!(stale, Err(StoreError::PreconditionFailed(_))),
        "{stale:?}"
    );
    docs.delete_documents(T, &scope, None, &no_preconditions())
        .await
        .unwrap();
    assert!(docs
        .document(T, &scope, "bookmark")
        .await
        .unwrap()
        .is_none());
    assert!(docs
        .document(T, &registered, "blob")
        .await
        .unwrap()
        .is_some());
    // Deleting what is not there is not an error.
    docs.delete_documents(T, &scope, Some("bookmark"), &no_preconditions())
        .await
        .unwrap();
}

pub async fn document_preconditions_hold_under_racing_writers(store: &Store) {
    let docs = &store.documents;
    let scope = DocumentScope::ActivityProfile {
        activity_id: activity("course-1"),
    };
    let create_only = Preconditions {
        if_none_match: Some(vec!["*".into()]),
        ..no_preconditions()
    };
    // Two creators racing with If-None-Match: * — one wins.
    let (a, b) = tokio::join!(
        docs.write_document(
            T,
            &scope,
            "p",
            document("{\"v\":1}", "application/json"),
            WriteMode::Replace,
            &create_only
        ),
        docs.write_document(
            T,
            &scope,
            "p",
            document("{\"v\":2}", "application/json"),
            WriteMode::Replace,
            &create_only
        ),
    );
    assert_eq!(
        [&a, &b].iter().filter(|r| r.is_ok()).count(),
        1,
        "{a:?} {b:?}"
    );
    let etag = docs.document(T, &scope, "p").await.unwrap().unwrap().etag;
    for round in 0..5 {
        let current = docs.document(T, &scope, "p").await.unwrap().unwrap().etag;
        let guard = if_match(&current);
        let (a, b) = tokio::join!(
            docs.write_document(
                T,
                &scope,
                "p",
                document(&format!("{{\"a\":{round}}}"), "application/json"),
                WriteMode::Replace,
                &guard
            ),
            docs.write_document(
                T,
                &scope,
                "p",
                document(&format!("{{\"b\":{round}}}"), "application/json"),
                WriteMode::Replace,
                &guard
            ),
        );
        let wins = [&a, &b].iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "round {round}: {a:?} {b:?}");
        let loser = if a.is_ok() { b } else { a };
        assert!(matches!(loser, Err(StoreError::PreconditionFailed(_))));
    }
    assert_ne!(
        docs.document(T, &scope, "p").await.unwrap().unwrap().etag,
        etag
    );
    // Concurrent merges without preconditions all land.
    let anything = no_preconditions();
    let merges = (0..6).map(|i| {
        docs.write_document(
            T,
            &scope,
            "m",
            document(&format!("{{\"k{i}\":{i}}}"), "application/json"),
            WriteMode::Merge,
            &anything,
        )
    });
    for result in futures_util::future::join_all(merges).await {
        result.unwrap();
    }
    let merged: Value = serde_json::from_slice(
        &docs
            .document(T, &scope, "m")
            .await
            .unwrap()
            .unwrap()
            .content,
    )
    .unwrap();
    assert_eq!(merged.as_object().unwrap().len(), 6, "{merged}");
}

pub async fn credentials_are_saved_replaced_and_counted(store: &Store) {
    let creds = &store.credentials;
    let before = creds.credential_count().await.unwrap();
    let credential = Credential {
        tenant: T,
        key: "lms".into(),
        secret_hash: "hash-1".into(),
        name: "LMS".into(),
        authority: agent("lms"),
        scopes: "statements/write statements/read/mine".into(),
    };
    creds.save_credential(credential.clone()).await.unwrap();
    creds
        .save_credential(Credential {
            secret_hash: "hash-2".into(),
            ..credential
        })
        .await
        .unwrap();
    let got = creds.credential("lms").await.unwrap().unwrap();
    assert_eq!(got.secret_hash, "hash-2");
    assert_eq!(got.authority, agent("lms"));
    assert_eq!(got.scopes, "statements/write statements/read/mine");
    assert_eq!(creds.credential_count().await.unwrap(), before + 1);
    assert!(creds.credential("nobody").await.unwrap().is_none());

    let listed = creds.credentials(T).await.unwrap();
    assert!(listed.iter().any(|c| c.key == "lms"));
    assert!(creds.credentials(OTHER_TENANT).await.unwrap().is_empty());
    // Only the owning tenant can remove it.
    assert!(!creds.delete_credential(OTHER_TENANT, "lms").await.unwrap());
    assert!(creds.delete_credential(T, "lms").await.unwrap());
    assert!(creds.credential("lms").await.unwrap().is_none());
    assert!(!creds.delete_credential(T, "lms").await.unwrap());
}

pub async fn signing_keys_are_listed_oldest_first(store: &Store) {
    let creds = &store.credentials;
    for (kid, created) in [("k-new", 2_000), ("k-old", 1_000)] {
        let key = SigningKey {
            kid: kid.into(),
            secret: vec![created as u8; 32],
            created_millis: created,
        };
        creds.add_signing_key(key).await.unwrap();
    }
    let keys = creds.signing_keys().await.unwrap();
    let added: Vec<&SigningKey> = keys.iter().filter(|k| k.kid.starts_with("k-")).collect();
    let order: Vec<(&str, i64)> = added
        .iter()
        .map(|k| (k.kid.as_str(), k.created_millis))
        .collect();
    assert_eq!(order, [("k-old", 1_000), ("k-new", 2_000)]);
    assert_eq!(added[0].secret, vec![232_u8; 32]);
}

pub async fn tenants_are_created_with_unique_names(store: &Store) {
    let tenants = &store.tenants;
    let default = tenants.tenant(T).await.unwrap().unwrap();
    assert_eq!(default.name, "default");
    let (a, b) = tokio::join!(tenants.create_tenant("acme"), tenants.create_tenant("acme"));
    let created = [&a, &b].iter().filter(|r| r.is_ok()).count();
    assert_eq!(created, 1, "{a:?} {b:?}");
    let loser = if a.is_ok() { b } else { a };
    assert!(matches!(loser, Err(StoreError::Conflict(_))), "{loser:?}");
    let acme = tenants.tenant_named("acme").await.unwrap().unwrap();
    assert!(acme.id > T && acme.created_millis > 0);
    let globex = tenants.create_tenant("globex").await.unwrap();
    assert_ne!(globex.id, acme.id);
    assert_eq!(tenants.tenant(globex.id).await.unwrap().unwrap(), globex);
    let names: Vec<String> = tenants
        .tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["default", "acme", "globex"]);
    assert!(tenants.tenant_named("initech").await.unwrap().is_none());
}

pub async fn tenants_never_see_each_other(store: &Store) {
    let a = statement("ann", "completed", "course-1");
    insert_one(store, &a).await.unwrap();
    assert!(store
        .statements
        .statement(OTHER_TENANT, &id_of(&a))
        .await
        .unwrap()
        .is_none());
    let page = store
        .statements
        .query_statements(OTHER_TENANT, &query(), None)
        .await
        .unwrap();
    assert!(page.statements.is_empty());
    // The same statement id in another tenant is a different statement.
    let mut theirs = a.clone();
    theirs["verb"]["id"] = json!(verb("failed"));
    store
        .statements
        .insert_statements(OTHER_TENANT, vec![prepared(theirs)], Vec::new())
        .await
        .unwrap();
    let ours = store
        .statements
        .statement(T, &id_of(&a))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ours.body["verb"]["id"], json!(verb("completed")));
    let scope = state_scope(None);
    store
        .documents
        .write_document(
            T,
            &scope,
            "d",
            document("x", "text/plain"),
            WriteMode::Replace,
            &no_preconditions(),
        )
        .await
        .unwrap();
    assert!(store
        .documents
        .document(OTHER_TENANT, &scope, "d")
        .await
        .unwrap()
        .is_none());
    assert!(store
        .documents
        .document_ids(OTHER_TENANT, &scope, None)
        .await
        .unwrap()
        .is_empty());
}

pub async fn linked_identities_move_between_people(store: &Store) {
    let people = &store.people;
    let row = |ifi: &str, person: &str| LinkedIdentity {
        ifi: ifi.into(),
        person: person.into(),
        agent: format!("{{\"mbox\": \"{ifi}\"}}"),
    };
    people
        .link_identities(
            DEFAULT_TENANT,
            vec![row("mbox:a", "p1"), row("mbox:b", "p1")],
        )
        .await
        .unwrap();
    people
        .link_identities(DEFAULT_TENANT, vec![row("mbox:b", "p2")])
        .await
        .unwrap();
    let ifis: Vec<String> = ["mbox:a", "mbox:b", "mbox:c"].map(String::from).to_vec();
    let linked = people.linked_people(DEFAULT_TENANT, &ifis).await.unwrap();
    assert_eq!(
        linked.into_iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([
            ("mbox:a".into(), "p1".into()),
            ("mbox:b".into(), "p2".into())
        ])
    );
    assert_eq!(
        people
            .person_identities(DEFAULT_TENANT, "p1")
            .await
            .unwrap(),
        vec![row("mbox:a", "p1")]
    );
    assert!(people
        .unlink_identity(DEFAULT_TENANT, "mbox:a")
        .await
        .unwrap());
    assert!(!people
        .unlink_identity(DEFAULT_TENANT, "mbox:a")
        .await
        .unwrap());
    assert!(people
        .person_identities(DEFAULT_TENANT, "p1")
        .await
        .unwrap()
        .is_empty());
    assert!(
        people.linked_people(2, &ifis).await.unwrap().is_empty(),
        "another tenant has no links"
    );
}
