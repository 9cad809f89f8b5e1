//! `lrsgate migrate`: a store copied to the other backend and back answers every query as
//! the original did, and the copy is verified by count and checksum.

use std::process::Command;

use bytes::Bytes;
use indicatif::ProgressBar;
use lrsgate::competency::{Alignment, Method, Tag};
use lrsgate::migrate::{copy_store, MigrationReport};
use lrsgate::store::competency::{FrameworkRecord, RuleRecord};
use lrsgate::store::evidence::{Team, TeamOrigin};
use lrsgate::store::people::LinkedIdentity;
use lrsgate::store::transfer::RecordKind;
use lrsgate::store::{
    AttachmentData, Credential, DocumentScope, StatementQuery, Store, DEFAULT_TENANT,
};
use lrsgate::xapi::document::{MissingPrecondition, Preconditions, WriteMode};
use serde_json::{json, Value};

use crate::contract::{activity, agent, agent_key, document, id_of, prepared, statement, verb};
use crate::records::stored;

const T: i64 = DEFAULT_TENANT;
const OTHER: i64 = 2;
/// More statements than one export page holds.
const BULK: usize = 2_345;

fn hidden(_: u64, _: &'static str) -> ProgressBar {
    ProgressBar::hidden()
}

/// Every kind of record, in both tenants: statements in several pages (one with an
/// attachment, one voided, one with related agents and activities and a registration),
/// merged activity definitions, agent names, documents of all three scopes, credentials.
async fn fill(store: &Store) -> (String, String) {
    for chunk in 0..BULK.div_ceil(100) {
        let batch = (0..100.min(BULK - chunk * 100))
            .map(|n| {
                prepared(statement(
                    &format!("learner{}", n % 7),
                    "completed",
                    "course-1",
                ))
            })
            .collect();
        store
            .statements
            .insert_statements(T, batch, Vec::new())
            .await
            .unwrap();
    }
    let mut rich = statement("ann", "attended", "meeting-1");
    rich["context"] = json!({
        "registration": "6fbd2e3a-0f3c-4c6e-9c5b-3c1c34b4f0a1",
        "instructor": agent("tutor"),
        "contextActivities": {"parent": [{"id": activity("programme")}]},
    });
    rich["object"]["definition"] = json!({"name": {"en-US": "Kick-off"}});
    rich["attachments"] = json!([{
        "usageType": "http://example.com/usage/slides",
        "display": {"en-US": "slides"},
        "contentType": "text/plain",
        "length": 6,
        "sha2": "ab".repeat(32),
    }]);
    let attachment = AttachmentData {
        sha2: "ab".repeat(32),
        content_type: "text/plain".into(),
        content: Bytes::from_static(b"slides"),
    };
    let tags = vec![Tag {
        item: "https://skills.example.com/meetings".into(),
        framework: "https://skills.example.com".into(),
        confidence: 0.75,
        method: Method::Text,
        rule: None,
        detail: Some("\"kick-off\" in name".into()),
    }];
    let tagged = stored(rich.clone(), tags, Vec::new(), Vec::new());
    store
        .statements
        .insert_statements(T, vec![tagged], vec![attachment])
        .await
        .unwrap();
    let mut named = statement("bob", "attended", "meeting-1");
    named["actor"]["name"] = json!("Bob");
    named["object"]["definition"] = json!({"description": {"en-US": "The first meeting"}});
    let doomed = statement("cy", "failed", "course-1");
    store
        .statements
        .insert_statements(
            T,
            vec![prepared(named), prepared(doomed.clone())],
            Vec::new(),
        )
        .await
        .unwrap();
    let voiding = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "actor": agent("admin"),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": id_of(&doomed)},
    });
    store
        .statements
        .insert_statements(T, vec![prepared(voiding)], Vec::new())
        .await
        .unwrap();
    store
        .statements
        .insert_statements(
            OTHER,
            vec![prepared(statement("dee", "completed", "course-9"))],
            Vec::new(),
        )
        .await
        .unwrap();

    let anyone = Preconditions {
        if_match: None,
        if_none_match: None,
        when_missing: MissingPrecondition::Allowed,
    };
    let scopes = [
        DocumentScope::State {
            activity_id: activity("course-1"),
            agent: agent_key("ann"),
            registration: Some("6fbd2e3a-0f3c-4c6e-9c5b-3c1c34b4f0a1".into()),
        },
        DocumentScope::ActivityProfile {
            activity_id: activity("course-1"),
        },
        DocumentScope::AgentProfile {
            agent: agent_key("ann"),
        },
    ];
    for (tenant, scope) in [
        (T, &scopes[0]),
        (T, &scopes[1]),
        (T, &scopes[2]),
        (OTHER, &scopes[1]),
    ] {
        store
            .documents
            .write_document(
                tenant,
                scope,
                "bookmark",
                document("{\"page\": 3}", "application/json"),
                WriteMode::Replace,
                &anyone,
            )
            .await
            .unwrap();
    }
    let mut binary = document("", "application/octet-stream");
    binary.content = Bytes::from_static(&[0, 159, 146, 150, 255]);
    store
        .documents
        .write_document(T, &scopes[1], "blob", binary, WriteMode::Replace, &anyone)
        .await
        .unwrap();
    store.tenants.create_tenant("other").await.unwrap();
    for (tenant, key) in [(T, "lms"), (OTHER, "other-lms")] {
        store
            .credentials
            .save_credential(Credential {
                tenant,
                key: key.into(),
                secret_hash: format!("hash-of-{key}"),
                name: key.to_uppercase(),
                authority: agent(key),
                scopes: "statements/write state".into(),
            })
            .await
            .unwrap();
    }
    let competencies = &store.competencies;
    competencies
        .insert_framework(
            T,
            FrameworkRecord {
                id: "framework-1".into(),
                iri: "https://skills.example.com".into(),
                version: "3".into(),
                active: false,
                body: "{\"iri\": \"https://skills.example.com\"}".into(),
                created_millis: 1_000,
                updated_millis: 2_000,
            },
        )
        .await
        .unwrap();
    let rule = RuleRecord {
        id: "meetings".into(),
        body: "{\"id\": \"meetings\"}".into(),
        updated_millis: 3_000,
    };
    competencies.put_rule(OTHER, rule).await.unwrap();
    let alignment = Alignment {
        item: "https://skills.example.com/meetings".into(),
        confidence: 0.8,
        source: Some("catalog".into()),
    };
    competencies
        .put_alignments(T, &activity("meeting-1"), vec![alignment])
        .await
        .unwrap();
    let linked = [
        "mbox:mailto:ann@example.com",
        "account:https://lms.example.com|ann",
    ]
    .map(|ifi| LinkedIdentity {
        ifi: ifi.into(),
        person: "ann".into(),
        agent: "{}".into(),
    });
    store
        .people
        .link_identities(OTHER, linked.to_vec())
        .await
        .unwrap();
    let team = Team {
        id: "team-1".into(),
        name: "Platform".into(),
        origin: TeamOrigin::Api,
        group: None,
        members: vec![("mbox:mailto:ann@example.com".into(), "{}".into())],
    };
    store.evidence.put_team(OTHER, team).await.unwrap();
    (id_of(&rich), id_of(&doomed))
}

