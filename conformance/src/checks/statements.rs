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
            "Communication B.s1.table1.row1",
        ])
        .v2(&["4.1.6.1#2", "4.1.6.1#11", "4.1.3#1"]),
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
            "statements.put-id-mismatch-400",
            "PUT of a statement whose id differs from the statementId parameter gets 400",
            put_id_mismatch,
        )
        .v1(&["Communication 2.1.1.s3.b3"]),
        Check::new(
            Area::Statements,
            "statements.full-statement-round-trip",
            "A statement using every property comes back with every property as sent",
            full_statement_round_trip,
        )
        .v1(&["Data 2.2.s2.b5"])
        .v2(&["4.2.4.2#1", "4.2#1"]),
        Check::new(
            Area::Statements,
            "statements.context-activities-as-arrays",
            "A single Activity given as a contextActivities value comes back as a one-element array",
            context_activities_as_arrays,
        )
        .v1(&["Data 2.4.6.2.s4.b3", "Data 2.4.6.2.s4.b4"])
        .v2(&["4.2.4.2#19", "4.2.4.2#20"]),
        Check::new(
            Area::Statements,
            "statements.numbers-keep-precision",
            "Scores come back with at least single-precision accuracy",
            numbers_keep_precision,
        )
        .v2(&["4.2.4.2#5"]),
        Check::new(
            Area::Statements,
            "statements.object-without-type-is-activity",
            "An object without objectType is stored and found as an Activity",
            object_without_type_is_activity,
        )
        .v1(&["Data 2.4.4.s2"])
        .v2(&["4.2.2.3#1"]),
        Check::new(
            Area::Statements,
            "statements.future-timestamp-accepted",
            "A timestamp a little ahead of the LRS's clock is accepted",
            future_timestamp_accepted,
        )
        .v1(&["Data 2.4.7.s3.b6"])
        .v2(&["4.2.4.1#7"]),
        Check::new(
            Area::Statements,
            "statements.timestamp-converted-to-utc",
            "A timestamp with a UTC offset is accepted and returned as the same instant in UTC",
            timestamp_converted_to_utc,
        )
        .v1(&["Data 4.5.s1.b6"])
        .v2(&["4.2.7#8"]),
        Check::new(
            Area::Statements,
            "statements.timestamp-keeps-milliseconds",
            "A timestamp with milliseconds comes back with them",
            timestamp_keeps_milliseconds,
        )
        .v1(&["Data 4.5.s1.b3"])
        .v2(&["4.2.7#9"]),
        Check::new(
            Area::Statements,
            "statements.lrs-timestamps-rfc3339",
            "stored and a default timestamp are RFC 3339 with a time zone, and stored is not in the future",
            lrs_timestamps_rfc3339,
        )
        .v1(&["Data 4.5.s1.b2", "Data 4.5.s1.b4", "Data 2.4.8.s3.b3"]),
        Check::new(
            Area::Statements,
            "statements.stored-value-validated",
            "A statement with a malformed stored value gets 400",
            stored_value_validated,
        )
        .v2(&["4.2.4.2#12"]),
        Check::new(
            Area::Statements,
            "statements.authority-from-credentials",
            "The authority is an Agent, the same for every statement sent with the same credentials",
            authority_from_credentials,
        )
        .v1(&["Data 2.4.9.s3.b2"])
        .v2(&["4.2.4.2#16"]),
        Check::new(
            Area::Statements,
            "statements.equivalent-statement-no-conflict",
            "Reusing an id for a statement differing only where immutability allows is not a conflict",
            equivalent_statement_no_conflict,
        )
        .v1(&["Data 2.3.1.s9.b1"])
        .v2(&["4.2#2"]),
        Check::new(
            Area::Statements,
            "statements.serialization-difference-conflicts",
            "Reusing an id with a value written differently (case of a response) is a conflict",
            serialization_difference_conflicts,
        )
        .v1(&["Data 2.3.1.s9.b2"]),
        Check::new(
            Area::Statements,
            "statements.duration-precision-ignored",
            "Reusing an id with a duration differing beyond 0.01 s is not a conflict",
            duration_precision_ignored,
        )
        .v1(&["Data 4.6.s1.b5"])
        .v2(&["4.2.7#14"]),
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

async fn put_id_mismatch(cx: Ctx) -> Verdict {
    let mut statement = cx.fx.statement();
    statement["id"] = json!(cx.fx.uuid());
    let parameter = cx.fx.uuid();
    cx.put("statements")
        .query("statementId", &parameter)
        .json(&statement)
        .send()
        .await?
        .expect(
            400,
            "PUT /statements?statementId=A of a statement with id B",
        )?;
    Ok(())
}

