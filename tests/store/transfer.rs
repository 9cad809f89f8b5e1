//! The transfer store contract (`TransferStore`, what `lrsgate migrate` copies with):
//! every kind of record exported in pages and counted, and imported records exported
//! again unchanged — so with the count and checksum they had, which is how two stores
//! (of either backend) are compared. Run on every backend by `main.rs`.

use std::collections::BTreeMap;

use bytes::Bytes;
use lrsgate::competency::Alignment;
use lrsgate::store::activity_map::Equivalence;
use lrsgate::store::competency::{FrameworkRecord, RuleRecord};
use lrsgate::store::connectors::{ConnectorRecord, DeadLetter};
use lrsgate::store::opportunities::OpportunityRecord;
use lrsgate::store::people::LinkedIdentity;
use lrsgate::store::privacy::{AuditRecord, RetentionPolicy};
use lrsgate::store::transfer::{normalize_index, Record, RecordKind, StatementRecord, Tally};
use lrsgate::store::{
    AttachmentData, Credential, Document, DocumentScope, StatementQuery, Store, Tenant,
    DEFAULT_TENANT,
};
use lrsgate::xapi::document::{MissingPrecondition, Preconditions, WriteMode};
use lrsgate::xapi::{IndexKey, IndexKind};
use serde_json::{json, Value};

use crate::contract::{activity, agent, agent_key, document, id_of, prepared, statement, verb};
use crate::records::{insert, stored, tag, tagged, FRAMEWORK};

const T: i64 = DEFAULT_TENANT;
const OTHER: i64 = 2;

/// Every record of a kind, read `limit` at a time.
async fn export_all(store: &Store, kind: RecordKind, limit: usize) -> Vec<Record> {
    let mut records = Vec::new();
    let mut after = None;
    for _ in 0..1_000 {
        let page = store.transfer.export(kind, after, limit).await.unwrap();
        assert!(page.records.len() <= limit, "{kind:?}");
        assert!(page.records.iter().all(|r| r.kind() == kind), "{kind:?}");
        records.extend(page.records);
        after = page.next;
        if after.is_none() {
            return records;
        }
    }
    panic!("the export of {kind:?} does not end");
}

fn tally(records: &[Record]) -> Tally {
    let mut t = Tally::default();
    for r in records {
        t.add(r);
    }
    t
}

fn anyone() -> Preconditions {
    Preconditions {
        if_match: None,
        if_none_match: None,
        when_missing: MissingPrecondition::Allowed,
    }
}

