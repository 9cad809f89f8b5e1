//! The Activities resource: GET /activities?activityId=… answers the Activity object the LRS
//! holds, with the definition it learned from statements (merged across statements where
//! the specification asks for it), an Activity object even for ids it never saw, and 400 for
//! a missing or malformed activityId.

use std::time::Duration;

use serde_json::{json, Value};

use crate::check::{Area, Check, Ctx, Failure, Verdict};
use crate::checks::common::{self, difference};
use crate::client::excerpt;
use crate::fixtures::HOST;
use crate::{ensure, fail};

pub fn checks() -> Vec<Check> {
    vec![
        Check::new(
            Area::Activities,
            "activities.get-returns-definition",
            "GET /activities answers 200 with the Activity and every part of its definition",
            get_returns_definition,
        )
        .v1(&["Communication 2.5.s1", "Communication B.s1.table1.row4"])
        .v2(&["4.1.6.4#1"]),
        Check::new(
            Area::Activities,
            "activities.missing-activity-id-400",
            "GET /activities without activityId gets 400",
            missing_activity_id,
        )
        .v1(&["Communication 2.5.s1.table1.row1"])
        .v2(&["4.1.6.4#2"]),
        Check::new(
            Area::Activities,
            "activities.malformed-activity-id-400",
            "GET /activities with an activityId that is not an IRI gets 400",
            malformed_activity_id,
        )
        .v2(&["4.1.6.4#2"]),
        Check::new(
            Area::Activities,
            "activities.unknown-activity-answered",
            "GET /activities for an id the LRS never saw still answers an Activity with that id",
            unknown_activity_answered,
        )
        .v1(&["Communication 2.5.s2.b1"])
        .v2(&["4.1.6.4#3"]),
        Check::new(
            Area::Activities,
            "activities.definitions-merged",
            "Languages given by a later statement are added to the stored name and description",
            definitions_merged,
        )
        .v1(&["Data 2.4.4.1.s4.b3"])
        .v2(&["4.1.6.4#1"]),
        Check::new(
            Area::Activities,
            "activities.same-id-same-activity",
            "Bare references to an activity id elsewhere in statements keep its one definition",
            same_id_same_activity,
        )
        .v1(&["Data 2.4.4.1.s4.b2"])
        .v2(&["4.1.6.4#1"]),
        Check::new(
            Area::Activities,
            "activities.id-with-query-characters",
            "An activity id holding `?`, `&`, `=` and `#` is answered for exactly that id",
            id_with_query_characters,
        )
        .v1(&["Communication 2.5.s1"])
        .v2(&["4.1.6.4#1"]),
    ]
}

/// GET /activities?activityId=…, asserting 200 and a JSON object whose id is `id` and whose
/// objectType, when present, is `Activity`.
async fn get_activity(cx: &Ctx, id: &str) -> Result<Value, Failure> {
    let what = format!("GET /activities?activityId={id}");
    let response = cx
        .get("activities")
        .query("activityId", id)
        .send()
        .await?
        .expect(200, &what)?;
    let activity = response.json()?;
    ensure!(
        activity.is_object(),
        "{what}: expected an Activity object, got {}",
        excerpt(&activity.to_string(), 300)
    );
    ensure!(
        activity["id"] == id,
        "{what}: the Activity's id is {}, expected \"{id}\"",
        activity["id"]
    );
    if let Some(kind) = activity.get("objectType") {
        ensure!(
            kind == "Activity",
            "{what}: objectType is {kind}, expected \"Activity\" (or none)"
        );
    }
    Ok(activity)
}

