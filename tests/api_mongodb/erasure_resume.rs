//! An erasure on MongoDB is recorded before its first change and completed by the next
//! gateway that starts (issue 21: "resumable where the store has no multi-document
//! transactions"; README "Privacy").

use std::time::Duration;

use mongodb::bson::doc;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{statement, TestApp};

const ANN: &str = "mbox:mailto:ann@example.com";

/// Issue 21, "Erase a person … resumable": a gateway that died after recording an erasure
/// and deleting part of it leaves the record behind; the next gateway to start completes
/// the erasure (statements, evidence, the pseudonymised mention), writes the audit record
/// with the planned counts and drops the record.
#[tokio::test]
async fn an_erasure_cut_short_is_completed_by_the_next_gateway() {
    let first = TestApp::spawn().await;
    let mine = first
        .store(&json!([
            statement("ann@example.com", "completed", "course-1"),
            statement("ann@example.com", "passed", "course-2"),
        ]))
        .await;
    let mut taught = statement("bob@example.com", "completed", "course-1");
    taught["context"] = json!({"instructor": {"mbox": "mailto:ann@example.com"}});
    let kept = first.store(&taught).await.remove(0);

    // What the dead gateway left: the record, and one of the statements already deleted.
    let client = mongodb::Client::with_uri_str(&first.store).await.unwrap();
    let db = client.default_database().unwrap();
    let audit_id = "0000000001000-0a1b2c3d";
    let counts = json!({
        "statements_deleted": 2, "statements_pseudonymised": 1, "attachments_deleted": 0,
        "documents_deleted": 0, "agent_names_deleted": 0, "identities_deleted": 0,
        "team_memberships_deleted": 0, "dead_letters_deleted": 0,
    });
    let erasure = json!({
        "plan": {
            "ifis": [ANN],
            "people": [lrsgate::store::people::own_person(ANN)],
            "pseudonym": "resumed",
            "audit": {"id": audit_id, "action": "erase", "by": "admin", "at_millis": 1000,
                      "counts": {}},
        },
        "counts": counts,
        "hashes": [],
    });
    db.collection::<mongodb::bson::Document>("erasures")
        .insert_one(doc! {"_id": audit_id, "tenant": 1_i64, "erasure": erasure.to_string(), "started": 1000_i64})
        .await
        .unwrap();
    db.collection::<mongodb::bson::Document>("statements")
        .delete_one(doc! {"tenant": 1_i64, "id": &mine[0]})
        .await
        .unwrap();

    let store = first.store.clone();
    let second = TestApp::spawn_with(|s| s.store = store).await;
    let mut records = Vec::new();
    for _ in 0..200 {
        let audit: Value = second
            .admin(Method::GET, "audit")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        records = audit["records"].as_array().cloned().unwrap_or_default();
        if !records.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(records.len(), 1, "the erasure was completed and recorded");
    assert_eq!(records[0]["id"], audit_id);
    assert_eq!(records[0]["counts"], counts);

    for id in &mine {
        assert_eq!(
            second.get_statements(&[("statementId", id)]).await.status(),
            404
        );
    }
    let kept: Value = second
        .get_statements(&[("statementId", &kept)])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        kept["context"]["instructor"]["account"]["name"], "resumed",
        "{kept}"
    );
    let everything = second.all_statements(&[]).await;
    assert!(!json!(everything).to_string().contains("ann@example.com"));
    let left = db
        .collection::<mongodb::bson::Document>("erasures")
        .count_documents(doc! {})
        .await
        .unwrap();
    assert_eq!(left, 0, "the record goes once the erasure is complete");
}