/// Everything a client could read, in one value, to compare two stores by.
async fn observe(store: &Store, rich: &str, doomed: &str) -> Value {
    let mut seen = serde_json::Map::new();
    let queries = [
        ("all", StatementQuery::default()),
        (
            "by tutor, related",
            StatementQuery {
                agent: Some(agent_key("tutor")),
                related_agents: true,
                ..StatementQuery::default()
            },
        ),
        (
            "in the programme, related",
            StatementQuery {
                activity: Some(activity("programme")),
                related_activities: true,
                ..StatementQuery::default()
            },
        ),
        (
            "by registration, ascending",
            StatementQuery {
                registration: Some("6fbd2e3a-0f3c-4c6e-9c5b-3c1c34b4f0a1".into()),
                ascending: true,
                ..StatementQuery::default()
            },
        ),
        (
            "completed by learner3",
            StatementQuery {
                agent: Some(agent_key("learner3")),
                verb: Some(verb("completed")),
                ..StatementQuery::default()
            },
        ),
    ];
    for (name, mut q) in queries {
        q.limit = 500;
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = store
                .statements
                .query_statements(T, &q, cursor)
                .await
                .unwrap();
            all.extend(page.statements);
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        seen.insert(name.into(), Value::Array(all));
    }
    let voided = store
        .statements
        .statement(T, doomed)
        .await
        .unwrap()
        .unwrap();
    seen.insert(
        "voided".into(),
        json!([voided.voided, voided.stored_millis, voided.body]),
    );
    let stored = store.statements.statement(T, rich).await.unwrap().unwrap();
    seen.insert("rich stored".into(), json!(stored.stored_millis));
    let attachments = store
        .statements
        .attachments(T, &["ab".repeat(32)])
        .await
        .unwrap();
    seen.insert(
        "attachments".into(),
        json!(attachments
            .iter()
            .map(|a| json!([a.sha2, a.content_type, a.content.to_vec()]))
            .collect::<Vec<_>>()),
    );
    seen.insert(
        "other tenant".into(),
        json!(
            store
                .statements
                .query_statements(
                    OTHER,
                    &StatementQuery {
                        limit: 10,
                        ..StatementQuery::default()
                    },
                    None
                )
                .await
                .unwrap()
                .statements
        ),
    );
    seen.insert(
        "activity".into(),
        json!(store
            .actors
            .activity_definition(T, &activity("meeting-1"))
            .await
            .unwrap()),
    );
    seen.insert(
        "names".into(),
        json!(store
            .actors
            .agent_names(T, &agent_key("bob"))
            .await
            .unwrap()),
    );
    let profile = DocumentScope::ActivityProfile {
        activity_id: activity("course-1"),
    };
    for id in ["bookmark", "blob"] {
        let d = store
            .documents
            .document(T, &profile, id)
            .await
            .unwrap()
            .unwrap();
        seen.insert(
            format!("document {id}"),
            json!([d.content_type, d.content.to_vec(), d.etag, d.updated_millis]),
        );
    }
    let mut ids = store
        .documents
        .document_ids(T, &profile, None)
        .await
        .unwrap();
    ids.sort();
    seen.insert("document ids".into(), json!(ids));
    let c = store
        .credentials
        .credential("other-lms")
        .await
        .unwrap()
        .unwrap();
    seen.insert(
        "credential".into(),
        json!([c.tenant, c.secret_hash, c.name, c.authority, c.scopes]),
    );
    let competencies = &store.competencies;
    seen.insert(
        "competencies".into(),
        json!([
            competencies.statement_tags(T, rich).await.unwrap(),
            format!("{:?}", competencies.frameworks(T).await.unwrap()),
            format!("{:?}", competencies.rules(OTHER).await.unwrap()),
            format!("{:?}", competencies.catalog(T, None, 10).await.unwrap()),
            competencies.tagging_revision(T).await.unwrap(),
            competencies.tagging_revision(OTHER).await.unwrap(),
            format!(
                "{:?}",
                store.people.person_identities(OTHER, "ann").await.unwrap()
            ),
            format!("{:?}", store.evidence.teams(OTHER, None, 10).await.unwrap()),
        ]),
    );
    let tenants = store.tenants.tenants().await.unwrap();
    seen.insert(
        "tenants".into(),
        json!(tenants
            .iter()
            .map(|t| json!([t.id, t.name, t.created_millis]))
            .collect::<Vec<_>>()),
    );
    Value::Object(seen)
}

