//! Voiding: voiding statements (verb `voided`, StatementRef object) hide their target from
//! statementId and from queries while voidedStatementId still reaches it; the voiding
//! statement itself, and statements targeting a voided one, stay visible under the
//! StatementRef filter rules; a voiding statement cannot be voided; malformed voiding
//! statements are refused and an unknown target is not a reason to refuse.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};

use crate::check::{Area, Check, Ctx, Failure, Verdict};
use crate::checks::common::{self, ids_of};
use crate::client::excerpt;
use crate::{ensure, fail};

/// The verb that voids the statement its StatementRef object names.
const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";

pub fn checks() -> Vec<Check> {
    vec![
        Check::new(
            Area::Voiding,
            "voiding.voided-hidden-from-statement-id",
            "A voided statement is not returned by statementId (404)",
            voided_hidden_from_statement_id,
        )
        .v1(&["Communication 2.1.4.s1.b1", "Data 2.3.2.s2.b3"])
        .v2(&["4.1.6.1#45", "4.2.5#3"]),
        Check::new(
            Area::Voiding,
            "voiding.voided-by-voided-statement-id",
            "voidedStatementId returns a voided statement, and 404 for one that is not voided",
            voided_by_voided_statement_id,
        )
        .v1(&["Data 2.3.2.s2.b3", "Communication 2.1.4.s1.b1"])
        .v2(&["4.1.6.1#12", "4.2.5#3"]),
        Check::new(
            Area::Voiding,
            "voiding.voided-hidden-from-queries",
            "Queries matching a voided statement leave it out",
            voided_hidden_from_queries,
        )
        .v1(&["Communication 2.1.4.s1.b1"])
        .v2(&["4.1.6.1#45"]),
        Check::new(
            Area::Voiding,
            "voiding.voiding-statement-returned",
            "The voiding statement is returned by statementId and by queries",
            voiding_statement_returned,
        )
        .v1(&["Communication 2.1.4.s1.b2"])
        .v2(&["4.1.6.1#46"]),
        Check::new(
            Area::Voiding,
            "voiding.targeting-statements-returned",
            "Statements targeting a voided statement still match its filters, the voiding one included",
            targeting_statements_returned,
        )
        .v1(&["Communication 2.1.4.s1.b2"])
        .v2(&["4.1.6.1#46"]),
        Check::new(
            Area::Voiding,
            "voiding.voided-referrer-not-returned",
            "A voided statement targeting a matching one is left out of the query",
            voided_referrer_not_returned,
        )
        .v1(&["Communication 2.1.4.s1.b1"])
        .v2(&["4.1.6.1#45"]),
        Check::new(
            Area::Voiding,
            "voiding.chain-through-voided-returned",
            "A voiding statement matches a filter through the voided statement it targets",
            chain_through_voided_returned,
        )
        .v1(&["Communication 2.1.4.s1.b2"])
        .v2(&["4.1.6.1#46"]),
        Check::new(
            Area::Voiding,
            "voiding.voiding-statement-cannot-be-voided",
            "A statement voiding a voiding statement does not void it",
            voiding_statement_cannot_be_voided,
        )
        .v1(&["Data 2.3.2.s2.b3"])
        .v2(&["4.2.5#3"]),
        Check::new(
            Area::Voiding,
            "voiding.voiding-twice-keeps-voided",
            "Voiding an already voided statement leaves it voided",
            voiding_twice_keeps_voided,
        )
        .v1(&["Data 2.3.2.s2.b3"])
        .v2(&["4.2.5#3"]),
        Check::new(
            Area::Voiding,
            "voiding.unknown-target-accepted",
            "A voiding statement whose target the LRS does not hold is accepted",
            unknown_target_accepted,
        )
        .v1(&["Data 2.3.2.s2.b5"])
        .v2(&["4.2.4.1#3"]),
        Check::new(
            Area::Voiding,
            "voiding.object-must-be-statement-ref",
            "A statement with the voided verb and an Activity or Agent object gets 400",
            object_must_be_statement_ref,
        )
        .v1(&["Data 2.3.2.s2.b1"])
        .v2(&["4.2.5#1"]),
        Check::new(
            Area::Voiding,
            "voiding.statement-ref-needs-id",
            "A statement with the voided verb and a StatementRef without id gets 400",
            statement_ref_needs_id,
        )
        .v1(&["Data 2.3.2.s2.b2"])
        .v2(&["4.2.5#2"]),
    ]
}