/// Promise: each kind's export, read in small pages, lists every record once — as many
/// as `count` says and the same (by checksum) as one large page — and statements come in
/// storage order with their voided flag, index keys and tags.
pub async fn every_kind_is_exported_in_pages_and_counted(store: &Store) {
    // Two tenants' worth of every kind, written the ordinary way.
    store.tenants.create_tenant("other").await.unwrap();
    let first = statement("ann", "completed", "course-1");
    let mut named = statement("bob", "attended", "meeting-1");
    named["actor"]["name"] = json!("Bob");
    named["object"]["definition"] = json!({"name": {"en-US": "Kick-off"}});
    let doomed = statement("cy", "failed", "course-1");
    let attachment = AttachmentData {
        sha2: "ab".repeat(32),
        content_type: "text/plain".into(),
        content: Bytes::from_static(b"slides"),
    };
    store
        .statements
        .insert_statements(
            T,
            vec![
                tagged(&first, &[("agile", 0.5)], 1_000, Default::default()),
                prepared(named.clone()),
                stored(doomed.clone(), vec![tag("x", 0.5)], Vec::new(), Vec::new()),
            ],
            vec![attachment],
        )
        .await
        .unwrap();
    let voiding = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "actor": agent("admin"),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": id_of(&doomed)},
    });
    insert(
        store,
        T,
        vec![stored(voiding.clone(), Vec::new(), Vec::new(), Vec::new())],
    )
    .await
    .unwrap();
    let theirs = statement("dee", "completed", "course-9");
    insert(
        store,
        OTHER,
        vec![stored(theirs.clone(), Vec::new(), Vec::new(), Vec::new())],
    )
    .await
    .unwrap();
    let scopes = [
        DocumentScope::State {
            activity_id: activity("course-1"),
            agent: agent_key("ann"),
            registration: None,
        },
        DocumentScope::ActivityProfile {
            activity_id: activity("course-1"),
        },
        DocumentScope::AgentProfile {
            agent: agent_key("ann"),
        },
    ];
    for (tenant, scope) in [(T, &scopes[0]), (T, &scopes[1]), (OTHER, &scopes[2])] {
        store
            .documents
            .write_document(
                tenant,
                scope,
                "bookmark",
                document("{\"page\": 3}", "application/json"),
                WriteMode::Replace,
                &anyone(),
            )
            .await
            .unwrap();
    }
    for (tenant, key) in [(T, "lms"), (OTHER, "other-lms")] {
        store
            .credentials
            .save_credential(Credential {
                tenant,
                key: key.into(),
                secret_hash: format!("hash-of-{key}"),
                name: key.to_uppercase(),
                authority: agent(key),
                scopes: "statements/write".into(),
            })
            .await
            .unwrap();
    }
    let c = &store.competencies;
    for (tenant, id) in [(T, "f1"), (OTHER, "f2")] {
        let framework = FrameworkRecord {
            id: id.into(),
            iri: FRAMEWORK.into(),
            version: "1".into(),
            active: true,
            body: "{}".into(),
            created_millis: 1_000,
            updated_millis: 1_000,
        };
        c.insert_framework(tenant, framework).await.unwrap();
    }
    let rule = RuleRecord {
        id: "r1".into(),
        body: "{}".into(),
        updated_millis: 1_000,
    };
    c.put_rule(T, rule).await.unwrap();
    for name in ["course-1", "course-2"] {
        let alignment = Alignment {
            item: format!("{FRAMEWORK}/agile"),
            confidence: 0.5,
            source: None,
        };
        c.put_alignments(T, &activity(name), vec![alignment])
            .await
            .unwrap();
    }
    let identity = |ifi: &str| LinkedIdentity {
        ifi: ifi.into(),
        person: "p-ann".into(),
        agent: "{}".into(),
    };
    store
        .people
        .link_identities(T, vec![identity("mbox:a"), identity("mbox:b")])
        .await
        .unwrap();
    for tenant in [T, OTHER] {
        let row = Equivalence {
            alias: "urn:li:lyndaCourse:1".into(),
            canonical: activity("course-1"),
            source: "manual".into(),
        };
        store
            .activity_map
            .put_equivalences(tenant, vec![row])
            .await
            .unwrap();
    }
    for tenant in [T, OTHER] {
        let connector = ConnectorRecord {
            id: "fwd".into(),
            config: json!({"kind": "forward", "password": "s3cret"}),
            updated_millis: 1_000,
        };
        let c = &store.connectors;
        c.put_connector(tenant, connector).await.unwrap();
        let letter = DeadLetter {
            statement_id: id_of(&first),
            error: "HTTP 503".into(),
            attempts: 3,
            failed_millis: 2_000,
        };
        c.add_dead_letters(tenant, "fwd", vec![letter])
            .await
            .unwrap();
        // Leases are not copied.
        c.acquire_lease("connector:1:fwd", "gw", 0, 1_000)
            .await
            .unwrap();
    }
    store
        .connectors
        .put_connector_state(T, "fwd", json!({"delivered": 4}))
        .await
        .unwrap();
    for tenant in [T, OTHER] {
        let opportunity = OpportunityRecord {
            id: "migration".into(),
            status: "open".into(),
            body: json!({"id": "migration", "name": "Migration"}).to_string(),
            updated_millis: 3_000,
        };
        store
            .opportunities
            .put_opportunity(tenant, opportunity)
            .await
            .unwrap();
    }

    for tenant in [T, OTHER] {
        let policy = RetentionPolicy {
            id: "year".into(),
            older_than_days: 365,
            verb: None,
            activity_prefix: Some("https://courses.example.com/".into()),
        };
        store
            .privacy
            .put_retention_policy(tenant, policy)
            .await
            .unwrap();
        let mut audit = AuditRecord::new("erase", "admin", None);
        audit.counts = json!({"statements_deleted": 1});
        store.privacy.add_audit(tenant, audit).await.unwrap();
    }

    let expected: BTreeMap<&str, u64> = [
        ("tenants", 2),
        ("credentials", 2),
        ("attachments", 1),
        ("statements", 5),
        ("activities", 1),
        ("agent names", 1),
        ("documents", 3),
        ("frameworks", 2),
        ("tagging rules", 1),
        ("catalog", 2),
        ("revisions", 2),
        ("linked identities", 2),
        ("activity equivalences", 2),
        ("connectors", 2),
        ("dead letters", 2),
        ("privacy audit records", 2),
        ("retention policies", 2),
        ("opportunities", 2),
    ]
    .into();
    let mut counted = BTreeMap::new();
    for kind in RecordKind::ALL {
        let paged = export_all(store, kind, 2).await;
        let whole = export_all(store, kind, 1_000).await;
        assert_eq!(tally(&paged), tally(&whole), "{kind:?}");
        assert_eq!(
            store.transfer.count(kind).await.unwrap(),
            paged.len() as u64,
            "{kind:?}"
        );
        counted.insert(kind.name(), paged.len() as u64);
    }
    assert_eq!(counted, expected);

    let statements: Vec<StatementRecord> = export_all(store, RecordKind::Statements, 2)
        .await
        .into_iter()
        .map(|r| match r {
            Record::Statement(s) => s,
            other => panic!("{other:?}"),
        })
        .collect();
    let order: Vec<(i64, String, bool, bool)> = statements
        .iter()
        .map(|s| (s.tenant, s.id.clone(), s.voided, s.voiding))
        .collect();
    assert_eq!(
        order,
        [
            (T, id_of(&first), false, false),
            (T, id_of(&named), false, false),
            (T, id_of(&doomed), true, false),
            (T, id_of(&voiding), false, true),
            (OTHER, id_of(&theirs), false, false),
        ]
    );
    let tags: Value = serde_json::from_str(statements[0].tags.as_deref().unwrap()).unwrap();
    assert_eq!(tags[0]["item"], json!(format!("{FRAMEWORK}/agile")));
    assert_eq!(statements[1].tags, None);
    assert_eq!(statements[2].tags, None, "voiding clears tags");
    let ann = IndexKey {
        kind: IndexKind::Agent,
        key: agent_key("ann"),
    };
    assert!(
        statements[0].index.contains(&ann),
        "{:?}",
        statements[0].index
    );
    assert_eq!(
        statements[0].index,
        normalize_index(statements[0].index.clone())
    );
    let body: Value = serde_json::from_str(&statements[0].body).unwrap();
    assert_eq!(body["id"], json!(id_of(&first)));
    assert!(body["stored"].is_string());
    assert!(
        !statements[2].index.is_empty(),
        "a voided statement keeps its keys"
    );
}

