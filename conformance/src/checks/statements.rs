//! The Statement resource for one statement at a time: PUT and POST, the ids, stored,
//! authority, timestamp and version the LRS sets, immutability of a stored statement, and
//! all-or-nothing batches.

use serde_json::{json, Value};

use crate::check::{Area, Check, Ctx, Verdict};
use crate::checks::common::{self, ensure_same_statement, timestamp};
use crate::config::XapiVersion;
use crate::{ensure, fail};

pub fn checks() -> Vec<Check> {
    vec![
        Check::new(
            Area::Statements,
            "statements.put-new-204",
            "PUT of a new statement answers 204 and the statement reads back unchanged",
            put_new_204,
        )
        .v1(&[
            "Communication 2.1.1.s1",
            "Communication 1.5.1.s1.b1",
            "Communication 2.0.s1.b1",
            "Communication B.s1.table1.row1",
        ])
        .v2(&["4.1.6.1#2", "4.1.6.1#11", "4.1.3#1", "4.1.6#1"]),
        Check::new(
            Area::Statements,
            "statements.put-without-statement-id-400",
            "PUT without the statementId parameter gets 400",
            put_without_statement_id,
        )
        .v1(&["Communication 2.1.1.s1.table1.row1"])
        .v2(&["4.1.6.1#1"]),
        Check::new(
            Area::Statements,
            "statements.post-single-200-ids",
            "POST of one statement answers 200 with an array holding its id",
            post_single,
        )
        .v1(&["Communication 2.1.2.s1", "Communication 1.5.1.s1.b1"])
        .v2(&["4.1.6.1#6", "4.1.3#1"]),
        Check::new(
            Area::Statements,
            "statements.post-batch-ids-in-order",
            "POST of a batch answers 200 with the ids in the order of the statements",
            post_batch_ids_in_order,
        )
        .v1(&["Communication 2.1.2.s1"])
        .v2(&["4.1.6.1#6"]),
        Check::new(
            Area::Statements,
            "statements.id-generated-when-missing",
            "A statement without an id gets a UUID from the LRS",
            id_generated,
        )
        .v1(&["Data 2.4.1.s2.b1"])
        .v2(&["4.2.4.2#2"]),
        Check::new(
            Area::Statements,
            "statements.get-unknown-id-404",
            "GET of a statement id the LRS does not have answers 404",
            get_unknown_id,
        )
        .v1(&["Communication 3.2.s2.b4", "Communication 3.2.s3.b1"])
        .v2(&["4.1.5#1"]),
        Check::new(
            Area::Statements,
            "statements.stored-set-by-lrs",
            "`stored` is set by the LRS, overwriting a submitted value",
            stored_set_by_lrs,
        )
        .v1(&[
            "Data 2.4.8.s3.b2",
            "Data 2.4.s1.table1.row8",
            "Data 2.4.8.s2",
        ])
        .v2(&["4.2.4.2#11", "4.2.4.2#13"]),
        Check::new(
            Area::Statements,
            "statements.authority-set-by-lrs",
            "A stored statement has an authority (an Agent, or a Group of two Agents)",
            authority_set_by_lrs,
        )
        .v1(&["Data 2.4.9.s3.b1", "Data 2.4.9.s3.b3"])
        .v2(&["4.2.4.2#14"]),
        Check::new(
            Area::Statements,
            "statements.authority-overwritten",
            "A submitted authority is replaced by the one of the credentials used",
            authority_overwritten,
        )
        .v1(&["Data 2.4.9.s3.b4"])
        .v2(&["4.2.4.2#15"]),
        Check::new(
            Area::Statements,
            "statements.timestamp-defaults-to-stored",
            "A statement without a timestamp gets one equal to its stored time",
            timestamp_defaults_to_stored,
        )
        .v1(&["Data 2.4.7.s3.b2"])
        .v2(&["4.2.4.2#10"]),
        Check::new(
            Area::Statements,
            "statements.put-existing-id-unchanged",
            "A PUT reusing a stored statement's id changes nothing (204 or 409)",
            put_existing_id_unchanged,
        )
        .v1(&["Communication 2.1.1.s2.b2"])
        .v2(&["4.1.6.1#4"]),
        Check::new(
            Area::Statements,
            "statements.put-conflicting-id-409",
            "A PUT of a different statement under a stored id answers 409",
            put_conflicting_id_409,
        )
        .v1(&["Communication 2.1.1.s2.b3"])
        .v2(&["4.1.6.1#5"]),
        Check::new(
            Area::Statements,
            "statements.post-existing-id-unchanged",
            "A POST reusing a stored statement's id changes nothing",
            post_existing_id_unchanged,
        )
        .v1(&["Communication 2.1.2.s2.b4"])
        .v2(&["4.1.6.1#8"]),
        Check::new(
            Area::Statements,
            "statements.post-conflicting-id-409",
            "A POST of a different statement under a stored id answers 409",
            post_conflicting_id_409,
        )
        .v1(&["Communication 2.1.2.s2.b5"])
        .v2(&["4.1.6.1#9"]),
        Check::new(
            Area::Statements,
            "statements.batch-duplicate-ids-400",
            "A batch holding two statements with the same id gets 400 and stores neither",
            batch_duplicate_ids,
        )
        .v1(&["Communication 2.1.2.s2.b6", "Communication 2.1.1.s2.b4"])
        .v2(&["4.1.6.1#10"]),
        Check::new(
            Area::Statements,
            "statements.batch-all-or-nothing",
            "A batch with one invalid statement is rejected whole: none of it is stored",
            batch_all_or_nothing,
        )
        .v1(&["Communication 3.2.s3.b9"])
        .v2(&["4.1.5#7"]),
        Check::new(
            Area::Statements,
            "statements.version-set-when-missing",
            "A statement without a version is returned with version 1.0.0 (2.0.0)",
            version_set_when_missing,
        )
        .v1(&["Data 2.4.10.s3.b3"])
        .v2(&["4.2.4.3#5"]),
        Check::new(
            Area::Statements,
            "statements.version-retained",
            "A statement is returned with the version it was accepted with",
            version_retained,
        )
        .v1(&["Data 2.4.10.s3.b1", "Data 2.4.10.s3.b3"])
        .v2(&["4.2.4.3#4"]),
        Check::new(
            Area::Statements,
            "statements.version-outside-1.0-rejected",
            "A statement whose version does not start with 1.0. gets 400",
            version_outside_line_rejected,
        )
        .v1(&["Data 2.4.10.s3.b2"]),
        Check::new(
            Area::Statements,
            "statements.other-version-accepted",
            "A statement valid but for its version property is still accepted",
            other_version_accepted,
        )
        .v2(&["4.2.4.2#21"]),
    ]
}