/// A statement using every Statement property a client may send.
fn full_statement(cx: &Ctx) -> Value {
    let mut statement = cx.fx.statement();
    statement["result"] = json!({
        "score": { "scaled": 0.75, "raw": 75, "min": 0, "max": 100 },
        "success": true,
        "completion": true,
        "response": "We agreed on a plan",
        "duration": "PT1H2M3.45S",
        "extensions": { cx.fx.iri("extension"): { "nested": [1, "two", null, false] } }
    });
    statement["context"] = json!({
        "registration": cx.fx.uuid(),
        "instructor": cx.fx.agent(),
        "team": { "objectType": "Group", "name": "Team", "member": [cx.fx.agent()] },
        "contextActivities": {
            "parent": [cx.fx.activity()],
            "grouping": [cx.fx.activity()],
            "category": [{ "id": cx.fx.iri("category"), "objectType": "Activity" }],
            "other": [cx.fx.activity()]
        },
        "revision": "r2",
        "platform": "lrs-conformance",
        "language": "en-US",
        "statement": { "objectType": "StatementRef", "id": cx.fx.uuid() },
        "extensions": { cx.fx.iri("extension"): 42 }
    });
    statement["object"]["definition"]["description"] = json!({ "en-US": "All properties" });
    statement["object"]["definition"]["moreInfo"] = json!(cx.fx.iri("more-info"));
    statement["object"]["definition"]["extensions"] = json!({ cx.fx.iri("extension"): "x" });
    statement
}

async fn full_statement_round_trip(cx: Ctx) -> Verdict {
    let statement = full_statement(&cx);
    let id = common::post_statement(&cx, &statement).await?;
    let got = common::get_statement(&cx, &id).await?;
    ensure_same_statement(&statement, &got, "the statement read back")
}

async fn context_activities_as_arrays(cx: Ctx) -> Verdict {
    let parent = cx.fx.activity();
    let mut statement = cx.fx.statement();
    statement["context"] =
        json!({ "contextActivities": { "parent": parent, "other": [cx.fx.activity()] } });
    let id = common::post_statement(&cx, &statement).await?;
    let got = common::get_statement(&cx, &id).await?;
    let activities = &got["context"]["contextActivities"];
    for key in ["parent", "other"] {
        match activities[key].as_array().map(Vec::as_slice) {
            Some([one]) => {
                let sent = if key == "parent" {
                    &parent
                } else {
                    &statement["context"]["contextActivities"]["other"][0]
                };
                if let Some(diff) = common::difference(sent, one) {
                    fail!("contextActivities.{key}[0]{diff}");
                }
            }
            _ => fail!(
                "contextActivities.{key} must come back as an array of one Activity, got {}",
                activities[key]
            ),
        }
    }
    Ok(())
}

async fn numbers_keep_precision(cx: Ctx) -> Verdict {
    let mut statement = cx.fx.statement();
    statement["result"] =
        json!({ "score": { "scaled": 0.123456, "raw": 12345.67, "min": -1000.5, "max": 99999.5 } });
    let id = common::post_statement(&cx, &statement).await?;
    let got = common::get_statement(&cx, &id).await?;
    for key in ["scaled", "raw", "min", "max"] {
        let sent = statement["result"]["score"][key]
            .as_f64()
            .unwrap_or_default();
        let Some(back) = got["result"]["score"][key].as_f64() else {
            fail!("score.{key} came back as {}", got["result"]["score"][key]);
        };
        // Single precision keeps about 7 significant digits.
        let close = ((back - sent) / sent).abs() < 1e-6;
        ensure!(close, "score.{key} sent as {sent}, returned as {back}");
    }
    Ok(())
}

async fn object_without_type_is_activity(cx: Ctx) -> Verdict {
    let activity_id = cx.fx.iri("activity");
    let mut statement = cx.fx.statement();
    statement["object"] = json!({ "id": activity_id });
    let id = common::post_statement(&cx, &statement).await?;
    let got = common::get_statement(&cx, &id).await?;
    let object_type = got["object"].get("objectType");
    ensure!(
        object_type.is_none_or(|t| t == "Activity"),
        "an object sent without objectType came back with objectType {}",
        got["object"]["objectType"]
    );
    let found = common::query(&cx, &[("activity", &activity_id)]).await?;
    ensure!(
        common::ids_of(&found) == [id.clone()],
        "the activity filter does not find the statement whose object has no objectType: {:?}",
        common::ids_of(&found)
    );
    Ok(())
}

