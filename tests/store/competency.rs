//! The competency store contract (`CompetencyStore`): frameworks, tagging rules, the
//! activity catalog, the tagging revision and the tags kept beside statements. Run on
//! every backend by `main.rs`.

use lrsgate::competency::Alignment;
use lrsgate::store::competency::{FrameworkRecord, Retagged, RuleRecord};
use lrsgate::store::{Store, StoreError, DEFAULT_TENANT};
use serde_json::{json, Value};

use crate::contract::{activity, agent, id_of, statement};
use crate::records::{insert, outcome, stored, tag, tagged};

const T: i64 = DEFAULT_TENANT;
const OTHER: i64 = 2;

fn framework(id: &str, version: &str, created_millis: i64) -> FrameworkRecord {
    FrameworkRecord {
        id: id.into(),
        iri: "https://skills.example.com".into(),
        version: version.into(),
        active: false,
        body: format!("{{\"version\": \"{version}\"}}"),
        created_millis,
        updated_millis: created_millis,
    }
}

fn rule(id: &str, body: &str) -> RuleRecord {
    RuleRecord {
        id: id.into(),
        body: body.into(),
        updated_millis: 5_000,
    }
}

fn alignment(item: &str, confidence: f64) -> Alignment {
    Alignment {
        item: format!("https://skills.example.com/{item}"),
        confidence,
        source: Some("catalog".into()),
    }
}

/// Promise: the tagging revision is 0 for a tenant never configured and increases on
/// every framework or rule change — and only on a change (a missing framework or rule
/// touched moves nothing), tenant by tenant.
pub async fn the_tagging_revision_moves_with_every_framework_and_rule_change(store: &Store) {
    let c = &store.competencies;
    assert_eq!(c.tagging_revision(T).await.unwrap(), 0);
    c.insert_framework(T, framework("f1", "1", 1_000))
        .await
        .unwrap();
    assert_eq!(c.tagging_revision(T).await.unwrap(), 1);
    assert!(c.set_framework_active(T, "f1", true).await.unwrap());
    assert_eq!(c.tagging_revision(T).await.unwrap(), 2);
    assert!(!c.set_framework_active(T, "missing", true).await.unwrap());
    assert_eq!(c.tagging_revision(T).await.unwrap(), 2);
    assert!(c.put_rule(T, rule("r1", "{}")).await.unwrap());
    assert!(!c.put_rule(T, rule("r1", "{\"v\": 2}")).await.unwrap());
    assert_eq!(c.tagging_revision(T).await.unwrap(), 4);
    assert!(c.delete_rule(T, "r1").await.unwrap());
    assert!(!c.delete_rule(T, "r1").await.unwrap());
    assert_eq!(c.tagging_revision(T).await.unwrap(), 5);
    assert!(c.delete_framework(T, "f1").await.unwrap());
    assert!(!c.delete_framework(T, "f1").await.unwrap());
    assert_eq!(c.tagging_revision(T).await.unwrap(), 6);
    // Catalog entries are not part of the tagger's revision.
    c.put_alignments(T, &activity("course-1"), vec![alignment("agile", 0.9)])
        .await
        .unwrap();
    assert_eq!(c.tagging_revision(T).await.unwrap(), 6);
    assert_eq!(c.tagging_revision(OTHER).await.unwrap(), 0);
}

/// Promise: framework versions are kept as given, listed oldest first (by creation time,
/// whatever the insertion order), unique per IRI and version (`Conflict`), switched
/// active and deleted by id, and seen only by their tenant.
pub async fn framework_versions_are_kept_listed_oldest_first_and_unique(store: &Store) {
    let c = &store.competencies;
    let v2 = framework("f-v2", "2", 2_000);
    let v1 = framework("f-v1", "1", 1_000);
    c.insert_framework(T, v2.clone()).await.unwrap();
    c.insert_framework(T, v1.clone()).await.unwrap();
    assert_eq!(c.frameworks(T).await.unwrap(), vec![v1.clone(), v2.clone()]);
    assert_eq!(c.framework(T, "f-v2").await.unwrap(), Some(v2.clone()));

    let again = c
        .insert_framework(T, framework("f-other", "2", 3_000))
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(c.frameworks(T).await.unwrap().len(), 2);

    assert!(c.set_framework_active(T, "f-v1", true).await.unwrap());
    let active = c.framework(T, "f-v1").await.unwrap().unwrap();
    assert!(active.active);
    assert!(active.updated_millis > 1_000, "{active:?}");
    assert_eq!((active.created_millis, &active.body), (1_000, &v1.body));

    // Another tenant: the same IRI and version is its own, and ours are invisible.
    c.insert_framework(OTHER, framework("f-theirs", "2", 4_000))
        .await
        .unwrap();
    assert_eq!(c.framework(OTHER, "f-v2").await.unwrap(), None);
    assert!(!c.set_framework_active(OTHER, "f-v2", true).await.unwrap());
    assert!(!c.delete_framework(OTHER, "f-v2").await.unwrap());
    assert_eq!(c.frameworks(OTHER).await.unwrap().len(), 1);

    assert!(c.delete_framework(T, "f-v2").await.unwrap());
    assert_eq!(c.framework(T, "f-v2").await.unwrap(), None);
    let ids: Vec<String> = c
        .frameworks(T)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(ids, ["f-v1"]);
}