async fn put_new_204(cx: Ctx) -> Verdict {
    let id = cx.fx.uuid();
    let mut statement = cx.fx.statement();
    statement["id"] = json!(id);
    let response = cx
        .put("statements")
        .query("statementId", &id)
        .json(&statement)
        .send()
        .await?
        .expect(204, "PUT /statements?statementId=… of a new statement")?;
    ensure!(
        response.body.is_empty(),
        "a 204 answer has no body, got {} bytes",
        response.body.len()
    );
    let stored = common::get_statement(&cx, &id).await?;
    ensure!(
        stored["id"] == id,
        "GET by statementId returned id {}, expected {id}",
        stored["id"]
    );
    ensure_same_statement(&statement, &stored, "the statement read back")
}

async fn put_without_statement_id(cx: Ctx) -> Verdict {
    let mut statement = cx.fx.statement();
    statement["id"] = json!(cx.fx.uuid());
    cx.put("statements")
        .json(&statement)
        .send()
        .await?
        .expect(400, "PUT /statements without statementId")?;
    Ok(())
}

async fn post_single(cx: Ctx) -> Verdict {
    let id = cx.fx.uuid();
    let mut statement = cx.fx.statement();
    statement["id"] = json!(id);
    // A single statement, not wrapped in an array.
    let response = cx
        .post("statements")
        .json(&statement)
        .send()
        .await?
        .expect(200, "POST /statements of one statement")?;
    let ids = common::id_list(&response)?;
    ensure!(
        ids == [id.clone()],
        "expected the id list [{id}], got {ids:?}"
    );
    let stored = common::get_statement(&cx, &id).await?;
    ensure_same_statement(&statement, &stored, "the statement read back")
}

async fn post_batch_ids_in_order(cx: Ctx) -> Verdict {
    let (first, third) = (cx.fx.uuid(), cx.fx.uuid());
    let mut batch = vec![cx.fx.statement(), cx.fx.statement(), cx.fx.statement()];
    batch[0]["id"] = json!(first);
    batch[2]["id"] = json!(third);
    let ids = common::post_statements(&cx, &Value::Array(batch.clone())).await?;
    ensure!(
        ids.len() == 3,
        "a batch of 3 statements answered {} ids: {ids:?}",
        ids.len()
    );
    ensure!(
        ids[0] == first && ids[2] == third,
        "ids must follow the statements' order: sent [{first}, (none), {third}], got {ids:?}"
    );
    ensure!(
        common::is_uuid(&ids[1]),
        "the id made for the statement without one is not a UUID: {}",
        ids[1]
    );
    let middle = common::get_statement(&cx, &ids[1]).await?;
    ensure_same_statement(
        &batch[1],
        &middle,
        "the second statement read back by its new id",
    )
}

