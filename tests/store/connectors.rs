//! The connector store contract (`ConnectorStore`): configurations, run state, the leases
//! that let one gateway among many run a connector, and forwarders' dead letters. Run on
//! every backend by `main.rs`; reopening a store is tested here for each backend.

use lrsgate::store::connectors::{lease_prefix, ConnectorRecord, DeadLetter};
use lrsgate::store::{Store, DEFAULT_TENANT};
use serde_json::{json, Value};

const T: i64 = DEFAULT_TENANT;
const OTHER: i64 = 2;

fn record(id: &str, config: Value) -> ConnectorRecord {
    ConnectorRecord {
        id: id.into(),
        config,
        updated_millis: 1_000,
    }
}

fn letter(id: &str, failed_millis: i64) -> DeadLetter {
    DeadLetter {
        statement_id: id.into(),
        error: format!("HTTP 500 from the receiver for {id}"),
        attempts: 5,
        failed_millis,
    }
}

/// Promise: a connector is created (reported new), replaced (not new, its state kept),
/// read back, listed by id within its tenant only and across tenants for the scheduler,
/// and deleted once.
pub async fn configurations_are_created_replaced_listed_and_deleted(store: &Store) {
    let c = &store.connectors;
    let forward =
        json!({"kind": "forward", "url": "http://127.0.0.1:1/xapi", "password": "s3cret"});
    assert!(c
        .put_connector(T, record("b-forward", forward.clone()))
        .await
        .unwrap());
    assert!(c
        .put_connector(T, record("a-talks", json!({"kind": "talks"})))
        .await
        .unwrap());
    assert!(c
        .put_connector(OTHER, record("theirs", json!({"kind": "talks"})))
        .await
        .unwrap());
    c.put_connector_state(T, "b-forward", json!({"cursor": 41}))
        .await
        .unwrap();

    let replaced = json!({"kind": "forward", "url": "http://127.0.0.1:2/xapi"});
    let mut newer = record("b-forward", replaced.clone());
    newer.updated_millis = 2_000;
    assert!(
        !c.put_connector(T, newer.clone()).await.unwrap(),
        "a replacement is not new"
    );
    assert_eq!(c.connector(T, "b-forward").await.unwrap(), Some(newer));
    assert_eq!(
        c.connector_state(T, "b-forward").await.unwrap(),
        Some(json!({"cursor": 41})),
        "replacing the configuration keeps the state"
    );

    let ids: Vec<String> = c
        .connectors(T)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["a-talks", "b-forward"]);
    let all: Vec<(i64, String)> = c
        .all_connectors()
        .await
        .unwrap()
        .into_iter()
        .map(|(t, r)| (t, r.id))
        .collect();
    assert_eq!(
        all,
        [
            (T, "a-talks".to_owned()),
            (T, "b-forward".to_owned()),
            (OTHER, "theirs".to_owned())
        ]
    );
    assert_eq!(c.connector(OTHER, "b-forward").await.unwrap(), None);
    assert_eq!(c.connector(T, "theirs").await.unwrap(), None);

    assert!(c.delete_connector(T, "a-talks").await.unwrap());
    assert!(!c.delete_connector(T, "a-talks").await.unwrap());
    assert_eq!(c.connector(T, "a-talks").await.unwrap(), None);
    assert_eq!(c.connectors(OTHER).await.unwrap().len(), 1);
}

/// Promise: a connector's state starts empty, is replaced by each save, is refused for a
/// connector that does not exist (a run whose connector was deleted must not write into
/// nothing) and is kept per tenant.
pub async fn state_is_saved_replaced_and_scoped(store: &Store) {
    let c = &store.connectors;
    c.put_connector(T, record("pull", json!({"kind": "x"})))
        .await
        .unwrap();
    c.put_connector(OTHER, record("pull", json!({"kind": "x"})))
        .await
        .unwrap();
    assert_eq!(c.connector_state(T, "pull").await.unwrap(), None);
    c.put_connector_state(T, "pull", json!({"high_water": "2024-01-01"}))
        .await
        .unwrap();
    c.put_connector_state(T, "pull", json!({"high_water": "2024-02-01", "n": 2}))
        .await
        .unwrap();
    assert_eq!(
        c.connector_state(T, "pull").await.unwrap(),
        Some(json!({"high_water": "2024-02-01", "n": 2}))
    );
    assert_eq!(c.connector_state(OTHER, "pull").await.unwrap(), None);
    assert!(c
        .put_connector_state(T, "missing", json!({}))
        .await
        .is_err());
    assert_eq!(c.connector_state(T, "missing").await.unwrap(), None);
}

