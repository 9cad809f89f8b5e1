//! GET /statements as a query: every filter parameter, ordering, `limit` and `more` paging
//! through all pages, the three formats, the StatementRef rule, parameter exclusivity, and
//! the Consistent-Through and Last-Modified headers. Each check queries by an agent or IRI
//! only it uses, so concurrent checks and earlier runs never show up in its results.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};

use crate::check::{Area, Check, Ctx, Failure, Verdict};
use crate::checks::common::{self, difference, ids_of, timestamp};
use crate::client::excerpt;
use crate::config::XapiVersion;
use crate::{ensure, fail};

pub fn checks() -> Vec<Check> {
    vec![
        Check::new(
            Area::Queries,
            "queries.no-match-empty-result",
            "A query matching nothing answers 200 with an empty statements array",
            no_match_empty_result,
        )
        .v1(&["Communication 2.1.3.s2.b4", "Data 2.5.s2.table1.row1"])
        .v2(&["4.1.6.1#31"]),
        Check::new(
            Area::Queries,
            "queries.statement-id-returns-one-statement",
            "statementId returns that one Statement, not a StatementResult",
            statement_id_returns_one_statement,
        )
        .v1(&["Communication 2.1.3.s1.table1.row1"])
        .v2(&["4.1.6.1#11"]),
        Check::new(
            Area::Queries,
            "queries.newest-stored-first",
            "Results come newest stored first by default",
            newest_stored_first,
        )
        .v1(&["Communication 2.1.3.s1"])
        .v2(&["4.1.6.1#13"]),
        Check::new(
            Area::Queries,
            "queries.ascending",
            "ascending=true returns results oldest stored first",
            ascending,
        )
        .v1(&["Communication 2.1.3.s1.table1.row14"])
        .v2(&["4.1.6.1#27"]),
        Check::new(
            Area::Queries,
            "queries.agent-filter",
            "agent matches actor or object, and groups with that member; nothing else",
            agent_filter,
        )
        .v1(&["Communication 2.1.3.s1.table1.row3"])
        .v2(&["4.1.6.1#15"]),
        Check::new(
            Area::Queries,
            "queries.agent-filter-every-identifier",
            "agent matches by mbox_sha1sum, openid and account as well as mbox",
            agent_filter_every_identifier,
        )
        .v1(&["Communication 2.1.3.s1.table1.row3"])
        .v2(&["4.1.6.1#15"]),
        Check::new(
            Area::Queries,
            "queries.verb-filter",
            "verb returns only statements with that verb id",
            verb_filter,
        )
        .v1(&["Communication 2.1.3.s1.table1.row4"])
        .v2(&["4.1.6.1#16"]),
        Check::new(
            Area::Queries,
            "queries.activity-filter",
            "activity returns only statements whose object is that activity",
            activity_filter,
        )
        .v1(&["Communication 2.1.3.s1.table1.row5"])
        .v2(&["4.1.6.1#17"]),
        Check::new(
            Area::Queries,
            "queries.registration-filter",
            "registration returns only statements with that context registration",
            registration_filter,
        )
        .v1(&["Communication 2.1.3.s1.table1.row6"])
        .v2(&["4.1.6.1#18"]),
        Check::new(
            Area::Queries,
            "queries.related-activities",
            "related_activities=true adds context activities and SubStatement objects",
            related_activities,
        )
        .v1(&["Communication 2.1.3.s1.table1.row7"])
        .v2(&["4.1.6.1#19"]),
        Check::new(
            Area::Queries,
            "queries.related-agents",
            "related_agents=true adds instructor, team, context agents and SubStatement agents",
            related_agents,
        )
        .v1(&["Communication 2.1.3.s1.table1.row8"])
        .v2(&["4.1.6.1#20"]),
        Check::new(
            Area::Queries,
            "queries.since",
            "since returns only statements stored strictly after it",
            since,
        )
        .v1(&["Communication 2.1.3.s1.table1.row9"])
        .v2(&["4.1.6.1#21"]),
        Check::new(
            Area::Queries,
            "queries.until",
            "until returns only statements stored at or before it",
            until,
        )
        .v1(&["Communication 2.1.3.s1.table1.row10"])
        .v2(&["4.1.6.1#22"]),
        Check::new(
            Area::Queries,
            "queries.limit",
            "limit caps the statements per answer and a more link leads on",
            limit,
        )
        .v1(&["Communication 2.1.3.s1.table1.row11"])
        .v2(&["4.1.6.1#23"]),
        Check::new(
            Area::Queries,
            "queries.more-pages-through-all",
            "Following more page by page yields every match exactly once, then no more link",
            more_pages_through_all,
        )
        .v1(&["Data 2.5.s2.table1.row1", "Data 2.5.s2.table1.row2"])
        .v2(&["4.1.6.1#14"]),
        Check::new(
            Area::Queries,
            "queries.format-exact",
            "format=exact (and no format) returns agents, verbs and activities as received",
            format_exact,
        )
        .v1(&["Communication 2.1.3.s1.table1.row12", "Data 2.4.3.s6.b1"])
        .v2(&["4.1.6.1#25", "4.1.6.1#37"]),
        Check::new(
            Area::Queries,
            "queries.format-ids",
            "format=ids reduces agents and activities to their identifiers",
            format_ids,
        )
        .v1(&["Communication 2.1.3.s1.table1.row12"])
        .v2(&["4.1.6.1#24"]),
        Check::new(
            Area::Queries,
            "queries.format-ids-drops-verb-display",
            "format=ids leaves out the verb display",
            format_ids_drops_verb_display,
        )
        .v1(&["Data 2.4.3.s6.b2"]),
        Check::new(
            Area::Queries,
            "queries.format-canonical-one-language",
            "format=canonical returns one language per activity language map, chosen by Accept-Language",
            format_canonical,
        )
        .v1(&[
            "Communication 2.1.3.s1.table1.row12",
            "Communication 2.1.3.s4.b1",
            "Communication 2.1.3.s4.b5",
        ])
        .v2(&["4.1.6.1#26", "4.1.6.1#40", "4.1.6.1#43", "4.1.6.1#44"]),
        Check::new(
            Area::Queries,
            "queries.format-canonical-verb-display",
            "format=canonical returns a verb display of one language",
            format_canonical_verb_display,
        )
        .v1(&[
            "Data 2.4.3.s6.b3",
            "Communication 2.1.3.s4.b3",
            "Communication 2.1.3.s4.b4",
        ]),
        Check::new(
            Area::Queries,
            "queries.voided-statement-id-returns-voided",
            "voidedStatementId returns the voided statement itself",
            voided_statement_id_returns_voided,
        )
        .v1(&["Communication 2.1.3.s1.table1.row2"]),
        Check::new(
            Area::Queries,
            "queries.attachments-parameter",
            "attachments=false answers application/json; attachments=true the multipart format",
            attachments_parameter,
        )
        .v1(&["Communication 2.1.3.s2.b6", "Communication 2.1.3.s2.b7"])
        .v2(&["4.1.6.1#34", "4.1.6.1#35"]),
        Check::new(
            Area::Queries,
            "queries.more-link-short",
            "more links stay short (under 2 048 characters)",
            more_link_short,
        )
        .v1(&["Data 2.5.s3.b3"])
        .v2(&["4.2.4.3#7"]),
        Check::new(
            Area::Queries,
            "queries.statement-ref-matches-target",
            "A statement referring to a matching statement matches too; since applies to the referrer",
            statement_ref_matches_target,
        )
        .v1(&["Communication 2.1.3.s3"])
        .v2(&["4.1.6.1#38", "4.1.6.1#39"]),
        Check::new(
            Area::Queries,
            "queries.both-statement-ids-400",
            "statementId together with voidedStatementId gets 400",
            both_statement_ids,
        )
        .v1(&["Communication 2.1.3.s2.b1"])
        .v2(&["4.1.6.1#28"]),
        Check::new(
            Area::Queries,
            "queries.statement-id-with-filters-400",
            "statementId or voidedStatementId with any parameter but attachments/format gets 400",
            statement_id_with_filters,
        )
        .v1(&["Communication 2.1.3.s2.b2"])
        .v2(&["4.1.6.1#29"]),
        Check::new(
            Area::Queries,
            "queries.malformed-parameters-400",
            "Malformed agent, since, limit, ascending, registration and format values get 400",
            malformed_parameters,
        )
        .v1(&["Communication 3.2.s2.b1"])
        .v2(&["4.1.6#8", "4.1.6#10"]),
        Check::new(
            Area::Queries,
            "queries.consistent-through",
            "Every Statement resource answer carries an ISO 8601 X-Experience-API-Consistent-Through",
            consistent_through,
        )
        .v1(&["Communication 2.1.3.s2.b5"])
        .v2(&["4.1.6.1#32"]),
        Check::new(
            Area::Queries,
            "queries.last-modified-single",
            "GET of one statement carries Last-Modified equal to its stored time",
            last_modified_single,
        )
        .v1(&["Communication 2.1.3.s2.b8"])
        .v2(&["4.1.6.1#36"]),
        Check::new(
            Area::Queries,
            "queries.last-modified-query",
            "A query answer carries Last-Modified equal to the latest stored time it returns",
            last_modified_query,
        )
        .v2(&["4.1.6.1#36"]),
    ]
}