/// A statement by `actor` voiding the statement `target`.
fn voiding_by(actor: &Value, target: &str) -> Value {
    json!({
        "actor": actor,
        "verb": { "id": VOIDED, "display": { "en-US": "voided" } },
        "object": { "objectType": "StatementRef", "id": target }
    })
}

/// A statement by a fresh agent voiding `target`.
fn voiding(cx: &Ctx, target: &str) -> Value {
    voiding_by(&cx.fx.agent(), target)
}

/// Stores a fresh statement and a statement voiding it; returns (voided, voiding) ids,
/// once the voiding statement is readable.
async fn voided_pair(cx: &Ctx, statement: &Value) -> Result<(String, String), Failure> {
    let target = common::post_statement(cx, statement).await?;
    let voiding_id = common::post_statement(cx, &voiding(cx, &target)).await?;
    common::get_statement(cx, &voiding_id).await?;
    Ok((target, voiding_id))
}

/// GET /statements?`parameter`=`id`, expecting 404. An answer of 200 is asked again a few
/// times (briefly, and only then): an LRS may apply a voiding a little after storing it.
async fn ensure_not_found(cx: &Ctx, parameter: &str, id: &str, why: &str) -> Verdict {
    let mut delay = Duration::from_millis(50);
    let mut retries = 3;
    loop {
        let response = cx.get("statements").query(parameter, id).send().await?;
        if response.status == 200 && retries > 0 {
            retries -= 1;
            tokio::time::sleep(delay).await;
            delay *= 2;
            continue;
        }
        ensure!(
            response.status == 404,
            "GET /statements?{parameter}={id} ({why}): expected 404, got {} {}",
            response.status,
            excerpt(&response.text(), 200)
        );
        return Ok(());
    }
}