async fn future_timestamp_accepted(cx: Ctx) -> Verdict {
    let ahead = chrono::Utc::now() + chrono::Duration::seconds(90);
    let mut statement = cx.fx.statement();
    statement["timestamp"] = json!(ahead.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    cx.post("statements")
        .json(&statement)
        .send()
        .await?
        .expect(200, "POST of a statement timestamped 90 s ahead")?;
    Ok(())
}

async fn timestamp_converted_to_utc(cx: Ctx) -> Verdict {
    let sent = "2024-05-01T14:30:00.250+02:00";
    let mut statement = cx.fx.statement();
    statement["timestamp"] = json!(sent);
    let id = common::post_statement(&cx, &statement).await?;
    let got = common::get_statement(&cx, &id).await?;
    let back = timestamp(&got["timestamp"], "the returned timestamp")?;
    ensure!(
        back == timestamp(&json!(sent), "the sent timestamp")?,
        "timestamp sent as {sent} came back as {}, another instant",
        got["timestamp"]
    );
    ensure!(
        back.offset().local_minus_utc() == 0,
        "timestamp sent as {sent} came back as {}, not in UTC",
        got["timestamp"]
    );
    Ok(())
}

async fn timestamp_keeps_milliseconds(cx: Ctx) -> Verdict {
    let sent = "2024-05-01T12:00:00.123Z";
    let mut statement = cx.fx.statement();
    statement["timestamp"] = json!(sent);
    let id = common::post_statement(&cx, &statement).await?;
    let got = common::get_statement(&cx, &id).await?;
    let back = timestamp(&got["timestamp"], "the returned timestamp")?;
    ensure!(
        back.timestamp_subsec_millis() == 123 && back.timestamp() == 1_714_564_800,
        "timestamp sent as {sent} came back as {}",
        got["timestamp"]
    );
    Ok(())
}

async fn lrs_timestamps_rfc3339(cx: Ctx) -> Verdict {
    let id = common::post_statement(&cx, &cx.fx.statement()).await?;
    let response = cx
        .get("statements")
        .query("statementId", &id)
        .send()
        .await?
        .expect(200, "GET /statements?statementId=…")?;
    let got = response.json()?;
    let stored = timestamp(&got["stored"], "stored")?;
    timestamp(&got["timestamp"], "timestamp")?;
    // The LRS's own clock, from its Date header: stored must not be ahead of it.
    if let Some(date) = response
        .header("Date")
        .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
    {
        ensure!(
            stored.timestamp() <= date.timestamp() + 1,
            "stored {stored} is later than the LRS's own Date header {date}"
        );
    }
    Ok(())
}

async fn stored_value_validated(cx: Ctx) -> Verdict {
    let mut statement = cx.fx.statement();
    statement["stored"] = json!("yesterday at noon");
    cx.post("statements")
        .json(&statement)
        .send()
        .await?
        .expect(
            400,
            "POST of a statement whose stored value is not a timestamp",
        )?;
    Ok(())
}

async fn authority_from_credentials(cx: Ctx) -> Verdict {
    let ids = common::post_statements(&cx, &json!([cx.fx.statement()])).await?;
    let again = common::post_statement(&cx, &cx.fx.statement()).await?;
    let first = common::get_statement(&cx, &ids[0]).await?["authority"].clone();
    let second = common::get_statement(&cx, &again).await?["authority"].clone();
    ensure!(
        is_agent(&first),
        "with direct credentials the authority must be one Agent, got {first}"
    );
    ensure!(
        common::difference(&first, &second).is_none()
            && common::difference(&second, &first).is_none(),
        "the same credentials gave two authorities: {first} and {second}"
    );
    Ok(())
}

/// Stores `original` under a fresh id, PUTs `variant` under the same id and returns the
/// status of that second PUT.
async fn put_twice(cx: &Ctx, original: &Value, variant: &Value) -> Result<u16, crate::Failure> {
    let id = cx.fx.uuid();
    common::put_statement(cx, &id, original).await?;
    Ok(cx
        .put("statements")
        .query("statementId", &id)
        .json(variant)
        .send()
        .await?
        .status)
}

/// Only the listed exceptions to immutability are ignored when statements are compared: a
/// `result.response` of "Yes" is not the stored "yes".
async fn serialization_difference_conflicts(cx: Ctx) -> Verdict {
    let mut original = cx.fx.statement();
    original["result"] = json!({ "response": "yes" });
    let mut variant = original.clone();
    variant["result"]["response"] = json!("Yes");
    let status = put_twice(&cx, &original, &variant).await?;
    ensure!(
        status == 409,
        "a statement differing from the stored one in the case of result.response was answered {status}, expected 409"
    );
    Ok(())
}

async fn equivalent_statement_no_conflict(cx: Ctx) -> Verdict {
    let (a, b) = (cx.fx.agent(), cx.fx.agent());
    let mut original = cx.fx.statement();
    original["actor"] = json!({ "objectType": "Group", "name": "Pair", "member": [a, b] });
    original["timestamp"] = json!("2024-05-01T12:00:00.000Z");
    original["verb"]["display"] = json!({ "en-US": "experienced" });
    let mut variant = original.clone();
    // Allowed differences: member order, verb display, the timestamp's time zone.
    variant["actor"]["member"] = json!([b, a]);
    variant["verb"]["display"] = json!({ "en-GB": "experienced" });
    variant["timestamp"] = json!("2024-05-01T14:00:00.000+02:00");
    let status = put_twice(&cx, &original, &variant).await?;
    ensure!(
        status == 204,
        "a statement equal but for group member order, verb display and time zone was answered {status}, expected 204"
    );
    Ok(())
}

async fn duration_precision_ignored(cx: Ctx) -> Verdict {
    let mut original = cx.fx.statement();
    original["result"] = json!({ "duration": "PT1.23S" });
    let mut variant = original.clone();
    variant["result"] = json!({ "duration": "PT1.2345S" });
    let status = put_twice(&cx, &original, &variant).await?;
    ensure!(
        status == 204,
        "durations PT1.23S and PT1.2345S differ only beyond 0.01 s, yet the second PUT was answered {status}"
    );
    Ok(())
}