/// Queries until every id of `expected` is in the answer (an LRS may make statements
/// readable a little after acknowledging them), retrying briefly and only while some are
/// missing; returns the last answer either way.
async fn settled(cx: &Ctx, params: &[(&str, &str)], expected: &[String]) -> Result<Value, Failure> {
    let mut delay = Duration::from_millis(50);
    let mut retries = 3;
    loop {
        let result = common::query(cx, params).await?;
        let got: HashSet<String> = ids_of(&result).into_iter().collect();
        if retries == 0 || expected.iter().all(|id| got.contains(id)) {
            return Ok(result);
        }
        retries -= 1;
        tokio::time::sleep(delay).await;
        delay *= 2;
    }
}

/// Fails unless the answer to `params` holds exactly the statements `expected`.
async fn ensure_exactly(
    cx: &Ctx,
    params: &[(&str, &str)],
    expected: &[String],
    what: &str,
) -> Verdict {
    let result = settled(cx, params, expected).await?;
    let got: Vec<String> = ids_of(&result);
    let got_set: HashSet<&String> = got.iter().collect();
    let want: HashSet<&String> = expected.iter().collect();
    let missing: Vec<&&String> = want.difference(&got_set).collect();
    let extra: Vec<&&String> = got_set.difference(&want).collect();
    ensure!(
        missing.is_empty() && extra.is_empty(),
        "{what}: missing {missing:?}, unexpected {extra:?} (query {})",
        params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    );
    Ok(())
}