/// Fails unless the query `params` answers exactly the statements `expected`. Asked again
/// a few times (briefly) while the answer differs, for LRSs that apply writes a little late.
async fn ensure_query_exactly(
    cx: &Ctx,
    params: &[(&str, &str)],
    expected: &[&str],
    what: &str,
) -> Verdict {
    let want: HashSet<&str> = expected.iter().copied().collect();
    let mut delay = Duration::from_millis(50);
    let mut retries = 3;
    loop {
        let result = common::query(cx, params).await?;
        let got = ids_of(&result);
        let got_set: HashSet<&str> = got.iter().map(String::as_str).collect();
        if got_set == want && got.len() == want.len() {
            return Ok(());
        }
        if retries == 0 {
            let missing: Vec<&&str> = want.difference(&got_set).collect();
            let extra: Vec<&&str> = got_set.difference(&want).collect();
            fail!(
                "{what}: missing {missing:?}, unexpected {extra:?} (query {})",
                params
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&")
            );
        }
        retries -= 1;
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
}

/// The agent as a query parameter: its identifier only.
fn agent_param(agent: &Value) -> String {
    json!({ "mbox": agent["mbox"] }).to_string()
}

fn activity_id(statement: &Value) -> String {
    statement["object"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn voided_hidden_from_statement_id(cx: Ctx) -> Verdict {
    let (target, _) = voided_pair(&cx, &cx.fx.statement()).await?;
    ensure_not_found(&cx, "statementId", &target, "the statement has been voided").await
}

async fn voided_by_voided_statement_id(cx: Ctx) -> Verdict {
    let statement = cx.fx.statement();
    let (target, _) = voided_pair(&cx, &statement).await?;
    let got = common::get_voided_statement(&cx, &target).await?;
    ensure!(
        got["id"] == target.as_str(),
        "GET /statements?voidedStatementId={target}: expected that statement, got {}",
        excerpt(&got.to_string(), 300)
    );
    common::ensure_same_statement(&statement, &got, "the voided statement")?;
    let kept = common::post_statement(&cx, &cx.fx.statement()).await?;
    common::get_statement(&cx, &kept).await?;
    ensure_not_found(
        &cx,
        "voidedStatementId",
        &kept,
        "the statement has not been voided",
    )
    .await
}

async fn voided_hidden_from_queries(cx: Ctx) -> Verdict {
    let agent = cx.fx.agent();
    let mut statement = cx.fx.statement_by(&agent);
    let verb = cx.fx.verb();
    statement["verb"] = verb.clone();
    let target = common::post_statement(&cx, &statement).await?;
    let voiding_id = common::post_statement(&cx, &voiding_by(&agent, &target)).await?;
    common::get_statement(&cx, &voiding_id).await?;
    // The voiding statement matches through its StatementRef; the voided one must not.
    ensure_query_exactly(
        &cx,
        &[("verb", verb["id"].as_str().unwrap_or_default())],
        &[&voiding_id],
        "verb filter matching a voided statement (expected only the voiding statement, \
         which targets it)",
    )
    .await?;
    ensure_query_exactly(
        &cx,
        &[("agent", &agent_param(&agent))],
        &[&voiding_id],
        "agent filter matching a voided statement and its voiding statement (same actor)",
    )
    .await
}

async fn voiding_statement_returned(cx: Ctx) -> Verdict {
    let voider = cx.fx.agent();
    let target = common::post_statement(&cx, &cx.fx.statement()).await?;
    let voiding_id = common::post_statement(&cx, &voiding_by(&voider, &target)).await?;
    let got = common::get_statement(&cx, &voiding_id).await?;
    ensure!(
        got["id"] == voiding_id.as_str(),
        "GET /statements?statementId={voiding_id} (a voiding statement): got {}",
        excerpt(&got.to_string(), 300)
    );
    ensure_query_exactly(
        &cx,
        &[("agent", &agent_param(&voider))],
        &[&voiding_id],
        "query for the voiding statement by its actor",
    )
    .await
}

async fn targeting_statements_returned(cx: Ctx) -> Verdict {
    let statement = cx.fx.statement();
    let activity = activity_id(&statement);
    let target = common::post_statement(&cx, &statement).await?;
    let mut referrer = cx.fx.statement();
    referrer["object"] = json!({ "objectType": "StatementRef", "id": target });
    let referrer_id = common::post_statement(&cx, &referrer).await?;
    let voiding_id = common::post_statement(&cx, &voiding(&cx, &target)).await?;
    common::get_statement(&cx, &voiding_id).await?;
    // Only the targeting statements are asked for here; that the voided one is left out
    // is voided-hidden-from-queries' concern.
    let awaited = [referrer_id.as_str(), voiding_id.as_str()];
    let got = settled_ids(&cx, &[("activity", &activity)], &awaited).await?;
    let missing: Vec<&str> = awaited
        .into_iter()
        .filter(|id| !got.iter().any(|g| g == id))
        .collect();
    ensure!(
        missing.is_empty(),
        "activity={activity}: the statement {referrer_id} and the voiding statement \
         {voiding_id} both target the voided statement {target}, which has that activity, so \
         both match; missing {missing:?} (got {got:?})"
    );
    Ok(())
}

/// Stores T (a fresh activity), S targeting T, and V voiding S; returns the activity id and
/// the ids of T, S and V.
async fn voided_referrer_chain(cx: &Ctx) -> Result<(String, [String; 3]), Failure> {
    let statement = cx.fx.statement();
    let activity = activity_id(&statement);
    let target = common::post_statement(cx, &statement).await?;
    let mut referrer = cx.fx.statement();
    referrer["object"] = json!({ "objectType": "StatementRef", "id": target });
    let (referrer_id, voiding_id) = voided_pair(cx, &referrer).await?;
    Ok((activity, [target, referrer_id, voiding_id]))
}

/// The ids the query `params` answers, asked again a few times (briefly) while one of
/// `awaited` is missing.
async fn settled_ids(
    cx: &Ctx,
    params: &[(&str, &str)],
    awaited: &[&str],
) -> Result<Vec<String>, Failure> {
    let mut delay = Duration::from_millis(50);
    let mut retries = 3;
    loop {
        let got = ids_of(&common::query(cx, params).await?);
        if retries == 0 || awaited.iter().all(|id| got.iter().any(|g| g == id)) {
            return Ok(got);
        }
        retries -= 1;
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
}

async fn voided_referrer_not_returned(cx: Ctx) -> Verdict {
    let (activity, [target, referrer, _]) = voided_referrer_chain(&cx).await?;
    let got = settled_ids(&cx, &[("activity", &activity)], &[&target]).await?;
    ensure!(
        got.contains(&target),
        "activity={activity}: the statement {target} with that activity is missing (got {got:?})"
    );
    ensure!(
        !got.contains(&referrer),
        "activity={activity}: returned the voided statement {referrer}, which targets the \
         matching statement {target}; a voided statement is never returned by a query"
    );
    Ok(())
}

async fn chain_through_voided_returned(cx: Ctx) -> Verdict {
    let (activity, [target, referrer, voiding]) = voided_referrer_chain(&cx).await?;
    let got = settled_ids(&cx, &[("activity", &activity)], &[&voiding]).await?;
    ensure!(
        got.contains(&voiding),
        "activity={activity}: expected the voiding statement {voiding}, which targets the voided \
         statement {referrer}, which targets the matching statement {target} (StatementRef \
         filtering applies recursively and still applies to statements targeting a voided \
         one); got {got:?}"
    );
    Ok(())
}

async fn voiding_statement_cannot_be_voided(cx: Ctx) -> Verdict {
    let (target, first) = voided_pair(&cx, &cx.fx.statement()).await?;
    // The LRS may refuse the second voiding or store it without effect; either is fine.
    let response = cx
        .post("statements")
        .json(&voiding_by(&cx.fx.agent(), &first))
        .send()
        .await?;
    ensure!(
        response.status == 200 || (400..500).contains(&response.status),
        "POST of a statement voiding a voiding statement: expected 200 or a 4xx refusal, got {} {}",
        response.status,
        excerpt(&response.text(), 200)
    );
    let got = common::get_statement(&cx, &first).await?;
    ensure!(
        got["id"] == first.as_str(),
        "GET /statements?statementId={first} (a voiding statement someone tried to void): got {}",
        excerpt(&got.to_string(), 300)
    );
    ensure_not_found(
        &cx,
        "voidedStatementId",
        &first,
        "a voiding statement cannot be voided",
    )
    .await?;
    let still = common::get_voided_statement(&cx, &target).await?;
    ensure!(
        still["id"] == target.as_str(),
        "the first statement should stay voided, but voidedStatementId={target} returned {}",
        excerpt(&still.to_string(), 300)
    );
    Ok(())
}

async fn voiding_twice_keeps_voided(cx: Ctx) -> Verdict {
    let (target, _) = voided_pair(&cx, &cx.fx.statement()).await?;
    let response = cx
        .post("statements")
        .json(&voiding(&cx, &target))
        .send()
        .await?;
    ensure!(
        response.status == 200 || (400..500).contains(&response.status),
        "POST of a second statement voiding the same statement: expected 200 or a 4xx refusal, got {} {}",
        response.status,
        excerpt(&response.text(), 200)
    );
    let got = common::get_voided_statement(&cx, &target).await?;
    ensure!(
        got["id"] == target.as_str(),
        "voidedStatementId={target} after a second voiding returned {}",
        excerpt(&got.to_string(), 300)
    );
    ensure_not_found(
        &cx,
        "statementId",
        &target,
        "the statement was voided twice",
    )
    .await
}

async fn unknown_target_accepted(cx: Ctx) -> Verdict {
    let voiding = voiding(&cx, &cx.fx.uuid());
    let response = cx.post("statements").json(&voiding).send().await?.expect(
        200,
        "POST /statements of a statement voiding an unknown statement id",
    )?;
    let ids = common::id_list(&response)?;
    let [id] = ids.as_slice() else {
        fail!("POST of one statement: expected one id back, got {ids:?}");
    };
    let got = common::get_statement(&cx, id).await?;
    ensure!(
        got["id"] == id.as_str() && got["object"]["objectType"] == "StatementRef",
        "GET /statements?statementId={id} (a voiding statement of an unknown target): got {}",
        excerpt(&got.to_string(), 300)
    );
    Ok(())
}

async fn object_must_be_statement_ref(cx: Ctx) -> Verdict {
    for (what, object) in [
        ("an Activity", cx.fx.activity()),
        ("an Agent", cx.fx.agent()),
    ] {
        let mut statement = cx.fx.statement();
        statement["verb"] = json!({ "id": VOIDED, "display": { "en-US": "voided" } });
        statement["object"] = object;
        cx.post("statements")
            .json(&statement)
            .send()
            .await?
            .expect(
                400,
                &format!("POST /statements with the voided verb and {what} as object"),
            )?;
    }
    Ok(())
}

async fn statement_ref_needs_id(cx: Ctx) -> Verdict {
    let mut statement = voiding(&cx, "");
    statement["object"] = json!({ "objectType": "StatementRef" });
    cx.post("statements")
        .json(&statement)
        .send()
        .await?
        .expect(
            400,
            "POST /statements with the voided verb and a StatementRef without id",
        )?;
    Ok(())
}