async fn id_generated(cx: Ctx) -> Verdict {
    let statement = cx.fx.statement();
    let id = common::post_statement(&cx, &statement).await?;
    ensure!(
        common::is_uuid(&id),
        "the LRS answered id `{id}`, not a UUID"
    );
    let stored = common::get_statement(&cx, &id).await?;
    ensure!(
        stored["id"] == id,
        "the stored statement has id {}, the POST answered {id}",
        stored["id"]
    );
    Ok(())
}

async fn get_unknown_id(cx: Ctx) -> Verdict {
    let id = cx.fx.uuid();
    cx.get("statements")
        .query("statementId", &id)
        .send()
        .await?
        .expect(404, "GET /statements?statementId=<never stored>")?;
    Ok(())
}

async fn stored_set_by_lrs(cx: Ctx) -> Verdict {
    let submitted = "2001-02-03T04:05:06.000Z";
    let mut statement = cx.fx.statement();
    statement["stored"] = json!(submitted);
    let id = common::post_statement(&cx, &statement).await?;
    let got = common::get_statement(&cx, &id).await?;
    let stored = timestamp(&got["stored"], "the returned `stored`")?;
    let sent = timestamp(&json!(submitted), "the submitted `stored`")?;
    ensure!(
        stored != sent,
        "`stored` kept the submitted value {submitted}: the LRS must set it"
    );
    Ok(())
}

fn is_agent(value: &Value) -> bool {
    value.is_object()
        && value.get("objectType").is_none_or(|t| t == "Agent")
        && ["mbox", "mbox_sha1sum", "openid", "account"]
            .iter()
            .filter(|k| value.get(**k).is_some())
            .count()
            == 1
}

async fn authority_set_by_lrs(cx: Ctx) -> Verdict {
    let id = common::post_statement(&cx, &cx.fx.statement()).await?;
    let got = common::get_statement(&cx, &id).await?;
    let authority = &got["authority"];
    let valid = is_agent(authority)
        || (authority["objectType"] == "Group"
            && authority["member"]
                .as_array()
                .is_some_and(|m| m.len() == 2 && m.iter().all(is_agent)));
    ensure!(
        valid,
        "the stored statement's authority must be an Agent with one identifier (or a Group of two Agents), got {authority}"
    );
    Ok(())
}

async fn authority_overwritten(cx: Ctx) -> Verdict {
    let claimed = json!({ "objectType": "Agent", "mbox": cx.fx.mbox() });
    let mut statement = cx.fx.statement();
    statement["authority"] = claimed.clone();
    let id = common::post_statement(&cx, &statement).await?;
    let got = common::get_statement(&cx, &id).await?;
    ensure!(
        got["authority"]["mbox"] != claimed["mbox"],
        "the submitted authority {claimed} was kept; it should be replaced by the credentials' own"
    );
    Ok(())
}

async fn timestamp_defaults_to_stored(cx: Ctx) -> Verdict {
    let id = common::post_statement(&cx, &cx.fx.statement()).await?;
    let got = common::get_statement(&cx, &id).await?;
    let stamp = timestamp(&got["timestamp"], "the returned `timestamp`")?;
    let stored = timestamp(&got["stored"], "the returned `stored`")?;
    ensure!(
        stamp == stored,
        "timestamp {stamp} differs from stored {stored}"
    );
    Ok(())
}

/// A statement conflicting with `original`: same id, another verb and object.
fn conflicting(cx: &Ctx, original: &Value) -> Value {
    let mut other = cx.fx.statement();
    other["id"] = original["id"].clone();
    other["actor"] = original["actor"].clone();
    other["verb"] =
        json!({ "id": "http://adlnet.gov/expapi/verbs/failed", "display": {"en-US": "failed"} });
    other
}

/// Stores a statement under a fresh id, sends a conflicting one under the same id with
/// `method`, and returns the conflicting answer's status after checking nothing changed.
async fn reuse_id(cx: &Ctx, method: &str) -> Result<u16, crate::Failure> {
    let id = cx.fx.uuid();
    let mut original = cx.fx.statement();
    original["id"] = json!(id);
    common::put_statement(cx, &id, &original).await?;
    let before = common::get_statement(cx, &id).await?;
    let other = conflicting(cx, &original);
    let response = match method {
        "PUT" => cx.put("statements").query("statementId", &id).json(&other),
        _ => cx.post("statements").json(&Value::Array(vec![other])),
    }
    .send()
    .await?;
    let after = common::get_statement(cx, &id).await?;
    ensure_same_statement(
        &original,
        &after,
        &format!("after a conflicting {method} the stored statement"),
    )?;
    ensure!(
        before["stored"] == after["stored"],
        "after a conflicting {method}, `stored` changed from {} to {}",
        before["stored"],
        after["stored"]
    );
    Ok(response.status)
}