/// POSTs statements one request at a time, so their stored times follow the order.
async fn post_in_order(cx: &Ctx, statements: Vec<Value>) -> Result<Vec<String>, Failure> {
    let mut ids = Vec::with_capacity(statements.len());
    for statement in statements {
        ids.push(common::post_statement(cx, &statement).await?);
    }
    Ok(ids)
}

fn agent_param(agent: &Value) -> String {
    let mut agent = agent.clone();
    if let Some(map) = agent.as_object_mut() {
        map.remove("name");
    }
    agent.to_string()
}

async fn no_match_empty_result(cx: Ctx) -> Verdict {
    let agent = agent_param(&cx.fx.agent());
    let result = common::query(&cx, &[("agent", &agent)]).await?;
    ensure!(
        result["statements"].as_array().is_some_and(Vec::is_empty),
        "expected an empty statements array, got {}",
        excerpt(&result["statements"].to_string(), 300)
    );
    Ok(())
}

async fn statement_id_returns_one_statement(cx: Ctx) -> Verdict {
    let id = common::post_statement(&cx, &cx.fx.statement()).await?;
    let got = common::get_statement(&cx, &id).await?;
    ensure!(
        got.get("statements").is_none() && got["id"] == id.as_str(),
        "expected the Statement {id} itself, got {}",
        excerpt(&got.to_string(), 300)
    );
    Ok(())
}

/// The stored times of a result's statements, in answer order.
fn stored_times(result: &Value) -> Result<Vec<chrono::DateTime<chrono::FixedOffset>>, Failure> {
    result["statements"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|s| timestamp(&s["stored"], "a returned statement's `stored`"))
        .collect()
}

async fn ordered(cx: &Ctx, ascending: bool) -> Verdict {
    let agent = cx.fx.agent();
    let ids = post_in_order(cx, (0..3).map(|_| cx.fx.statement_by(&agent)).collect()).await?;
    let agent = agent_param(&agent);
    let mut params = vec![("agent", agent.as_str())];
    if ascending {
        params.push(("ascending", "true"));
    }
    let result = settled(cx, &params, &ids).await?;
    let times = stored_times(&result)?;
    let sorted = times.windows(2).all(|w| {
        if ascending {
            w[0] <= w[1]
        } else {
            w[0] >= w[1]
        }
    });
    ensure!(
        sorted && times.len() == 3,
        "expected 3 statements {} by stored time, got stored times {times:?}",
        if ascending {
            "oldest first"
        } else {
            "newest first"
        }
    );
    // Posted one after another, so where stored times differ the order is the posting's.
    let got = ids_of(&result);
    let mut expected = ids.clone();
    if !ascending {
        expected.reverse();
    }
    if times[0] != times[1] && times[1] != times[2] {
        ensure!(
            got == expected,
            "expected the order {expected:?}, got {got:?}"
        );
    }
    Ok(())
}

async fn newest_stored_first(cx: Ctx) -> Verdict {
    ordered(&cx, false).await
}

async fn ascending(cx: Ctx) -> Verdict {
    ordered(&cx, true).await
}

async fn agent_filter(cx: Ctx) -> Verdict {
    let agent = cx.fx.agent();
    let other = cx.fx.agent();
    let as_actor = cx.fx.statement_by(&agent);
    let mut as_object = cx.fx.statement_by(&other);
    as_object["object"] = agent.clone();
    let mut in_group = cx.fx.statement();
    in_group["actor"] = json!({ "objectType": "Group", "member": [agent.clone(), cx.fx.agent()] });
    let unrelated = cx.fx.statement_by(&other);
    let ids =
        common::post_statements(&cx, &json!([as_actor, as_object, in_group, unrelated])).await?;
    ensure_exactly(
        &cx,
        &[("agent", &agent_param(&agent))],
        &ids[..3],
        "agent filter (actor, object, group member)",
    )
    .await
}