/// Promise: a rule is created (`true`) or replaced (`false`), rules are listed by id, and
/// deleting says whether the rule existed; each tenant has its own.
pub async fn rules_are_created_replaced_listed_by_id_and_deleted(store: &Store) {
    let c = &store.competencies;
    assert!(c.put_rule(T, rule("b", "{\"v\": 1}")).await.unwrap());
    assert!(c.put_rule(T, rule("a", "{\"v\": 1}")).await.unwrap());
    let replaced = RuleRecord {
        updated_millis: 9_000,
        ..rule("b", "{\"v\": 2}")
    };
    assert!(!c.put_rule(T, replaced.clone()).await.unwrap());
    assert_eq!(
        c.rules(T).await.unwrap(),
        vec![rule("a", "{\"v\": 1}"), replaced]
    );
    assert!(c.rules(OTHER).await.unwrap().is_empty());
    assert!(!c.delete_rule(OTHER, "a").await.unwrap());
    assert!(c
        .put_rule(OTHER, rule("a", "{\"theirs\": true}"))
        .await
        .unwrap());
    assert!(c.delete_rule(T, "a").await.unwrap());
    assert_eq!(c.rules(T).await.unwrap().len(), 1);
    assert_eq!(
        c.rules(OTHER).await.unwrap(),
        vec![rule("a", "{\"theirs\": true}")]
    );
}

/// Promise: the catalog keeps an activity's alignments (set replaces them, an empty list
/// removes the entry), answers for the asked activities it has, and pages by activity id
/// after a given one; per tenant.
pub async fn catalog_alignments_are_set_read_paged_and_removed(store: &Store) {
    let c = &store.competencies;
    for (name, item) in [("c", "scrum"), ("a", "agile"), ("b", "kanban")] {
        c.put_alignments(T, &activity(name), vec![alignment(item, 0.5)])
            .await
            .unwrap();
    }
    c.put_alignments(
        T,
        &activity("b"),
        vec![alignment("kanban", 0.75), alignment("lean", 0.25)],
    )
    .await
    .unwrap();

    let asked = [activity("b"), activity("unknown")];
    let found = c.alignments(T, &asked).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[&activity("b")],
        vec![alignment("kanban", 0.75), alignment("lean", 0.25)]
    );
    assert!(c.alignments(T, &[]).await.unwrap().is_empty());

    let first = c.catalog(T, None, 2).await.unwrap();
    let ids: Vec<&str> = first.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, [activity("a"), activity("b")]);
    assert_eq!(first[0].1, vec![alignment("agile", 0.5)]);
    let rest = c.catalog(T, Some(&activity("b")), 2).await.unwrap();
    assert_eq!(rest, vec![(activity("c"), vec![alignment("scrum", 0.5)])]);

    c.put_alignments(T, &activity("a"), Vec::new())
        .await
        .unwrap();
    let left: Vec<String> = c
        .catalog(T, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(left, [activity("b"), activity("c")]);
    assert!(c.catalog(OTHER, None, 10).await.unwrap().is_empty());
    assert!(c.alignments(OTHER, &asked).await.unwrap().is_empty());
}

/// Promise: a statement's tags are stored beside it and read back as given (an untagged
/// statement has none; an unknown or other tenant's statement is `None`), and voiding a
/// statement clears its tags while the voiding statement keeps its own.
pub async fn tags_are_kept_beside_statements_and_cleared_by_voiding(store: &Store) {
    let c = &store.competencies;
    let s = statement("ann", "completed", "course-1");
    let tags = vec![tag("agile", 0.75), tag("scrum", 0.5)];
    let plain = statement("bob", "completed", "course-2");
    insert(
        store,
        T,
        vec![
            stored(s.clone(), tags.clone(), Vec::new(), Vec::new()),
            stored(plain.clone(), Vec::new(), Vec::new(), Vec::new()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(c.statement_tags(T, &id_of(&s)).await.unwrap(), Some(tags));
    assert_eq!(
        c.statement_tags(T, &id_of(&plain)).await.unwrap(),
        Some(Vec::new())
    );
    assert_eq!(c.statement_tags(OTHER, &id_of(&s)).await.unwrap(), None);
    assert_eq!(
        c.statement_tags(T, &uuid::Uuid::new_v4().to_string())
            .await
            .unwrap(),
        None
    );

    let voiding = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "actor": agent("admin"),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": id_of(&s)},
    });
    let voiding_tags = vec![tag("governance", 0.25)];
    insert(
        store,
        T,
        vec![stored(
            voiding.clone(),
            voiding_tags.clone(),
            Vec::new(),
            Vec::new(),
        )],
    )
    .await
    .unwrap();
    assert_eq!(
        c.statement_tags(T, &id_of(&s)).await.unwrap(),
        Some(Vec::new())
    );
    assert_eq!(
        c.statement_tags(T, &id_of(&voiding)).await.unwrap(),
        Some(voiding_tags)
    );
}

fn voiding(target: &Value) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "actor": agent("admin"),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": id_of(target)},
    })
}