/// Promise: one owner at a time holds a lease; its owner renews it, another takes it only
/// once it has expired, a release by someone else changes nothing, and a release by the
/// owner frees it at once.
pub async fn a_lease_has_one_owner_until_it_expires_or_is_released(store: &Store) {
    let c = &store.connectors;
    let name = lease_prefix(T, "pull");
    assert!(c.acquire_lease(&name, "gw-a", 1_000, 100).await.unwrap());
    assert!(!c.acquire_lease(&name, "gw-b", 1_050, 100).await.unwrap());
    assert!(
        c.acquire_lease(&name, "gw-a", 1_050, 100).await.unwrap(),
        "the owner renews"
    );
    assert!(
        !c.acquire_lease(&name, "gw-b", 1_149, 100).await.unwrap(),
        "the renewal moved the expiry to 1150"
    );
    assert!(
        c.acquire_lease(&name, "gw-b", 1_150, 100).await.unwrap(),
        "an expired lease is taken over"
    );
    assert!(!c.acquire_lease(&name, "gw-a", 1_160, 100).await.unwrap());
    c.release_lease(&name, "gw-a").await.unwrap();
    assert!(
        !c.acquire_lease(&name, "gw-a", 1_170, 100).await.unwrap(),
        "a release by a non-owner changes nothing"
    );
    c.release_lease(&name, "gw-b").await.unwrap();
    assert!(c.acquire_lease(&name, "gw-a", 1_170, 100).await.unwrap());
    // Leases are independent of each other.
    assert!(c
        .acquire_lease(&lease_prefix(T, "other"), "gw-b", 1_170, 100)
        .await
        .unwrap());
}

/// Promise: of owners racing for a free lease at the same moment, exactly one gets it.
pub async fn racing_owners_of_a_free_lease_give_it_to_one(store: &Store) {
    let name = lease_prefix(T, "race");
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let store = store.clone();
            let name = name.clone();
            tokio::spawn(async move {
                store
                    .connectors
                    .acquire_lease(&name, &format!("gw-{n}"), 5_000, 60_000)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.unwrap());
    }
    assert_eq!(won, 1);
}

/// Promise: dead letters are added (replaced by statement id), listed oldest first up to
/// a limit, per connector and tenant, and removed by id (counting only those removed).
pub async fn dead_letters_are_added_listed_oldest_first_and_removed(store: &Store) {
    let c = &store.connectors;
    c.add_dead_letters(T, "fwd", vec![letter("s2", 200), letter("s1", 100)])
        .await
        .unwrap();
    c.add_dead_letters(T, "fwd", vec![letter("s3", 300)])
        .await
        .unwrap();
    let mut again = letter("s1", 400);
    again.attempts = 9;
    c.add_dead_letters(T, "fwd", vec![again.clone()])
        .await
        .unwrap();
    c.add_dead_letters(T, "other", vec![letter("s9", 50)])
        .await
        .unwrap();
    c.add_dead_letters(OTHER, "fwd", vec![letter("s8", 50)])
        .await
        .unwrap();

    let listed = c.dead_letters(T, "fwd", 100).await.unwrap();
    assert_eq!(listed, vec![letter("s2", 200), letter("s3", 300), again]);
    let first: Vec<String> = c
        .dead_letters(T, "fwd", 2)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.statement_id)
        .collect();
    assert_eq!(first, ["s2", "s3"]);

    let removed = c
        .remove_dead_letters(T, "fwd", &["s2".into(), "s9".into(), "nope".into()])
        .await
        .unwrap();
    assert_eq!(removed, 1, "s9 belongs to another connector");
    let left: Vec<String> = c
        .dead_letters(T, "fwd", 100)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.statement_id)
        .collect();
    assert_eq!(left, ["s3", "s1"]);
    assert_eq!(c.dead_letters(T, "other", 100).await.unwrap().len(), 1);
    assert_eq!(c.dead_letters(OTHER, "fwd", 100).await.unwrap().len(), 1);
}