async fn agent_filter_every_identifier(cx: Ctx) -> Verdict {
    // The LRS compares mbox_sha1sum as an identifier; a 40-hex-digit value unique to this
    // check serves as well as a real hash.
    let sha1 = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let agents = [
        json!({ "objectType": "Agent", "mbox_sha1sum": sha1 }),
        json!({ "objectType": "Agent", "openid": cx.fx.iri("openid") }),
        json!({ "objectType": "Agent", "account": { "homePage": format!("http://{}", crate::fixtures::HOST), "name": cx.fx.uuid() } }),
    ];
    let statements: Vec<Value> = agents.iter().map(|a| cx.fx.statement_by(a)).collect();
    let ids = common::post_statements(&cx, &Value::Array(statements)).await?;
    for (agent, id) in agents.iter().zip(&ids) {
        ensure_exactly(
            &cx,
            &[("agent", &agent.to_string())],
            std::slice::from_ref(id),
            &format!("agent filter by {}", agent_kind(agent)),
        )
        .await?;
    }
    Ok(())
}

fn agent_kind(agent: &Value) -> &'static str {
    ["mbox_sha1sum", "openid", "account", "mbox"]
        .into_iter()
        .find(|k| agent.get(*k).is_some())
        .unwrap_or("?")
}

async fn verb_filter(cx: Ctx) -> Verdict {
    let agent = cx.fx.agent();
    let verb = cx.fx.verb();
    let mut with_verb = cx.fx.statement_by(&agent);
    with_verb["verb"] = verb.clone();
    let without = cx.fx.statement_by(&agent);
    let ids = common::post_statements(&cx, &json!([with_verb, without])).await?;
    let verb_id = verb["id"].as_str().unwrap_or_default();
    ensure_exactly(&cx, &[("verb", verb_id)], &ids[..1], "verb filter").await?;
    ensure_exactly(
        &cx,
        &[("verb", verb_id), ("agent", &agent_param(&agent))],
        &ids[..1],
        "verb and agent filters together",
    )
    .await
}

async fn activity_filter(cx: Ctx) -> Verdict {
    let activity = cx.fx.activity();
    let id = activity["id"].as_str().unwrap_or_default().to_owned();
    let mut direct = cx.fx.statement();
    direct["object"] = activity.clone();
    // Only as a parent in context: not a match without related_activities.
    let mut in_context = cx.fx.statement();
    in_context["context"] = json!({ "contextActivities": { "parent": [{ "id": id }] } });
    let ids = common::post_statements(&cx, &json!([direct, in_context])).await?;
    ensure_exactly(&cx, &[("activity", &id)], &ids[..1], "activity filter").await
}

async fn registration_filter(cx: Ctx) -> Verdict {
    let agent = cx.fx.agent();
    let registration = cx.fx.uuid();
    let mut with = cx.fx.statement_by(&agent);
    with["context"] = json!({ "registration": registration });
    let mut other = cx.fx.statement_by(&agent);
    other["context"] = json!({ "registration": cx.fx.uuid() });
    let ids = common::post_statements(&cx, &json!([with, other])).await?;
    ensure_exactly(
        &cx,
        &[("registration", &registration)],
        &ids[..1],
        "registration filter",
    )
    .await
}

async fn related_activities(cx: Ctx) -> Verdict {
    let activity = cx.fx.activity();
    let id = activity["id"].as_str().unwrap_or_default().to_owned();
    let mut direct = cx.fx.statement();
    direct["object"] = activity.clone();
    let mut in_context = cx.fx.statement();
    in_context["context"] = json!({ "contextActivities": {
        "parent": [{ "id": id }], "grouping": [cx.fx.activity()] } });
    let mut in_category = cx.fx.statement();
    in_category["context"] = json!({ "contextActivities": { "category": [{ "id": id }] } });
    let mut in_sub = cx.fx.statement();
    in_sub["object"] = json!({
        "objectType": "SubStatement",
        "actor": cx.fx.agent(),
        "verb": { "id": crate::fixtures::EXPERIENCED },
        "object": { "id": id }
    });
    let unrelated = cx.fx.statement();
    let ids = common::post_statements(
        &cx,
        &json!([direct, in_context, in_category, in_sub, unrelated]),
    )
    .await?;
    ensure_exactly(
        &cx,
        &[("activity", &id), ("related_activities", "true")],
        &ids[..4],
        "related_activities=true",
    )
    .await?;
    ensure_exactly(
        &cx,
        &[("activity", &id), ("related_activities", "false")],
        &ids[..1],
        "related_activities=false",
    )
    .await
}