/// [`get_activity`] until its definition holds everything of `expected`: an LRS may answer a
/// POST before the statement's effects are visible (Communication 2.1.2.s2.b1), so a few
/// short retries are made before a difference counts, and only while one remains.
async fn get_definition(cx: &Ctx, id: &str, expected: &Value) -> Result<Value, Failure> {
    let mut delay = Duration::from_millis(50);
    let mut retries = 5;
    loop {
        let activity = get_activity(cx, id).await?;
        match difference(expected, &activity["definition"]) {
            None => return Ok(activity),
            Some(_) if retries > 0 => {
                retries -= 1;
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Some(diff) => fail!(
                "GET /activities?activityId={id}: the definition differs from the one the \
                 statements gave at /definition{diff}; answered {}",
                excerpt(&activity.to_string(), 400)
            ),
        }
    }
}

/// A statement whose object is `activity`.
fn statement_about(cx: &Ctx, activity: &Value) -> Value {
    let mut statement = cx.fx.statement();
    statement["object"] = activity.clone();
    statement
}

async fn get_returns_definition(cx: Ctx) -> Verdict {
    let id = cx.fx.iri("activity");
    // An interaction activity uses every property a definition can have.
    let definition = json!({
        "name": { "en-US": "Conformance question" },
        "description": { "en-US": "Which colour is the sky on a clear day?" },
        "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
        "moreInfo": format!("http://{HOST}/more-info"),
        "interactionType": "choice",
        "correctResponsesPattern": ["blue"],
        "choices": [
            { "id": "blue", "description": { "en-US": "Blue" } },
            { "id": "green", "description": { "en-US": "Green" } }
        ],
        "extensions": { format!("http://{HOST}/extension/difficulty"): 3 }
    });
    let activity = json!({ "objectType": "Activity", "id": id, "definition": definition });
    common::post_statement(&cx, &statement_about(&cx, &activity)).await?;
    get_definition(&cx, &id, &definition).await?;
    Ok(())
}

async fn missing_activity_id(cx: Ctx) -> Verdict {
    cx.get("activities")
        .send()
        .await?
        .expect(400, "GET /activities without activityId")?;
    Ok(())
}

async fn malformed_activity_id(cx: Ctx) -> Verdict {
    // Spaces are not allowed anywhere in an IRI, and there is no scheme.
    cx.get("activities")
        .query("activityId", "not an IRI")
        .send()
        .await?
        .expect(400, "GET /activities?activityId=not an IRI")?;
    Ok(())
}

async fn unknown_activity_answered(cx: Ctx) -> Verdict {
    let id = cx.fx.iri("never-used-activity");
    get_activity(&cx, &id).await?;
    Ok(())
}

async fn definitions_merged(cx: Ctx) -> Verdict {
    let id = cx.fx.iri("activity");
    let first = json!({
        "id": id,
        "definition": {
            "name": { "en-US": "Conformance meeting" },
            "description": { "en-US": "A meeting held by the conformance suite" }
        }
    });
    let second = json!({
        "id": id,
        "definition": {
            "name": { "fr-FR": "Réunion de conformité" },
            "description": { "fr-FR": "Une réunion tenue par la suite de conformité" }
        }
    });
    // Two requests, so the order in which the LRS learns the definitions is certain.
    common::post_statement(&cx, &statement_about(&cx, &first)).await?;
    common::post_statement(&cx, &statement_about(&cx, &second)).await?;
    let merged = json!({
        "name": {
            "en-US": "Conformance meeting",
            "fr-FR": "Réunion de conformité"
        },
        "description": {
            "en-US": "A meeting held by the conformance suite",
            "fr-FR": "Une réunion tenue par la suite de conformité"
        }
    });
    get_definition(&cx, &id, &merged).await?;
    Ok(())
}

async fn same_id_same_activity(cx: Ctx) -> Verdict {
    let id = cx.fx.iri("activity");
    let definition = json!({
        "name": { "en-US": "Conformance course" },
        "type": "http://adlnet.gov/expapi/activities/course"
    });
    let defined = json!({ "objectType": "Activity", "id": id, "definition": definition });
    common::post_statement(&cx, &statement_about(&cx, &defined)).await?;
    // The same id again, bare: as the parent of another activity, and as an object.
    let mut in_context = cx.fx.statement();
    in_context["context"] = json!({ "contextActivities": { "parent": [{ "id": id }] } });
    let as_object = statement_about(&cx, &json!({ "id": id }));
    common::post_statements(&cx, &Value::Array(vec![in_context, as_object])).await?;
    get_definition(&cx, &id, &definition).await?;
    Ok(())
}

async fn id_with_query_characters(cx: Ctx) -> Verdict {
    let base = cx.fx.iri("activity");
    let id = format!("{base}?a=1&b=two#part");
    let definition = json!({ "name": { "en-US": "Conformance activity with a query" } });
    let activity = json!({ "id": id, "definition": definition });
    common::post_statement(&cx, &statement_about(&cx, &activity)).await?;
    get_definition(&cx, &id, &definition).await?;
    // The id without its query is another activity, which the LRS has no definition of.
    let other = get_activity(&cx, &base).await;
    if let Ok(other) = other {
        ensure!(
            difference(&definition, &other["definition"]).is_some(),
            "GET /activities?activityId={base} answered the definition of {id}: the query \
             part of the id was dropped"
        );
    }
    Ok(())
}