/// Promise: deleting a connector takes its state, its lease (and its parts' leases) and
/// its dead letters with it, and nothing of another connector or tenant.
pub async fn deleting_a_connector_removes_its_state_lease_and_dead_letters(store: &Store) {
    let c = &store.connectors;
    for (tenant, id) in [(T, "fwd"), (T, "fwd2"), (OTHER, "fwd")] {
        c.put_connector(tenant, record(id, json!({"kind": "forward"})))
            .await
            .unwrap();
        c.put_connector_state(tenant, id, json!({"delivered": 3}))
            .await
            .unwrap();
        c.add_dead_letters(tenant, id, vec![letter("s1", 1)])
            .await
            .unwrap();
        assert!(c
            .acquire_lease(&lease_prefix(tenant, id), "gw-a", 1_000, 1_000_000)
            .await
            .unwrap());
    }
    let outbox = format!("{}:outbox", lease_prefix(T, "fwd"));
    assert!(c
        .acquire_lease(&outbox, "gw-a", 1_000, 1_000_000)
        .await
        .unwrap());

    assert!(c.delete_connector(T, "fwd").await.unwrap());
    assert_eq!(c.connector_state(T, "fwd").await.unwrap(), None);
    assert!(c.dead_letters(T, "fwd", 10).await.unwrap().is_empty());
    assert!(
        c.acquire_lease(&lease_prefix(T, "fwd"), "gw-b", 1_001, 10)
            .await
            .unwrap(),
        "the lease went with the connector"
    );
    assert!(c.acquire_lease(&outbox, "gw-b", 1_001, 10).await.unwrap());

    // A connector created again under the id starts afresh.
    c.put_connector(T, record("fwd", json!({"kind": "forward"})))
        .await
        .unwrap();
    assert_eq!(c.connector_state(T, "fwd").await.unwrap(), None);

    for (tenant, id) in [(T, "fwd2"), (OTHER, "fwd")] {
        assert_eq!(
            c.connector_state(tenant, id).await.unwrap(),
            Some(json!({"delivered": 3}))
        );
        assert_eq!(c.dead_letters(tenant, id, 10).await.unwrap().len(), 1);
        assert!(!c
            .acquire_lease(&lease_prefix(tenant, id), "gw-b", 1_001, 10)
            .await
            .unwrap());
    }
}

/// Promise: configurations, state, dead letters and leases are durable: a store opened
/// again on the same URL reads them back.
async fn everything_survives_reopening(url: &str) {
    {
        let store = Store::open(url).await.unwrap();
        let c = &store.connectors;
        c.put_connector(T, record("pull", json!({"kind": "x", "token": "t"})))
            .await
            .unwrap();
        c.put_connector_state(T, "pull", json!({"high_water": 7}))
            .await
            .unwrap();
        c.add_dead_letters(T, "pull", vec![letter("s1", 1)])
            .await
            .unwrap();
        assert!(c
            .acquire_lease("connector:1:pull", "gw-a", 0, 1_000)
            .await
            .unwrap());
    }
    let store = Store::open(url).await.unwrap();
    let c = &store.connectors;
    assert_eq!(
        c.connector(T, "pull").await.unwrap().map(|r| r.config),
        Some(json!({"kind": "x", "token": "t"}))
    );
    assert_eq!(
        c.connector_state(T, "pull").await.unwrap(),
        Some(json!({"high_water": 7}))
    );
    assert_eq!(
        c.dead_letters(T, "pull", 10).await.unwrap(),
        vec![letter("s1", 1)]
    );
    assert!(!c
        .acquire_lease("connector:1:pull", "gw-b", 500, 1_000)
        .await
        .unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_connectors_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("lrs.db").display());
    everything_survives_reopening(&url).await;
}

#[cfg(feature = "mongodb")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongodb_connectors_survive_reopening() {
    everything_survives_reopening(&crate::mongodb_server::fresh_database_url()).await;
}