async fn related_agents(cx: Ctx) -> Verdict {
    let agent = cx.fx.agent();
    let as_actor = cx.fx.statement_by(&agent);
    let mut instructor = cx.fx.statement();
    instructor["context"] = json!({ "instructor": agent });
    let mut team = cx.fx.statement();
    team["context"] = json!({ "team": { "objectType": "Group", "member": [agent] } });
    let mut in_sub = cx.fx.statement();
    in_sub["object"] = json!({
        "objectType": "SubStatement",
        "actor": agent,
        "verb": { "id": crate::fixtures::EXPERIENCED },
        "object": cx.fx.activity()
    });
    let mut statements = vec![as_actor, instructor, team, in_sub];
    if cx.version == XapiVersion::V2_0_0 {
        let mut context_agent = cx.fx.statement();
        context_agent["context"] =
            json!({ "contextAgents": [{ "objectType": "contextAgent", "agent": agent }] });
        let mut context_group = cx.fx.statement();
        context_group["context"] = json!({ "contextGroups": [{
            "objectType": "contextGroup",
            "group": { "objectType": "Group", "member": [agent] } }] });
        statements.extend([context_agent, context_group]);
    }
    let related = statements.len();
    statements.push(cx.fx.statement());
    let ids = common::post_statements(&cx, &Value::Array(statements)).await?;
    let param = agent_param(&agent);
    ensure_exactly(
        &cx,
        &[("agent", &param), ("related_agents", "true")],
        &ids[..related],
        "related_agents=true",
    )
    .await?;
    ensure_exactly(
        &cx,
        &[("agent", &param), ("related_agents", "false")],
        &ids[..1],
        "related_agents=false",
    )
    .await
}

/// Three statements by one fresh agent, posted in order; their ids and stored values.
async fn three_stored(cx: &Ctx) -> Result<(String, Vec<(String, String)>), Failure> {
    let agent = cx.fx.agent();
    let ids = post_in_order(cx, (0..3).map(|_| cx.fx.statement_by(&agent)).collect()).await?;
    let mut stored = Vec::new();
    for id in ids {
        let statement = common::get_statement(cx, &id).await?;
        let Some(time) = statement["stored"].as_str() else {
            fail!("statement {id} has no stored value");
        };
        stored.push((id, time.to_owned()));
    }
    Ok((agent_param(&agent), stored))
}

async fn since(cx: Ctx) -> Verdict {
    let (agent, stored) = three_stored(&cx).await?;
    let bound = timestamp(&json!(stored[0].1), "stored")?;
    let mut expected = Vec::new();
    for (id, time) in &stored {
        if timestamp(&json!(time), "stored")? > bound {
            expected.push(id.clone());
        }
    }
    ensure_exactly(
        &cx,
        &[("agent", &agent), ("since", &stored[0].1)],
        &expected,
        "since = the first statement's stored time (exclusive)",
    )
    .await
}

async fn until(cx: Ctx) -> Verdict {
    let (agent, stored) = three_stored(&cx).await?;
    let bound = timestamp(&json!(stored[1].1), "stored")?;
    let mut expected = Vec::new();
    for (id, time) in &stored {
        if timestamp(&json!(time), "stored")? <= bound {
            expected.push(id.clone());
        }
    }
    ensure_exactly(
        &cx,
        &[("agent", &agent), ("until", &stored[1].1)],
        &expected,
        "until = the second statement's stored time (inclusive)",
    )
    .await
}

async fn limit(cx: Ctx) -> Verdict {
    let agent = cx.fx.agent();
    let ids = common::post_statements(
        &cx,
        &Value::Array((0..3).map(|_| cx.fx.statement_by(&agent)).collect()),
    )
    .await?;
    let agent = agent_param(&agent);
    settled(&cx, &[("agent", &agent)], &ids).await?;
    let page = common::query(&cx, &[("agent", &agent), ("limit", "2")]).await?;
    let got = ids_of(&page);
    ensure!(got.len() == 2, "limit=2 returned {} statements", got.len());
    ensure!(
        page["more"].as_str().is_some_and(|m| !m.is_empty()),
        "limit=2 of 3 matches must give a more link, got {}",
        page["more"]
    );
    Ok(())
}

async fn more_pages_through_all(cx: Ctx) -> Verdict {
    let agent = cx.fx.agent();
    let ids = common::post_statements(
        &cx,
        &Value::Array((0..5).map(|_| cx.fx.statement_by(&agent)).collect()),
    )
    .await?;
    let agent = agent_param(&agent);
    settled(&cx, &[("agent", &agent)], &ids).await?;
    let mut page = common::query(&cx, &[("agent", &agent), ("limit", "2")]).await?;
    let mut seen: Vec<String> = Vec::new();
    for pages in 1.. {
        seen.extend(ids_of(&page));
        let more = page["more"].as_str().unwrap_or_default().to_owned();
        if more.is_empty() {
            break;
        }
        ensure!(
            pages < 10,
            "still a more link after {pages} pages of 2 for 5 statements"
        );
        if cx.version == XapiVersion::V1_0_3 {
            ensure!(
                more.starts_with('/'),
                "more must be a relative IRL without scheme and host, got {more}"
            );
        }
        let response = cx
            .get(&more)
            .send()
            .await?
            .expect(200, &format!("GET more link {more}"))?;
        page = response.json()?;
        ensure!(
            page["statements"].as_array().is_some_and(|s| s.len() <= 2),
            "a page of the limit=2 query holds more than 2 statements"
        );
    }
    let unique: HashSet<&String> = seen.iter().collect();
    ensure!(
        unique.len() == seen.len(),
        "paging returned a statement twice: {seen:?}"
    );
    let want: HashSet<&String> = ids.iter().collect();
    ensure!(
        unique == want,
        "paging through all pages returned {seen:?}, expected the 5 statements {ids:?}"
    );
    Ok(())
}