/// Promise: retag pages list the tenant's non-voided statements with their tags, in
/// storage order, each once, and the position a page returns continues the walk until a
/// page says there is no next one.
pub async fn retag_pages_walk_non_voided_statements_in_storage_order(store: &Store) {
    let c = &store.competencies;
    let statements: Vec<Value> = (0..5)
        .map(|n| statement("ann", "completed", &format!("course-{n}")))
        .collect();
    for (n, s) in statements.iter().enumerate() {
        let tags = vec![tag(&format!("item-{n}"), 0.5)];
        insert(
            store,
            T,
            vec![stored(s.clone(), tags, Vec::new(), Vec::new())],
        )
        .await
        .unwrap();
    }
    let void = voiding(&statements[1]);
    insert(
        store,
        T,
        vec![stored(void.clone(), Vec::new(), Vec::new(), Vec::new())],
    )
    .await
    .unwrap();
    let theirs = statement("ann", "completed", "course-9");
    insert(
        store,
        OTHER,
        vec![stored(theirs, vec![tag("x", 0.5)], Vec::new(), Vec::new())],
    )
    .await
    .unwrap();

    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = c.retag_page(T, after, 2).await.unwrap();
        pages += 1;
        assert!(page.statements.len() <= 2);
        seen.extend(page.statements);
        after = page.next;
        if after.is_none() {
            break;
        }
        assert!(pages < 10, "the walk does not end");
    }
    let ids: Vec<String> = seen.iter().map(|t| t.id.clone()).collect();
    let expected: Vec<String> = [0, 2, 3, 4]
        .iter()
        .map(|n| id_of(&statements[*n]))
        .chain([id_of(&void)])
        .collect();
    assert_eq!(ids, expected);
    assert_eq!(seen[1].tags, vec![tag("item-2", 0.5)]);
    assert!(seen[4].tags.is_empty());
    let body: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(body["object"]["id"], json!(activity("course-0")));
    assert!(body["stored"].is_string(), "the body as stored: {body}");
}

/// Promise: replacing tags changes those of non-voided statements of the tenant; voided
/// statements, unknown ids and other tenants' statements are left alone.
pub async fn replacing_tags_leaves_voided_statements_alone(store: &Store) {
    let c = &store.competencies;
    let kept = statement("ann", "completed", "course-1");
    let voided = statement("ann", "completed", "course-2");
    let theirs = statement("ann", "completed", "course-3");
    let o = outcome(true, None, None);
    insert(
        store,
        T,
        vec![
            tagged(&kept, &[("agile", 0.5)], 1_000, o),
            tagged(&voided, &[("agile", 0.5)], 1_000, o),
        ],
    )
    .await
    .unwrap();
    insert(
        store,
        OTHER,
        vec![tagged(&theirs, &[("agile", 0.5)], 1_000, o)],
    )
    .await
    .unwrap();
    insert(
        store,
        T,
        vec![stored(voiding(&voided), Vec::new(), Vec::new(), Vec::new())],
    )
    .await
    .unwrap();

    let retag = |id: String| Retagged {
        id,
        tags: vec![tag("scrum", 0.25)],
        evidence: Vec::new(),
    };
    let batch = vec![
        retag(id_of(&kept)),
        retag(id_of(&voided)),
        retag(id_of(&theirs)),
        retag(uuid::Uuid::new_v4().to_string()),
    ];
    c.replace_tags(T, batch).await.unwrap();
    assert_eq!(
        c.statement_tags(T, &id_of(&kept)).await.unwrap(),
        Some(vec![tag("scrum", 0.25)])
    );
    assert_eq!(
        c.statement_tags(T, &id_of(&voided)).await.unwrap(),
        Some(Vec::new())
    );
    assert_eq!(
        c.statement_tags(OTHER, &id_of(&theirs)).await.unwrap(),
        Some(vec![tag("agile", 0.75)])
    );
    // Replacing with no tags leaves none.
    c.replace_tags(
        T,
        vec![Retagged {
            id: id_of(&kept),
            tags: Vec::new(),
            evidence: Vec::new(),
        }],
    )
    .await
    .unwrap();
    assert_eq!(
        c.statement_tags(T, &id_of(&kept)).await.unwrap(),
        Some(Vec::new())
    );
}
