//! The activity-mapping store contract (`ActivityMapStore`): the activity-equivalence
//! table (set, replaced, looked up in bulk, listed, removed, per tenant) and catalog
//! definitions, which merge into the Activities resource the way a statement's
//! definition does. Run on every backend by `main.rs`.

use lrsgate::store::activity_map::Equivalence;
use lrsgate::store::{Store, DEFAULT_TENANT};
use serde_json::json;

use crate::contract::{activity, prepared, statement};

const T: i64 = DEFAULT_TENANT;
const OTHER: i64 = 2;

fn row(alias: &str, canonical: &str, source: &str) -> Equivalence {
    Equivalence {
        alias: alias.into(),
        canonical: activity(canonical),
        source: source.into(),
    }
}

fn strings(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

/// Promise: rows are created and replaced by alias, listed by alias, looked up in bulk
/// (only the aliases the table has come back), removed one at a time (saying whether
/// the row existed), and one tenant never sees another's.
pub async fn equivalences_are_set_replaced_looked_up_listed_and_removed(store: &Store) {
    let map = &store.activity_map;
    assert!(map.equivalences(T).await.unwrap().is_empty());
    assert!(map
        .canonical_ids(T, &strings(&["urn:li:lyndaCourse:1"]))
        .await
        .unwrap()
        .is_empty());
    assert!(map.canonical_ids(T, &[]).await.unwrap().is_empty());

    map.put_equivalences(
        T,
        vec![
            row("urn:li:lyndaCourse:2", "course-2", "manual"),
            row("urn:li:lyndaCourse:1", "course-x", "manual"),
        ],
    )
    .await
    .unwrap();
    // Replacing a row changes its canonical id and source; nothing else is touched.
    map.put_equivalences(
        T,
        vec![row("urn:li:lyndaCourse:1", "course-1", "linkedin-learning")],
    )
    .await
    .unwrap();
    map.put_equivalences(
        OTHER,
        vec![row("urn:li:lyndaCourse:1", "elsewhere", "manual")],
    )
    .await
    .unwrap();

    assert_eq!(
        map.equivalences(T).await.unwrap(),
        vec![
            row("urn:li:lyndaCourse:1", "course-1", "linkedin-learning"),
            row("urn:li:lyndaCourse:2", "course-2", "manual"),
        ]
    );
    let mut found = map
        .canonical_ids(
            T,
            &strings(&[
                "urn:li:lyndaCourse:2",
                "urn:li:lyndaCourse:3",
                "urn:li:lyndaCourse:1",
            ]),
        )
        .await
        .unwrap();
    found.sort();
    assert_eq!(
        found,
        vec![
            ("urn:li:lyndaCourse:1".to_owned(), activity("course-1")),
            ("urn:li:lyndaCourse:2".to_owned(), activity("course-2")),
        ]
    );
    assert_eq!(
        map.canonical_ids(OTHER, &strings(&["urn:li:lyndaCourse:1"]))
            .await
            .unwrap(),
        vec![("urn:li:lyndaCourse:1".to_owned(), activity("elsewhere"))]
    );

    assert!(map
        .delete_equivalence(T, "urn:li:lyndaCourse:1")
        .await
        .unwrap());
    assert!(!map
        .delete_equivalence(T, "urn:li:lyndaCourse:1")
        .await
        .unwrap());
    assert_eq!(
        map.equivalences(T).await.unwrap(),
        vec![row("urn:li:lyndaCourse:2", "course-2", "manual")]
    );
    assert_eq!(map.equivalences(OTHER).await.unwrap().len(), 1);
}

/// Promise: a catalog definition is answered by the Activities resource, merges with
/// what statements said (language maps and extensions key by key, the rest replaced by
/// the newer), and statements' definitions merge into it in turn; per tenant.
pub async fn catalog_definitions_merge_with_statement_definitions(store: &Store) {
    let id = activity("talk-1");
    let mut s = statement("ann", "experienced", "talk-1");
    s["object"]["definition"] = json!({
        "name": {"en-US": "A talk"},
        "type": "http://example.com/types/talk",
    });
    store
        .statements
        .insert_statements(T, vec![prepared(s)], Vec::new())
        .await
        .unwrap();

    store
        .activity_map
        .put_catalog_definitions(
            T,
            vec![
                (
                    id.clone(),
                    json!({
                        "name": {"fr-FR": "Une conférence"},
                        "description": {"en-US": "From the feed"},
                        "type": "http://adlnet.gov/expapi/activities/media",
                        "extensions": {"https://example.com/ext/speaker": "Ada"},
                    }),
                ),
                (
                    activity("talk-2"),
                    json!({"name": {"en-US": "Only in the catalog"}}),
                ),
            ],
        )
        .await
        .unwrap();
    store
        .activity_map
        .put_catalog_definitions(T, Vec::new())
        .await
        .unwrap();

    let merged = store
        .actors
        .activity_definition(T, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        merged,
        json!({
            "name": {"en-US": "A talk", "fr-FR": "Une conférence"},
            "description": {"en-US": "From the feed"},
            "type": "http://adlnet.gov/expapi/activities/media",
            "extensions": {"https://example.com/ext/speaker": "Ada"},
        })
    );
    assert_eq!(
        store
            .actors
            .activity_definition(T, &activity("talk-2"))
            .await
            .unwrap()
            .unwrap(),
        json!({"name": {"en-US": "Only in the catalog"}})
    );

    // A later statement's definition merges into the catalog's.
    let mut later = statement("bob", "experienced", "talk-2");
    later["object"]["definition"] = json!({"name": {"de-DE": "Nur im Katalog"}});
    store
        .statements
        .insert_statements(T, vec![prepared(later)], Vec::new())
        .await
        .unwrap();
    let both = store
        .actors
        .activity_definition(T, &activity("talk-2"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        both["name"],
        json!({"en-US": "Only in the catalog", "de-DE": "Nur im Katalog"})
    );
    assert!(store
        .actors
        .activity_definition(OTHER, &id)
        .await
        .unwrap()
        .is_none());
}