/// A statement with everything the formats treat differently: a named agent, a verb with a
/// display, an activity with a definition.
fn rich_statement(cx: &Ctx) -> Value {
    let mut statement = cx.fx.statement();
    statement["verb"] =
        json!({ "id": cx.fx.iri("verb"), "display": { "en-US": "tried", "de-DE": "versucht" } });
    statement["object"]["definition"] = json!({
        "name": { "en-US": "Fire drill", "de-DE": "Feuerübung" },
        "description": { "en-US": "Leave the building", "de-DE": "Gebäude verlassen" },
        "type": "http://adlnet.gov/expapi/activities/simulation"
    });
    statement
}

/// The one statement a query by this statement's activity returns, in `format`.
async fn in_format(
    cx: &Ctx,
    statement: &Value,
    id: &str,
    format: Option<&str>,
    language: Option<&str>,
) -> Result<Value, Failure> {
    let activity = statement["object"]["id"].as_str().unwrap_or_default();
    let mut request = cx.get("statements").query("activity", activity);
    if let Some(format) = format {
        request = request.query("format", format);
    }
    if let Some(language) = language {
        request = request.header("Accept-Language", language);
    }
    let result = request
        .send()
        .await?
        .expect(
            200,
            &format!(
                "GET /statements?activity=…&format={}",
                format.unwrap_or("(none)")
            ),
        )?
        .json()?;
    match result["statements"].as_array().map(Vec::as_slice) {
        Some([one]) if one["id"] == id => Ok(one.clone()),
        _ => fail!(
            "expected exactly statement {id} for its activity, got {}",
            excerpt(&result.to_string(), 300)
        ),
    }
}

async fn format_exact(cx: Ctx) -> Verdict {
    let statement = rich_statement(&cx);
    let mut no_display = cx.fx.statement();
    no_display["verb"] = json!({ "id": cx.fx.iri("verb") });
    let ids = common::post_statements(&cx, &json!([statement, no_display])).await?;
    for format in [None, Some("exact")] {
        let got = in_format(&cx, &statement, &ids[0], format, None).await?;
        common::ensure_same_statement(
            &statement,
            &got,
            &format!("format={}", format.unwrap_or("(default)")),
        )?;
        let plain = in_format(&cx, &no_display, &ids[1], format, None).await?;
        ensure!(
            plain["verb"].get("display").is_none(),
            "a verb sent without display came back with one: {}",
            plain["verb"]
        );
    }
    Ok(())
}

async fn format_ids(cx: Ctx) -> Verdict {
    let statement = rich_statement(&cx);
    let id = common::post_statement(&cx, &statement).await?;
    let got = in_format(&cx, &statement, &id, Some("ids"), None).await?;
    ensure!(
        got["object"].get("definition").is_none(),
        "format=ids kept the activity definition: {}",
        got["object"]
    );
    ensure!(
        got["actor"].get("name").is_none(),
        "format=ids kept the agent's name: {}",
        got["actor"]
    );
    ensure!(
        got["actor"]["mbox"] == statement["actor"]["mbox"]
            && got["object"]["id"] == statement["object"]["id"],
        "format=ids must keep the identifiers: actor {}, object {}",
        got["actor"],
        got["object"]
    );
    Ok(())
}

async fn format_ids_drops_verb_display(cx: Ctx) -> Verdict {
    let statement = rich_statement(&cx);
    let id = common::post_statement(&cx, &statement).await?;
    let got = in_format(&cx, &statement, &id, Some("ids"), None).await?;
    ensure!(
        got["verb"].get("display").is_none(),
        "format=ids kept the verb display: {}",
        got["verb"]
    );
    Ok(())
}

async fn format_canonical(cx: Ctx) -> Verdict {
    let statement = rich_statement(&cx);
    let id = common::post_statement(&cx, &statement).await?;
    let got = in_format(&cx, &statement, &id, Some("canonical"), Some("de-DE")).await?;
    for map in ["name", "description"] {
        let value = &got["object"]["definition"][map];
        let languages: Vec<&String> = value
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        ensure!(
            languages.len() == 1,
            "format=canonical: activity {map} must hold one language, got {value}"
        );
        ensure!(
            languages[0] == "de-DE",
            "format=canonical with Accept-Language de-DE chose {} for the activity {map}",
            languages[0]
        );
    }
    if let Some(diff) = difference(&statement["actor"], &got["actor"]) {
        fail!("format=canonical must return the agent as received: /actor{diff}");
    }
    Ok(())
}