fn assert_verified(report: &MigrationReport, statements: u64) {
    assert!(report.verified(), "{report:?}");
    let count = |kind| {
        report
            .kinds
            .iter()
            .find(|k| k.kind == kind)
            .unwrap()
            .target
            .count
    };
    assert_eq!(count(RecordKind::Statements), statements);
    assert_eq!(count(RecordKind::Credentials), 2);
    assert_eq!(count(RecordKind::Tenants), 2);
    assert_eq!(count(RecordKind::Attachments), 1);
    assert_eq!(count(RecordKind::Documents), 5);
}

async fn sqlite_at(dir: &tempfile::TempDir, name: &str) -> Store {
    Store::open(&format!("sqlite://{}", dir.path().join(name).display()))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_answers_every_query_as_the_original_and_refuses_a_second_copy() {
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_at(&dir, "source.db").await;
    let (rich, doomed) = fill(&source).await;
    let expected = observe(&source, &rich, &doomed).await;
    let statements = BULK as u64 + 5;

    let copy = sqlite_at(&dir, "copy.db").await;
    let report = copy_store(&source, &copy, hidden).await.unwrap();
    assert_verified(&report, statements);
    assert_eq!(observe(&copy, &rich, &doomed).await, expected);

    let again = copy_store(&source, &copy, hidden).await.unwrap_err();
    assert!(again.to_string().contains("already holds"), "{again:#}");

    // The copy goes on storing after the copied statements, in order.
    let late = statement("learner3", "completed", "course-1");
    copy.statements
        .insert_statements(T, vec![prepared(late.clone())], Vec::new())
        .await
        .unwrap();
    let newest = copy
        .statements
        .query_statements(
            T,
            &StatementQuery {
                limit: 1,
                ..StatementQuery::default()
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(id_of(&newest.statements[0]), id_of(&late));
}

#[cfg(feature = "mongodb")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_to_mongodb_and_back_keeps_every_record() {
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_at(&dir, "source.db").await;
    let (rich, doomed) = fill(&source).await;
    let expected = observe(&source, &rich, &doomed).await;
    let statements = BULK as u64 + 5;

    let mongo = Store::open(&crate::mongodb_server::fresh_database_url())
        .await
        .unwrap();
    let there = copy_store(&source, &mongo, hidden).await.unwrap();
    assert_verified(&there, statements);
    assert_eq!(observe(&mongo, &rich, &doomed).await, expected);

    let back = sqlite_at(&dir, "back.db").await;
    let returned = copy_store(&mongo, &back, hidden).await.unwrap();
    assert_verified(&returned, statements);
    assert_eq!(observe(&back, &rich, &doomed).await, expected);
    for (a, b) in there.kinds.iter().zip(&returned.kinds) {
        assert_eq!(a.source, b.target, "{:?} changed on the way", a.kind);
    }
}

/// The command itself: exit status, the verification table, and a clear refusal.
#[test]
fn the_migrate_command_copies_verifies_and_refuses_a_full_target() {
    let dir = tempfile::tempdir().unwrap();
    let url = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let source = Store::open(&url("source.db")).await.unwrap();
        fill(&source).await;
    });
    let migrate = |to: &str| {
        Command::new(env!("CARGO_BIN_EXE_lrsgate"))
            .args(["migrate", "--from", &url("source.db"), "--to", &url(to)])
            .output()
            .unwrap()
    };
    let first = migrate("copy.db");
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(first.status.success(), "{first:?}");
    assert!(stdout.contains("Copied and verified"), "{stdout}");
    assert!(!stdout.contains("MISMATCH"), "{stdout}");
    let second = migrate("copy.db");
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("already holds"),
        "{second:?}"
    );
}