/// Records of every kind, in two tenants, as another store exported them.
fn records() -> Vec<Record> {
    let index = |who: &str, course: &str| {
        normalize_index(vec![
            IndexKey {
                kind: IndexKind::Agent,
                key: agent_key(who),
            },
            IndexKey {
                kind: IndexKind::Verb,
                key: verb("completed"),
            },
            IndexKey {
                kind: IndexKind::Activity,
                key: activity(course),
            },
            IndexKey {
                kind: IndexKind::AgentRelated,
                key: agent_key("tutor"),
            },
        ])
    };
    let statement_record = |tenant, id: &str, stored_millis, voided, who: &str, tags| {
        let body = json!({
            "id": id,
            "actor": agent(who),
            "verb": {"id": verb("completed")},
            "object": {"objectType": "Activity", "id": activity("course-1")},
            "stored": "2020-09-13T12:26:40.000Z",
            "authority": agent("authority"),
        });
        Record::Statement(StatementRecord {
            tenant,
            id: id.into(),
            stored_millis,
            voided,
            voiding: false,
            fingerprint: vec![7; 16],
            body: body.to_string(),
            index: index(who, "course-1"),
            tags,
        })
    };
    let tags = Some(json!([tag("agile", 0.5)]).to_string());
    vec![
        Record::Tenant(Tenant {
            id: T,
            name: "default".into(),
            created_millis: 5,
        }),
        Record::Tenant(Tenant {
            id: OTHER,
            name: "acme".into(),
            created_millis: 1_600_000_000_000,
        }),
        Record::Credential {
            credential: Credential {
                tenant: OTHER,
                key: "acme-lms".into(),
                secret_hash: "hash".into(),
                name: "Acme LMS".into(),
                authority: agent("acme"),
                scopes: "all".into(),
            },
            created_millis: 1_600_000_000_001,
        },
        Record::Attachment {
            tenant: T,
            data: AttachmentData {
                sha2: "cd".repeat(32),
                content_type: "application/pdf".into(),
                content: Bytes::from_static(&[0, 1, 2, 255]),
            },
        },
        statement_record(
            T,
            "0a9f0c1e-6f53-4c5a-9d0e-1b7b3e1f0001",
            1_600_000_000_000,
            false,
            "ann",
            tags,
        ),
        statement_record(
            T,
            "0a9f0c1e-6f53-4c5a-9d0e-1b7b3e1f0002",
            1_600_000_000_000,
            true,
            "bob",
            None,
        ),
        statement_record(
            OTHER,
            "0a9f0c1e-6f53-4c5a-9d0e-1b7b3e1f0003",
            1_600_000_000_500,
            false,
            "ann",
            None,
        ),
        Record::Activity {
            tenant: T,
            id: activity("course-1"),
            definition: "{\"name\":{\"en-US\":\"Course\"}}".into(),
        },
        Record::AgentName {
            tenant: T,
            ifi: agent_key("ann"),
            name: "Ann".into(),
        },
        Record::Document {
            tenant: OTHER,
            scope: DocumentScope::State {
                activity_id: activity("course-1"),
                agent: agent_key("ann"),
                registration: Some("6fbd2e3a-0f3c-4c6e-9c5b-3c1c34b4f0a1".into()),
            },
            id: "bookmark".into(),
            document: Document {
                content_type: "application/json".into(),
                content: Bytes::from_static(b"{\"page\":3}"),
                etag: "0123456789abcdef0123456789abcdef01234567".into(),
                updated_millis: 1_600_000_000_002,
            },
        },
        Record::Framework {
            tenant: T,
            framework: FrameworkRecord {
                id: "f1".into(),
                iri: FRAMEWORK.into(),
                version: "3".into(),
                active: true,
                body: "{\"iri\":\"https://skills.example.com\"}".into(),
                created_millis: 1_000,
                updated_millis: 2_000,
            },
        },
        Record::TaggingRule {
            tenant: OTHER,
            rule: RuleRecord {
                id: "meetings".into(),
                body: "{\"id\":\"meetings\"}".into(),
                updated_millis: 3_000,
            },
        },
        Record::Alignment {
            tenant: T,
            activity_id: activity("course-1"),
            alignments: json!([{"item": format!("{FRAMEWORK}/agile"), "confidence": 0.5}])
                .to_string(),
            updated_millis: 4_000,
        },
        Record::TaggingRevision {
            tenant: T,
            revision: 7,
        },
        Record::PersonIdentity {
            tenant: OTHER,
            identity: LinkedIdentity {
                ifi: agent_key("ann"),
                person: "p-ann".into(),
                agent: agent("ann").to_string(),
            },
            updated_millis: 5_000,
        },
        Record::Equivalence {
            tenant: OTHER,
            equivalence: Equivalence {
                alias: "urn:li:lyndaCourse:1".into(),
                canonical: activity("course-1"),
                source: "linkedin-learning".into(),
            },
        },
        Record::Connector {
            tenant: OTHER,
            id: "fwd".into(),
            config: json!({"kind": "forward", "url": "http://127.0.0.1:9/xapi"}).to_string(),
            state: Some(json!({"delivered": 4}).to_string()),
            updated_millis: 6_000,
        },
        Record::Connector {
            tenant: T,
            id: "talks".into(),
            config: json!({"kind": "talks"}).to_string(),
            state: None,
            updated_millis: 6_001,
        },
        Record::DeadLetter {
            tenant: OTHER,
            connector: "fwd".into(),
            letter: DeadLetter {
                statement_id: "0a9f0c1e-6f53-4c5a-9d0e-1b7b3e1f0003".into(),
                error: "HTTP 503".into(),
                attempts: 3,
                failed_millis: 7_000,
            },
        },
        Record::AuditRecord {
            tenant: OTHER,
            id: "0000000009000-abcdef01".into(),
            at_millis: 9_000,
            record: json!({"id": "0000000009000-abcdef01", "action": "erase", "by": "admin",
                           "at_millis": 9_000, "counts": {"statements_deleted": 2}})
            .to_string(),
        },
        Record::RetentionPolicy {
            tenant: T,
            id: "drafts".into(),
            policy: json!({"id": "drafts", "older_than_days": 30}).to_string(),
            updated_millis: 9_500,
        },
        Record::Opportunity {
            tenant: OTHER,
            opportunity: OpportunityRecord {
                id: "platform".into(),
                status: "closed".into(),
                body: json!({"id": "platform", "name": "Platform", "status": "closed"}).to_string(),
                updated_millis: 8_000,
            },
        },
    ]
}