async fn statement_ref_matches_target(cx: Ctx) -> Verdict {
    let activity = cx.fx.activity();
    let activity_id = activity["id"].as_str().unwrap_or_default().to_owned();
    let mut target = cx.fx.statement();
    target["object"] = activity;
    let target_id = common::post_statement(&cx, &target).await?;
    let target_stored = common::get_statement(&cx, &target_id).await?["stored"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut referrer = cx.fx.statement();
    referrer["object"] = json!({ "objectType": "StatementRef", "id": target_id });
    let referrer_id = common::post_statement(&cx, &referrer).await?;
    let referrer_stored = common::get_statement(&cx, &referrer_id).await?["stored"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    ensure_exactly(
        &cx,
        &[("activity", &activity_id)],
        &[target_id.clone(), referrer_id.clone()],
        "activity filter with a statement referring to the matching one",
    )
    .await?;
    // `since` is applied to the referring statement itself, not to its target.
    if timestamp(&json!(referrer_stored), "stored")? > timestamp(&json!(target_stored), "stored")? {
        ensure_exactly(
            &cx,
            &[("activity", &activity_id), ("since", &target_stored)],
            std::slice::from_ref(&referrer_id),
            "activity filter since the target's stored time",
        )
        .await?;
    }
    Ok(())
}

async fn both_statement_ids(cx: Ctx) -> Verdict {
    let id = common::post_statement(&cx, &cx.fx.statement()).await?;
    cx.get("statements")
        .query("statementId", &id)
        .query("voidedStatementId", cx.fx.uuid())
        .send()
        .await?
        .expect(400, "GET /statements?statementId=…&voidedStatementId=…")?;
    Ok(())
}

async fn statement_id_with_filters(cx: Ctx) -> Verdict {
    let agent = cx.fx.agent();
    let id = common::post_statement(&cx, &cx.fx.statement_by(&agent)).await?;
    let agent = agent_param(&agent);
    let extras = [
        ("agent", agent.as_str()),
        ("verb", crate::fixtures::EXPERIENCED),
        ("limit", "1"),
        ("ascending", "true"),
        ("since", "2000-01-01T00:00:00Z"),
    ];
    for (key, value) in extras {
        for by in ["statementId", "voidedStatementId"] {
            cx.get("statements")
                .query(by, &id)
                .query(key, value)
                .send()
                .await?
                .expect(400, &format!("GET /statements?{by}=…&{key}=…"))?;
        }
    }
    // format and attachments are allowed beside statementId.
    cx.get("statements")
        .query("statementId", &id)
        .query("format", "ids")
        .query("attachments", "false")
        .send()
        .await?
        .expect(
            200,
            "GET /statements?statementId=…&format=ids&attachments=false",
        )?;
    Ok(())
}

async fn malformed_parameters(cx: Ctx) -> Verdict {
    let cases = [
        ("agent", "not json"),
        (
            "agent",
            r#"{"objectType": "Agent", "name": "no identifier"}"#,
        ),
        ("since", "yesterday"),
        ("until", "2020-13-45T99:00:00Z"),
        ("limit", "-1"),
        ("limit", "many"),
        ("ascending", "yes"),
        ("registration", "not-a-uuid"),
        ("format", "IDS"),
        ("statementId", "not-a-uuid"),
    ];
    for (key, value) in cases {
        cx.get("statements")
            .query(key, value)
            .send()
            .await?
            .expect(400, &format!("GET /statements?{key}={value}"))?;
    }
    Ok(())
}

async fn consistent_through(cx: Ctx) -> Verdict {
    let statement = cx.fx.statement();
    let id = cx.fx.uuid();
    let answers = [
        (
            "POST /statements",
            cx.post("statements").json(&statement).send().await?,
        ),
        (
            "PUT /statements",
            cx.put("statements")
                .query("statementId", &id)
                .json(&statement)
                .send()
                .await?,
        ),
        (
            "GET /statements?statementId=…",
            cx.get("statements")
                .query("statementId", &id)
                .send()
                .await?,
        ),
        (
            "GET /statements",
            cx.get("statements").query("limit", "1").send().await?,
        ),
        (
            "GET /statements?voidedStatementId=<unknown>",
            cx.get("statements")
                .query("voidedStatementId", cx.fx.uuid())
                .send()
                .await?,
        ),
        (
            "GET /statements?limit=many (a 400)",
            cx.get("statements").query("limit", "many").send().await?,
        ),
    ];
    for (what, response) in answers {
        let Some(value) = response.header("X-Experience-API-Consistent-Through") else {
            fail!(
                "{what} (status {}): no X-Experience-API-Consistent-Through header",
                response.status
            );
        };
        timestamp(
            &json!(value),
            &format!("{what}: X-Experience-API-Consistent-Through"),
        )?;
    }
    Ok(())
}

/// The Last-Modified header as an instant (HTTP-date, whole seconds).
fn last_modified(response: &crate::client::Response, what: &str) -> Result<i64, Failure> {
    let Some(value) = response.header("Last-Modified") else {
        fail!("{what}: no Last-Modified header");
    };
    chrono::DateTime::parse_from_rfc2822(value)
        .map(|t| t.timestamp())
        .map_err(|e| {
            Failure::new(format!(
                "{what}: Last-Modified `{value}` is not an HTTP date ({e})"
            ))
        })
}

async fn last_modified_single(cx: Ctx) -> Verdict {
    let id = common::post_statement(&cx, &cx.fx.statement()).await?;
    let statement = common::get_statement(&cx, &id).await?;
    let stored = timestamp(&statement["stored"], "stored")?.timestamp();
    let response = cx
        .get("statements")
        .query("statementId", &id)
        .send()
        .await?;
    let modified = last_modified(&response, "GET /statements?statementId=…")?;
    ensure!(
        modified == stored,
        "Last-Modified is {modified} s since the epoch, the statement's stored time {stored} s"
    );
    Ok(())
}

async fn last_modified_query(cx: Ctx) -> Verdict {
    let agent = cx.fx.agent();
    let ids = post_in_order(&cx, (0..2).map(|_| cx.fx.statement_by(&agent)).collect()).await?;
    let agent = agent_param(&agent);
    let result = settled(&cx, &[("agent", &agent)], &ids).await?;
    let latest = stored_times(&result)?
        .into_iter()
        .max()
        .map(|t| t.timestamp())
        .unwrap_or_default();
    let response = cx.get("statements").query("agent", &agent).send().await?;
    let modified = last_modified(&response, "GET /statements?agent=…")?;
    ensure!(
        modified == latest,
        "Last-Modified is {modified} s since the epoch, the latest stored time returned {latest} s"
    );
    Ok(())
}

async fn format_canonical_verb_display(cx: Ctx) -> Verdict {
    let statement = rich_statement(&cx);
    let id = common::post_statement(&cx, &statement).await?;
    let got = in_format(&cx, &statement, &id, Some("canonical"), Some("de-DE")).await?;
    let display = &got["verb"]["display"];
    ensure!(
        display.as_object().is_some_and(|m| m.len() == 1),
        "format=canonical: the verb display should hold one language, got {display}"
    );
    Ok(())
}

async fn voided_statement_id_returns_voided(cx: Ctx) -> Verdict {
    let statement = cx.fx.statement();
    let id = common::post_statement(&cx, &statement).await?;
    let voiding = json!({
        "actor": cx.fx.agent(),
        "verb": { "id": "http://adlnet.gov/expapi/verbs/voided", "display": { "en-US": "voided" } },
        "object": { "objectType": "StatementRef", "id": id }
    });
    common::post_statement(&cx, &voiding).await?;
    let got = common::get_voided_statement(&cx, &id).await?;
    ensure!(
        got["id"] == id.as_str(),
        "voidedStatementId={id} returned {}",
        excerpt(&got.to_string(), 300)
    );
    common::ensure_same_statement(&statement, &got, "the voided statement")
}

async fn attachments_parameter(cx: Ctx) -> Verdict {
    let id = common::post_statement(&cx, &cx.fx.statement()).await?;
    for value in [None, Some("false")] {
        let mut request = cx.get("statements").query("statementId", &id);
        if let Some(value) = value {
            request = request.query("attachments", value);
        }
        let response = request
            .send()
            .await?
            .expect(200, "GET /statements?statementId=…")?;
        ensure!(
            response.media_type().as_deref() == Some("application/json"),
            "attachments={}: expected application/json, got {:?}",
            value.unwrap_or("(absent)"),
            response.media_type()
        );
    }
    let response = cx
        .get("statements")
        .query("statementId", &id)
        .query("attachments", "true")
        .send()
        .await?
        .expect(200, "GET /statements?statementId=…&attachments=true")?;
    let content_type = response
        .header("content-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    ensure!(
        content_type.starts_with("multipart/mixed") && content_type.contains("boundary="),
        "attachments=true: expected multipart/mixed with a boundary, got {content_type:?}"
    );
    ensure!(
        response.text().contains(&id),
        "attachments=true: the multipart answer does not hold the statement {id}"
    );
    Ok(())
}

async fn more_link_short(cx: Ctx) -> Verdict {
    let agent = cx.fx.agent();
    let ids = common::post_statements(
        &cx,
        &Value::Array((0..2).map(|_| cx.fx.statement_by(&agent)).collect()),
    )
    .await?;
    let agent = agent_param(&agent);
    settled(&cx, &[("agent", &agent)], &ids).await?;
    let page = common::query(
        &cx,
        &[
            ("agent", &agent),
            ("verb", crate::fixtures::EXPERIENCED),
            ("since", "2000-01-01T00:00:00Z"),
            ("limit", "1"),
        ],
    )
    .await?;
    let more = page["more"].as_str().unwrap_or_default();
    ensure!(!more.is_empty(), "limit=1 of 2 matches gave no more link");
    ensure!(
        more.len() < 2048,
        "the more link is {} characters long",
        more.len()
    );
    Ok(())
}