async fn put_existing_id_unchanged(cx: Ctx) -> Verdict {
    let status = reuse_id(&cx, "PUT").await?;
    ensure!(
        matches!(status, 204 | 409),
        "a PUT reusing a stored id must answer 204 or 409, got {status}"
    );
    Ok(())
}

async fn put_conflicting_id_409(cx: Ctx) -> Verdict {
    let status = reuse_id(&cx, "PUT").await?;
    ensure!(status == 409, "expected 409 Conflict, got {status}");
    Ok(())
}

async fn post_existing_id_unchanged(cx: Ctx) -> Verdict {
    let status = reuse_id(&cx, "POST").await?;
    ensure!(
        matches!(status, 200 | 204 | 409),
        "a POST reusing a stored id must not fail otherwise than with 409, got {status}"
    );
    Ok(())
}

async fn post_conflicting_id_409(cx: Ctx) -> Verdict {
    let status = reuse_id(&cx, "POST").await?;
    ensure!(status == 409, "expected 409 Conflict, got {status}");
    Ok(())
}

async fn batch_duplicate_ids(cx: Ctx) -> Verdict {
    let id = cx.fx.uuid();
    let mut first = cx.fx.statement();
    first["id"] = json!(id);
    let mut second = cx.fx.statement();
    second["id"] = json!(id);
    cx.post("statements")
        .json(&json!([first, second]))
        .send()
        .await?
        .expect(400, "POST of a batch with two statements sharing an id")?;
    cx.get("statements")
        .query("statementId", &id)
        .send()
        .await?
        .expect(404, "GET of the duplicated id after the rejected batch")?;
    Ok(())
}

async fn batch_all_or_nothing(cx: Ctx) -> Verdict {
    let good = cx.fx.uuid();
    let mut valid = cx.fx.statement();
    valid["id"] = json!(good);
    let mut invalid = cx.fx.statement();
    invalid["id"] = json!(cx.fx.uuid());
    invalid["verb"] = json!({ "id": "not an IRI" });
    cx.post("statements")
        .json(&json!([valid, invalid]))
        .send()
        .await?
        .expect(
            400,
            "POST of a batch whose second statement has an invalid verb id",
        )?;
    cx.get("statements")
        .query("statementId", &good)
        .send()
        .await?
        .expect(
            404,
            "GET of the batch's valid statement after the batch was rejected",
        )?;
    Ok(())
}

fn default_statement_version(cx: &Ctx) -> &'static str {
    match cx.version {
        XapiVersion::V1_0_3 => "1.0.0",
        XapiVersion::V2_0_0 => "2.0.0",
    }
}

async fn version_set_when_missing(cx: Ctx) -> Verdict {
    let id = common::post_statement(&cx, &cx.fx.statement()).await?;
    let got = common::get_statement(&cx, &id).await?;
    let expected = default_statement_version(&cx);
    ensure!(
        got["version"] == expected,
        "a statement sent without a version is returned with version {}, expected {expected}",
        got["version"]
    );
    Ok(())
}

async fn version_retained(cx: Ctx) -> Verdict {
    let versions: &[&str] = match cx.version {
        XapiVersion::V1_0_3 => &["1.0.0", "1.0.3"],
        XapiVersion::V2_0_0 => &["2.0.0"],
    };
    for version in versions {
        let mut statement = cx.fx.statement();
        statement["version"] = json!(version);
        let id = common::post_statement(&cx, &statement).await?;
        let got = common::get_statement(&cx, &id).await?;
        ensure!(
            got["version"] == *version,
            "a statement accepted with version {version} is returned with version {}",
            got["version"]
        );
    }
    Ok(())
}

async fn version_outside_line_rejected(cx: Ctx) -> Verdict {
    for version in ["0.95", "1.1.0", "2.0.0"] {
        let mut statement = cx.fx.statement();
        statement["version"] = json!(version);
        cx.post("statements")
            .json(&statement)
            .send()
            .await?
            .expect(400, &format!("POST of a statement with version {version}"))?;
    }
    Ok(())
}

async fn other_version_accepted(cx: Ctx) -> Verdict {
    let mut statement = cx.fx.statement();
    statement["version"] = json!("1.0.0");
    let response = cx.post("statements").json(&statement).send().await?;
    if response.status != 200 {
        fail!(
            "a statement valid but for version 1.0.0 was rejected with {}",
            response.status
        );
    }
    Ok(())
}