/// Promise: records imported (kind by kind, into a fresh store) are exported unchanged —
/// so every backend reports the count and checksum computed from the records themselves
/// and two stores match whichever backends they are — and the store answers from them:
/// statements keep their `stored` time, voided flag, index keys and tags, a tenant
/// replaces the one with its id and new tenants come after, and statements stored later
/// come after the imported ones.
pub async fn imported_records_are_exported_unchanged_and_answered_from(store: &Store) {
    let records = records();
    import_all(store, &records).await;
    for kind in RecordKind::ALL {
        let given: Vec<Record> = records
            .iter()
            .filter(|r| r.kind() == kind)
            .cloned()
            .collect();
        let exported = export_all(store, kind, 1_000).await;
        assert_eq!(tally(&exported), tally(&given), "{kind:?}: {exported:#?}");
        assert_eq!(
            store.transfer.count(kind).await.unwrap(),
            given.len() as u64
        );
    }
    let exported: Vec<StatementRecord> = export_all(store, RecordKind::Statements, 2)
        .await
        .into_iter()
        .map(|r| match r {
            Record::Statement(s) => s,
            other => panic!("{other:?}"),
        })
        .collect();
    let given: Vec<StatementRecord> = records
        .iter()
        .filter_map(|r| match r {
            Record::Statement(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(exported, given);

    // Reads answer from what was imported.
    let closed = store
        .opportunities
        .opportunities(OTHER, Some("closed"), None, 10)
        .await
        .unwrap();
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].updated_millis, 8_000);
    assert_eq!(
        store
            .connectors
            .connector_state(OTHER, "fwd")
            .await
            .unwrap(),
        Some(json!({"delivered": 4}))
    );
    assert_eq!(
        store
            .connectors
            .dead_letters(OTHER, "fwd", 10)
            .await
            .unwrap()[0]
            .attempts,
        3
    );
    let alias = "urn:li:lyndaCourse:1".to_owned();
    assert_eq!(
        store
            .activity_map
            .canonical_ids(OTHER, std::slice::from_ref(&alias))
            .await
            .unwrap(),
        vec![(alias, activity("course-1"))]
    );
    let ann = "0a9f0c1e-6f53-4c5a-9d0e-1b7b3e1f0001";
    let read = store.statements.statement(T, ann).await.unwrap().unwrap();
    assert_eq!(
        (read.stored_millis, read.voided),
        (1_600_000_000_000, false)
    );
    let bob = "0a9f0c1e-6f53-4c5a-9d0e-1b7b3e1f0002";
    assert!(
        store
            .statements
            .statement(T, bob)
            .await
            .unwrap()
            .unwrap()
            .voided
    );
    let query = |q: StatementQuery| async move {
        let page = store
            .statements
            .query_statements(T, &StatementQuery { limit: 10, ..q }, None)
            .await
            .unwrap();
        page.statements.iter().map(id_of).collect::<Vec<_>>()
    };
    let by_tutor = StatementQuery {
        agent: Some(agent_key("tutor")),
        related_agents: true,
        ..StatementQuery::default()
    };
    assert_eq!(query(by_tutor).await, [ann]);
    let by_bob = StatementQuery {
        agent: Some(agent_key("bob")),
        ..StatementQuery::default()
    };
    assert!(
        query(by_bob).await.is_empty(),
        "voided statements stay hidden"
    );
    let tags = store.competencies.statement_tags(T, ann).await.unwrap();
    assert_eq!(tags, Some(vec![tag("agile", 0.5)]));
    assert_eq!(store.competencies.tagging_revision(T).await.unwrap(), 7);
    assert_eq!(
        store
            .competencies
            .framework(T, "f1")
            .await
            .unwrap()
            .unwrap()
            .version,
        "3"
    );
    let linked = store
        .people
        .linked_people(OTHER, &[agent_key("ann")])
        .await
        .unwrap();
    assert_eq!(linked[&agent_key("ann")], "p-ann");
    let credential = store
        .credentials
        .credential("acme-lms")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (credential.tenant, credential.name.as_str()),
        (OTHER, "Acme LMS")
    );
    let document = store
        .documents
        .document(
            OTHER,
            &DocumentScope::State {
                activity_id: activity("course-1"),
                agent: agent_key("ann"),
                registration: Some("6fbd2e3a-0f3c-4c6e-9c5b-3c1c34b4f0a1".into()),
            },
            "bookmark",
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (document.etag.as_str(), document.updated_millis),
        (
            "0123456789abcdef0123456789abcdef01234567",
            1_600_000_000_002
        )
    );

    let tenants = store.tenants.tenants().await.unwrap();
    assert_eq!(
        tenants,
        [
            Tenant {
                id: T,
                name: "default".into(),
                created_millis: 5,
            },
            Tenant {
                id: OTHER,
                name: "acme".into(),
                created_millis: 1_600_000_000_000,
            },
        ]
    );
    assert_eq!(store.tenants.create_tenant("globex").await.unwrap().id, 3);

    let late = statement("ann", "completed", "course-1");
    store
        .statements
        .insert_statements(T, vec![prepared(late.clone())], Vec::new())
        .await
        .unwrap();
    let newest = query(StatementQuery::default()).await;
    assert_eq!(newest, [id_of(&late), ann.to_owned()]);
    let order: Vec<String> = export_all(store, RecordKind::Statements, 1_000)
        .await
        .into_iter()
        .map(|r| match r {
            Record::Statement(s) => s.id,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(order.last(), Some(&id_of(&late)));
    assert_eq!(order.len(), 4);
}

async fn import_all(store: &Store, records: &[Record]) {
    for kind in RecordKind::ALL {
        let of_kind: Vec<Record> = records
            .iter()
            .filter(|r| r.kind() == kind)
            .cloned()
            .collect();
        store.transfer.import(of_kind).await.unwrap();
    }
}

/// Promise: the same records held by a SQLite and a MongoDB store are reported with the
/// same count and checksum, kind by kind (what `lrsgate migrate` verifies a copy by).
#[cfg(feature = "mongodb")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_mongodb_report_the_same_tallies() {
    let (sqlite, mongodb) = (crate::sqlite().await, crate::mongodb().await);
    let records = records();
    import_all(&sqlite.store, &records).await;
    import_all(&mongodb.store, &records).await;
    for kind in RecordKind::ALL {
        let here = tally(&export_all(&sqlite.store, kind, 2).await);
        let there = tally(&export_all(&mongodb.store, kind, 3).await);
        assert_eq!(here, there, "{kind:?}");
        assert!(here.count > 0, "{kind:?} has records to compare");
    }
}
