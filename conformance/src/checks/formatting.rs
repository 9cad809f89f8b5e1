//! The structure rules of a statement: its required and allowed properties and their names,
//! the actor (Agents, anonymous and identified Groups, their one identifier and its forms,
//! members), the verb, the object (Activities and their definitions and interactions, Agents
//! and Groups as objects, StatementRefs, SubStatements) and the authority. Each check sends a
//! table of invalid statements, every one of which must be answered 400 and not stored, and
//! a table of valid ones, every one of which must be accepted. (`formatting_values` holds the
//! rules of result, context, timestamps, language maps and the other values.)

use serde_json::{json, Map, Value};

use crate::check::{Area, Check, Ctx, Failure, Verdict};
use crate::checks::common::{self, is_uuid};
use crate::fail;
use crate::fixtures::{EXPERIENCED, HOST};

pub fn checks() -> Vec<Check> {
    let mut checks = statement_checks();
    checks.extend(actor_checks());
    checks.extend(verb_and_object_checks());
    checks.extend(interaction_checks());
    checks.extend(reference_checks());
    checks
}

fn statement_checks() -> Vec<Check> {
    vec![
        Check::new(
            Area::Formatting,
            "formatting.statement-required-properties",
            "A statement without actor, verb or object gets 400; one with just those is accepted",
            statement_required_properties,
        )
        .v1(&[
            "Data 2.2.s2.b3",
            "Data 2.2.s4.b1",
            "Data 2.4.s1.table1.row2",
            "Data 2.4.s1.table1.row3",
            "Data 2.4.s1.table1.row4",
        ])
        .v2(&["4.2.1#1", "4.2.1#6", "4.2.2#2", "4.2.2#3", "4.2.2#4"]),
        Check::new(
            Area::Formatting,
            "formatting.statement-id-uuid",
            "A statement id that is not a hyphenated UUID gets 400",
            statement_id_uuid,
        )
        .v1(&[
            "Data 2.4.s1.table1.row1",
            "Data 2.4.1.s1",
            "Data 4.4",
            "Data 2.2.s4.b1.b4",
        ])
        .v2(&["4.2.2#1", "4.2.7#6", "4.2.1#9"]),
        Check::new(
            Area::Formatting,
            "formatting.structure-unknown-properties",
            "A property the statement, actor, verb, object or definition tables do not define gets 400",
            unknown_properties,
        )
        .v1(&[
            "Data 2.2.s4.b1.b7",
            "Data 2.2.s4.b8",
            "Communication 3.0.s2.b1",
        ])
        .v2(&["4.2.1#3", "4.2.1#12"]),
        Check::new(
            Area::Formatting,
            "formatting.structure-property-name-case",
            "A property name in another letter case than the specification's gets 400",
            property_name_case,
        )
        .v1(&["Data 2.2.s4.b1.b5"])
        .v2(&["4.2.1#10"]),
        Check::new(
            Area::Formatting,
            "formatting.structure-enumerated-value-case",
            "An objectType or interactionType in another letter case than the allowed value gets 400",
            enumerated_value_case,
        )
        .v1(&["Data 2.2.s4.b1.b6"])
        .v2(&["4.2.1#11"]),
        Check::new(
            Area::Formatting,
            "formatting.structure-null-values",
            "null as the value of an actor, verb or object property gets 400",
            null_values,
        )
        .v1(&["Data 2.2.s4.b1.b1"])
        .v2(&["4.2.1#7"]),
        Check::new(
            Area::Formatting,
            "formatting.structure-wrong-json-types",
            "An actor, verb or object property of the wrong JSON type gets 400",
            wrong_json_types,
        )
        .v1(&["Data 2.2.s4.b1.b3"])
        .v2(&["4.2.1#2", "4.2.1#8"]),
        Check::new(
            Area::Formatting,
            "formatting.structure-any-property-order",
            "A statement whose properties come in an unusual order is accepted and read back unchanged",
            any_property_order,
        )
        .v1(&["Data 2.2.s2.b4"])
        .v2(&["4.2.4.1#2"]),
        Check::new(
            Area::Formatting,
            "formatting.structure-duplicate-property",
            "A statement with the same property twice in one object gets 400",
            duplicate_property,
        )
        .v2(&["4.2.1#5"]),
    ]
}

fn actor_checks() -> Vec<Check> {
    vec![
        Check::new(
            Area::Formatting,
            "formatting.agent-object-type",
            "An Agent's objectType is absent or \"Agent\", wherever an Agent stands",
            agent_object_type,
        )
        .v1(&["Data 2.4.2.1.s2.table1.row1", "Data 2.4.s1.table1.row2"])
        .v2(&["4.2.2.1#1"]),
        Check::new(
            Area::Formatting,
            "formatting.agent-name-string",
            "An Agent's name that is not a string gets 400, wherever the Agent stands",
            agent_name_string,
        )
        .v1(&["Data 2.4.2.1.s2.table1.row2"])
        .v2(&["4.2.2.1#2"]),
        Check::new(
            Area::Formatting,
            "formatting.agent-needs-identifier",
            "An Agent without mbox, mbox_sha1sum, openid or account gets 400; each one alone is accepted",
            agent_needs_identifier,
        )
        .v1(&["Data 2.4.2.1.s2.b1", "Data 2.4.2.1.s2.table1.row3"])
        .v2(&["4.2.2.1#3"]),
        Check::new(
            Area::Formatting,
            "formatting.agent-one-identifier",
            "An Agent with two inverse functional identifiers gets 400",
            agent_one_identifier,
        )
        .v1(&["Data 2.4.2.1.s2.b2"])
        .v2(&["4.2.2.1#3", "4.2.4.2#3"]),
        Check::new(
            Area::Formatting,
            "formatting.agent-mbox-mailto",
            "An mbox that is not \"mailto:\" and an e-mail address gets 400",
            agent_mbox_mailto,
        )
        .v1(&["Data 2.4.2.3.s3.table1.row1", "Data 2.2.s4.b1.b4"])
        .v2(&["4.2.2.1#4", "4.2.1#9"]),
        Check::new(
            Area::Formatting,
            "formatting.agent-mbox-sha1sum",
            "An mbox_sha1sum that is not 40 hexadecimal digits gets 400",
            agent_mbox_sha1sum,
        )
        .v1(&["Data 2.4.2.3.s3.table1.row2"])
        .v2(&["4.2.2.1#5"]),
        Check::new(
            Area::Formatting,
            "formatting.agent-openid-uri",
            "An openid that is not an absolute URI gets 400",
            agent_openid_uri,
        )
        .v1(&["Data 2.4.2.3.s3.table1.row3", "Data 2.2.s4.b1.b8"])
        .v2(&["4.2.2.1#7", "4.2.1#13"]),
        Check::new(
            Area::Formatting,
            "formatting.agent-account",
            "An account needs homePage (an IRL) and name (a string) and nothing else",
            agent_account,
        )
        .v1(&[
            "Data 2.4.2.3.s3.table1.row4",
            "Data 2.4.2.4.s2.table1.row1",
            "Data 2.4.2.4.s2.table1.row2",
        ])
        .v2(&["4.2.2.1#8", "4.2.2.1#13", "4.2.2.1#14"]),
        Check::new(
            Area::Formatting,
            "formatting.group-object-type",
            "A Group states objectType \"Group\"",
            group_object_type,
        )
        .v1(&[
            "Data 2.4.2.2.s2.table1.row1",
            "Data 2.4.2.2.s2.table2.row1",
        ])
        .v2(&["4.2.2.1#9"]),
        Check::new(
            Area::Formatting,
            "formatting.group-name-string",
            "A Group's name that is not a string gets 400",
            group_name_string,
        )
        .v1(&[
            "Data 2.4.2.2.s2.table1.row2",
            "Data 2.4.2.2.s2.table2.row2",
        ])
        .v2(&["4.2.2.1#10"]),
        Check::new(
            Area::Formatting,
            "formatting.group-anonymous-members",
            "An anonymous Group needs member, an array of valid Agents and never Groups",
            group_anonymous_members,
        )
        .v1(&[
            "Data 2.4.2.2.s2.table1.row3",
            "Data 2.4.2.2.s4.b1",
            "Data 2.4.2.2.s4.b2",
        ])
        .v2(&["4.2.2.1#11", "4.2.4.2#4"]),
        Check::new(
            Area::Formatting,
            "formatting.group-identified",
            "An identified Group has exactly one identifier; its optional member array holds only Agents",
            group_identified,
        )
        .v1(&[
            "Data 2.4.2.2.s2.table2.row3",
            "Data 2.4.2.2.s2.table2.row4",
            "Data 2.4.2.2.s5.b1",
            "Data 2.4.2.2.s5.b2",
            "Data 2.4.2.2.s5.b4",
        ])
        .v2(&["4.2.2.1#12", "4.2.4.2#4"]),
        Check::new(
            Area::Formatting,
            "formatting.authority-agent-or-group",
            "An authority that is not a valid Agent or Group gets 400",
            authority_agent_or_group,
        )
        .v1(&["Data 2.4.s1.table1.row9"])
        .v2(&["4.2.2#9"]),
        Check::new(
            Area::Formatting,
            "formatting.authority-group-of-two",
            "A Group as authority has exactly two Agents",
            authority_group_of_two,
        )
        .v1(&["Data 2.4.9.s3.b1"]),
    ]
}

fn verb_and_object_checks() -> Vec<Check> {
    vec![
        Check::new(
            Area::Formatting,
            "formatting.verb-id-iri",
            "A verb without an id, or whose id is not an absolute IRI, gets 400",
            verb_id_iri,
        )
        .v1(&[
            "Data 2.4.3.s3.table1.row1",
            "Data 2.4.s1.table1.row3",
            "Data 2.2.s4.b1.b8",
        ])
        .v2(&["4.2.2.2#1", "4.2.1#4", "4.2.1#13"]),
        Check::new(
            Area::Formatting,
            "formatting.verb-display-language-map",
            "A verb display that is not a language map gets 400",
            verb_display_language_map,
        )
        .v1(&["Data 2.4.3.s3.table1.row2"])
        .v2(&["4.2.2.2#2"]),
        Check::new(
            Area::Formatting,
            "formatting.object-type-values",
            "An object's objectType is one of Activity, Agent, Group, StatementRef, SubStatement; absent means Activity",
            object_type_values,
        )
        .v1(&[
            "Data 2.4.4.s2",
            "Data 2.4.s1.table1.row4",
            "Data 2.4.4.1.s1.table1.row1",
        ])
        .v2(&["4.2.2.3#2", "4.2.2#4"]),
        Check::new(
            Area::Formatting,
            "formatting.activity-id-iri",
            "An Activity without an id, or whose id is not an absolute IRI, gets 400",
            activity_id_iri,
        )
        .v1(&["Data 2.4.4.1.s1.table1.row2", "Data 2.2.s4.b1.b8"])
        .v2(&["4.2.2.3#3", "4.2.1#13"]),
        Check::new(
            Area::Formatting,
            "formatting.activity-definition-shape",
            "An Activity definition is an object whose name and description are language maps and extensions an object",
            activity_definition_shape,
        )
        .v1(&[
            "Data 2.4.4.1.s1.table1.row3",
            "Data 2.4.4.1.s2.table1.row1",
            "Data 2.4.4.1.s2.table1.row2",
            "Data 2.4.4.1.s2.table1.row5",
        ])
        .v2(&["4.2.2.3#4", "4.2.2.3#5", "4.2.2.3#6", "4.2.2.3#9"]),
        Check::new(
            Area::Formatting,
            "formatting.activity-definition-iris",
            "An Activity definition's type must be an IRI and its moreInfo an IRL",
            activity_definition_iris,
        )
        .v1(&[
            "Data 2.4.4.1.s2.table1.row3",
            "Data 2.4.4.1.s2.table1.row4",
            "Data 2.2.s4.b1.b8",
        ])
        .v2(&["4.2.2.3#7", "4.2.2.3#8", "4.2.1#4"]),
        Check::new(
            Area::Formatting,
            "formatting.object-agent-needs-object-type",
            "An Agent or Group used as an object without objectType gets 400",
            object_agent_needs_object_type,
        )
        .v1(&["Data 2.4.4.2.s1.b1"])
        .v2(&["4.2.2.3#14"]),
    ]
}

fn interaction_checks() -> Vec<Check> {
    vec![
        Check::new(
            Area::Formatting,
            "formatting.interaction-type",
            "interactionType is one of the ten values, and is required by every interaction property",
            interaction_type,
        )
        .v1(&["Data 2.4.4.1.s8.table1.row1", "Data 2.4.4.1.s13.b1"])
        .v2(&["4.2.2.3#10", "4.2.4.2#6"]),
        Check::new(
            Area::Formatting,
            "formatting.interaction-correct-responses-pattern",
            "correctResponsesPattern that is not an array of strings gets 400",
            interaction_correct_responses_pattern,
        )
        .v1(&["Data 2.4.4.1.s8.table1.row2"])
        .v2(&["4.2.2.3#11"]),
        Check::new(
            Area::Formatting,
            "formatting.interaction-components",
            "choices, scale, source, target and steps are arrays of components with a string id and a language map description",
            interaction_components,
        )
        .v1(&[
            "Data 2.4.4.1.s8.table1.row3",
            "Data 2.4.4.1.s15.table1.row1",
        ])
        .v2(&["4.2.2.3#12", "4.2.2.3#13"]),
        Check::new(
            Area::Formatting,
            "formatting.interaction-components-fit-type",
            "Components that do not fit the interactionType are accepted or answered 400, nothing else",
            interaction_components_fit_type,
        )
        .v1(&["Data 2.4.4.1.s13.b3"])
        .v2(&["4.2.4.2#7"]),
        Check::new(
            Area::Formatting,
            "formatting.interaction-patterns-unlimited",
            "Very long response patterns, many of them, and a long activity name are accepted",
            interaction_patterns_unlimited,
        )
        .v1(&["Data 2.4.4.1.s13.b4", "Data 2.4.4.1.s13.b5"])
        .v2(&["4.2.4.1#4"]),
    ]
}

fn reference_checks() -> Vec<Check> {
    vec![
        Check::new(
            Area::Formatting,
            "formatting.statement-ref",
            "A StatementRef has objectType \"StatementRef\" and a UUID id, nothing else; it may point to an unknown statement",
            statement_ref,
        )
        .v1(&[
            "Data 2.4.4.3.s4.b1",
            "Data 2.4.4.3.s4.b2",
            "Data 2.4.4.3.s4.table1.row1",
            "Data 2.4.4.3.s4.table1.row2",
        ])
        .v2(&["4.2.2.3#15"]),
        Check::new(
            Area::Formatting,
            "formatting.substatement-structure",
            "A SubStatement has objectType \"SubStatement\" and a valid actor, verb and object",
            substatement_structure,
        )
        .v1(&["Data 2.4.4.3.s8.b1", "Data 2.4.4.3.s8.b2"])
        .v2(&["4.2.2.3#16"]),
        Check::new(
            Area::Formatting,
            "formatting.substatement-forbidden-properties",
            "A SubStatement with id, stored, version or authority gets 400",
            substatement_forbidden_properties,
        )
        .v1(&["Data 2.4.4.3.s8.b3"])
        .v2(&["4.2.2.3#17"]),
        Check::new(
            Area::Formatting,
            "formatting.substatement-nested",
            "A SubStatement whose object is a SubStatement gets 400",
            substatement_nested,
        )
        .v1(&["Data 2.4.4.3.s8.b4"])
        .v2(&["4.2.4.2#9"]),
    ]
}

// ---------------------------------------------------------------------------------------
// Running tables of cases

/// One statement to send, and what it is (for failure messages).
struct Case {
    what: String,
    body: Value,
}

fn case(what: impl Into<String>, body: Value) -> Case {
    Case {
        what: what.into(),
        body,
    }
}

/// The most wrong answers one failure message lists.
const LISTED: usize = 6;

/// How a case is sent: by POST, or by PUT with its id as statementId.
#[derive(Clone, Copy)]
enum Write {
    Post,
    Put,
}

/// Gives a statement an id of its own unless the case is about its id, so that a rejected
/// statement can be looked up afterwards.
fn with_fresh_id(cx: &Ctx, mut body: Value) -> Value {
    if let Some(object) = body.as_object_mut() {
        if !object.contains_key("id") {
            object.insert("id".to_owned(), json!(cx.fx.uuid()));
        }
    }
    body
}

/// The statement id of a body when it is one the LRS can be asked about.
fn uuid_of(body: &Value) -> Option<&str> {
    body["id"].as_str().filter(|id| is_uuid(id))
}

/// Alternates POST and PUT so both ways of writing are held to the rule; a statement whose
/// id is not a UUID can only be POSTed.
fn write_for(index: usize, body: &Value) -> Write {
    if index % 2 == 1 && uuid_of(body).is_some() {
        Write::Put
    } else {
        Write::Post
    }
}

/// Sends `body` (JSON text) as one statement; returns the status and the request's name.
async fn send(cx: &Ctx, body: String, id: Option<&str>, write: Write) -> Result<u16, Failure> {
    let request = match (write, id) {
        (Write::Put, Some(id)) => cx.put("statements").query("statementId", id),
        _ => cx.post("statements"),
    };
    Ok(request.body("application/json", body).send().await?.status)
}

fn method(write: Write) -> &'static str {
    match write {
        Write::Post => "POST",
        Write::Put => "PUT",
    }
}

/// After a rejection: the statement must not have been stored. `None` when it was not.
async fn stored_anyway(cx: &Ctx, id: Option<&str>) -> Result<Option<String>, Failure> {
    let Some(id) = id else { return Ok(None) };
    let status = cx
        .get("statements")
        .query("statementId", id)
        .send()
        .await?
        .status;
    Ok((status != 404).then(|| {
        format!("answered 400, yet GET ?statementId={id} then answered {status} (expected 404: nothing stored)")
    }))
}

/// What went wrong with one invalid case, if anything. `lenient` also lets it be accepted.
async fn judge_invalid(
    cx: &Ctx,
    index: usize,
    body: &Value,
    lenient: bool,
) -> Result<Option<String>, Failure> {
    let id = uuid_of(body);
    let write = write_for(index, body);
    let status = send(cx, body.to_string(), id, write).await?;
    match status {
        400 => stored_anyway(cx, id).await,
        200 | 204 if lenient => Ok(None),
        other => Ok(Some(format!(
            "{} answered {other}, expected {}",
            method(write),
            if lenient { "2xx or 400" } else { "400" }
        ))),
    }
}

/// What went wrong with one valid case, if anything.
async fn judge_valid(cx: &Ctx, index: usize, body: &Value) -> Result<Option<String>, Failure> {
    let write = write_for(index, body);
    let expected = match write {
        Write::Post => 200,
        Write::Put => 204,
    };
    let status = send(cx, body.to_string(), uuid_of(body), write).await?;
    Ok((status != expected)
        .then(|| format!("{} answered {status}, expected {expected}", method(write))))
}

/// Every invalid case must be answered 400 and not stored; every valid one accepted.
async fn judge(cx: &Ctx, invalid: Vec<Case>, valid: Vec<Case>) -> Verdict {
    judge_all(cx, invalid, valid, false).await
}

async fn judge_all(cx: &Ctx, invalid: Vec<Case>, valid: Vec<Case>, lenient: bool) -> Verdict {
    let total = invalid.len() + valid.len();
    let mut problems = Vec::new();
    for (index, case) in invalid.into_iter().enumerate() {
        let body = with_fresh_id(cx, case.body);
        if let Some(problem) = judge_invalid(cx, index, &body, lenient).await? {
            problems.push(format!("invalid: {}: {problem}", case.what));
        }
    }
    for (index, case) in valid.into_iter().enumerate() {
        let body = with_fresh_id(cx, case.body);
        if let Some(problem) = judge_valid(cx, index, &body).await? {
            problems.push(format!("valid: {}: {problem}", case.what));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let more = problems.len().saturating_sub(LISTED);
    let listed = problems
        .iter()
        .take(LISTED)
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("; ");
    fail!(
        "{} of {total} statements were judged wrongly: {listed}{}",
        problems.len(),
        if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        }
    )
}

// ---------------------------------------------------------------------------------------
// Building blocks

/// A change made to a statement (or SubStatement) to break or vary it.
type Change = Box<dyn FnOnce(&mut Value)>;

/// The fixture statement changed by `change`.
fn with(cx: &Ctx, change: impl FnOnce(&mut Value)) -> Value {
    let mut statement = cx.fx.statement();
    change(&mut statement);
    statement
}

/// The fixture statement without the named top-level properties.
fn without(cx: &Ctx, keys: &[&str]) -> Value {
    with(cx, |s| {
        if let Some(object) = s.as_object_mut() {
            for key in keys {
                object.remove(*key);
            }
        }
    })
}

/// A fixture value with `key` set to `value` (the value must be an object).
fn set(mut base: Value, key: &str, value: Value) -> Value {
    if let Some(object) = base.as_object_mut() {
        object.insert(key.to_owned(), value);
    }
    base
}

/// A fixture value with `key` removed.
fn unset(mut base: Value, key: &str) -> Value {
    if let Some(object) = base.as_object_mut() {
        object.remove(key);
    }
    base
}

fn verb() -> Value {
    json!({ "id": EXPERIENCED, "display": { "en-US": "experienced" } })
}

/// A minimal valid SubStatement.
fn substatement(cx: &Ctx) -> Value {
    json!({
        "objectType": "SubStatement",
        "actor": cx.fx.agent(),
        "verb": verb(),
        "object": cx.fx.activity()
    })
}

/// A statement whose object is a SubStatement changed by `change`.
fn with_sub(cx: &Ctx, change: impl FnOnce(&mut Value)) -> Value {
    let mut sub = substatement(cx);
    change(&mut sub);
    with(cx, |s| s["object"] = sub)
}

/// A statement whose object's definition has `key` set to `value`.
fn with_definition(cx: &Ctx, key: &str, value: Value) -> Value {
    with(cx, |s| s["object"]["definition"][key] = value)
}

/// 40 hexadecimal digits unique to this run: the shape of a SHA-1 sum.
fn sha1_like() -> String {
    let hex = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    hex[..40].to_owned()
}

fn account(cx: &Ctx) -> Value {
    json!({ "homePage": format!("http://{HOST}/"), "name": cx.fx.iri("account") })
}

/// Each inverse functional identifier with a fresh valid value.
fn identifiers(cx: &Ctx) -> Vec<(&'static str, Value)> {
    vec![
        ("mbox", json!(cx.fx.mbox())),
        ("mbox_sha1sum", json!(sha1_like())),
        ("openid", json!(cx.fx.iri("openid"))),
        ("account", account(cx)),
    ]
}

/// An Agent (objectType stated) identified by `ifi`.
fn agent_by(ifi: &str, value: Value) -> Value {
    let mut agent = Map::new();
    agent.insert("objectType".to_owned(), json!("Agent"));
    agent.insert(ifi.to_owned(), value);
    Value::Object(agent)
}

fn anonymous_group(cx: &Ctx) -> Value {
    json!({
        "objectType": "Group",
        "name": "Conformance group",
        "member": [cx.fx.agent(), cx.fx.agent()]
    })
}

fn identified_group(cx: &Ctx) -> Value {
    json!({ "objectType": "Group", "name": "Conformance group", "mbox": cx.fx.mbox() })
}

/// Where an Agent or Group may stand in a statement.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Spot {
    Actor,
    Object,
    Authority,
    Instructor,
    SubActor,
    SubObject,
    SubInstructor,
}

impl Spot {
    const ALL: [Spot; 7] = [
        Spot::Actor,
        Spot::Object,
        Spot::Authority,
        Spot::Instructor,
        Spot::SubActor,
        Spot::SubObject,
        Spot::SubInstructor,
    ];

    /// Where a valid Group may stand: an authority Group has rules of its own.
    const GROUP: [Spot; 6] = [
        Spot::Actor,
        Spot::Object,
        Spot::Instructor,
        Spot::SubActor,
        Spot::SubObject,
        Spot::SubInstructor,
    ];

    fn name(self) -> &'static str {
        match self {
            Spot::Actor => "actor",
            Spot::Object => "object",
            Spot::Authority => "authority",
            Spot::Instructor => "context.instructor",
            Spot::SubActor => "SubStatement actor",
            Spot::SubObject => "SubStatement object",
            Spot::SubInstructor => "SubStatement context.instructor",
        }
    }

    /// An object without objectType is an Activity, so an Agent there must state its type.
    fn is_object(self) -> bool {
        matches!(self, Spot::Object | Spot::SubObject)
    }
}

/// The fixture statement with `who` at `spot`.
fn place(cx: &Ctx, spot: Spot, who: &Value) -> Value {
    let who = who.clone();
    match spot {
        Spot::Actor => with(cx, |s| s["actor"] = who),
        Spot::Object => with(cx, |s| s["object"] = who),
        Spot::Authority => with(cx, |s| s["authority"] = who),
        Spot::Instructor => with(cx, |s| s["context"] = json!({ "instructor": who })),
        Spot::SubActor => with_sub(cx, |sub| sub["actor"] = who),
        Spot::SubObject => with_sub(cx, |sub| sub["object"] = who),
        Spot::SubInstructor => with_sub(cx, |sub| sub["context"] = json!({ "instructor": who })),
    }
}

/// One case per spot with `who` there; object spots only when `who` states its objectType,
/// so the case fails, or passes, for the rule it is about.
fn at(cx: &Ctx, spots: &[Spot], what: &str, who: &Value) -> Vec<Case> {
    spots
        .iter()
        .filter(|spot| !spot.is_object() || who.get("objectType").is_some())
        .map(|spot| case(format!("{what} as {}", spot.name()), place(cx, *spot, who)))
        .collect()
}

/// `at` for each (what, who) pair.
fn at_each(cx: &Ctx, spots: &[Spot], items: Vec<(String, Value)>) -> Vec<Case> {
    items
        .iter()
        .flat_map(|(what, who)| at(cx, spots, what, who))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Statement

async fn statement_required_properties(cx: Ctx) -> Verdict {
    let invalid = vec![
        case("no actor", without(&cx, &["actor"])),
        case("no verb", without(&cx, &["verb"])),
        case("no object", without(&cx, &["object"])),
        case(
            "none of actor, verb, object",
            without(&cx, &["actor", "verb", "object"]),
        ),
        case("an empty object", with(&cx, |s| s["object"] = json!({}))),
        case("an empty actor", with(&cx, |s| s["actor"] = json!({}))),
        case("an empty verb", with(&cx, |s| s["verb"] = json!({}))),
    ];
    let valid = vec![case("actor, verb and object only", cx.fx.statement())];
    judge(&cx, invalid, valid).await
}

async fn statement_id_uuid(cx: Ctx) -> Verdict {
    let uuid = cx.fx.uuid();
    let ids = [
        json!("not-a-uuid"),
        json!(""),
        json!(uuid.replace('-', "")),
        json!(format!("{{{uuid}}}")),
        json!(format!("urn:uuid:{uuid}")),
        json!(format!("{uuid}0")),
        json!(format!("{}g", &uuid[..35])),
        json!(uuid[..35]),
        json!(12345),
        json!({ "id": uuid }),
    ];
    let invalid = ids
        .into_iter()
        .map(|id| case(format!("id {id}"), with(&cx, |s| s["id"] = id)))
        .collect();
    let valid = vec![
        case("a fresh UUID", with(&cx, |s| s["id"] = json!(cx.fx.uuid()))),
        case("no id", cx.fx.statement()),
    ];
    judge(&cx, invalid, valid).await
}

async fn unknown_properties(cx: Ctx) -> Verdict {
    let invalid = vec![
        case(
            "a top-level `comment`",
            with(&cx, |s| s["comment"] = json!("x")),
        ),
        case(
            "a top-level `extensions` (allowed only in result, context and definitions)",
            with(&cx, |s| {
                s["extensions"] = json!({ cx.fx.iri("extension"): 1 })
            }),
        ),
        case(
            "an Agent actor with `member`",
            with(&cx, |s| s["actor"]["member"] = json!([cx.fx.agent()])),
        ),
        case(
            "an actor with `age`",
            with(&cx, |s| s["actor"]["age"] = json!(30)),
        ),
        case(
            "a verb with `name`",
            with(&cx, |s| s["verb"]["name"] = json!({ "en-US": "x" })),
        ),
        case(
            "an Activity with `name` outside its definition",
            with(&cx, |s| s["object"]["name"] = json!({ "en-US": "x" })),
        ),
        case(
            "an activity definition with `title`",
            with_definition(&cx, "title", json!({ "en-US": "x" })),
        ),
        case(
            "an account with `email`",
            with(&cx, |s| {
                s["actor"] = json!({ "account": set(account(&cx), "email", json!("x")) })
            }),
        ),
        case(
            "a Group with `members`",
            with(&cx, |s| {
                s["actor"] = set(anonymous_group(&cx), "members", json!([cx.fx.agent()]))
            }),
        ),
    ];
    let valid = vec![case("only defined properties", cx.fx.statement())];
    judge(&cx, invalid, valid).await
}

/// `base` with the key `from` renamed to `to`, keeping its place.
fn rename(base: &Value, from: &str, to: &str) -> Value {
    match base {
        Value::Object(object) => Value::Object(
            object
                .iter()
                .map(|(k, v)| (if k == from { to.to_owned() } else { k.clone() }, v.clone()))
                .collect(),
        ),
        other => other.clone(),
    }
}

async fn property_name_case(cx: Ctx) -> Verdict {
    let statement = cx.fx.statement();
    let mut invalid: Vec<Case> = [("actor", "Actor"), ("verb", "VERB"), ("object", "Object")]
        .into_iter()
        .map(|(from, to)| case(format!("`{to}` for `{from}`"), rename(&statement, from, to)))
        .collect();
    let nested: [(&str, &str, &str); 6] = [
        ("actor", "mbox", "Mbox"),
        ("actor", "objectType", "objecttype"),
        ("verb", "id", "ID"),
        ("verb", "display", "Display"),
        ("object", "objectType", "ObjectType"),
        ("object", "definition", "Definition"),
    ];
    for (parent, from, to) in nested {
        let mut body = statement.clone();
        body[parent] = rename(&statement[parent], from, to);
        invalid.push(case(format!("{parent}.`{to}` for `{from}`"), body));
    }
    let mut body = statement.clone();
    body["object"]["definition"] = rename(&statement["object"]["definition"], "name", "Name");
    invalid.push(case("definition.`Name` for `name`", body));
    invalid.push(case(
        "account.`homepage` for `homePage`",
        with(
            &cx,
            |s| s["actor"] = json!({ "account": rename(&account(&cx), "homePage", "homepage") }),
        ),
    ));
    invalid.push(case(
        "definition.`interactiontype` for `interactionType`",
        with_definition(&cx, "interactiontype", json!("true-false")),
    ));
    invalid.push(case(
        "`mbox_SHA1sum` for `mbox_sha1sum`",
        with(&cx, |s| s["actor"] = json!({ "mbox_SHA1sum": sha1_like() })),
    ));
    let valid = vec![case("names as specified", statement)];
    judge(&cx, invalid, valid).await
}

async fn enumerated_value_case(cx: Ctx) -> Verdict {
    let mut invalid = Vec::new();
    for object_type in ["agent", "AGENT"] {
        invalid.push(case(
            format!("actor objectType {object_type:?}"),
            with(&cx, |s| s["actor"]["objectType"] = json!(object_type)),
        ));
    }
    invalid.push(case(
        "actor objectType \"group\"",
        with(&cx, |s| {
            s["actor"] = set(anonymous_group(&cx), "objectType", json!("group"))
        }),
    ));
    invalid.push(case(
        "object objectType \"activity\"",
        with(&cx, |s| s["object"]["objectType"] = json!("activity")),
    ));
    invalid.push(case(
        "object objectType \"statementref\"",
        with(&cx, |s| {
            s["object"] = json!({ "objectType": "statementref", "id": cx.fx.uuid() })
        }),
    ));
    invalid.push(case(
        "object objectType \"subStatement\"",
        with_sub(&cx, |sub| sub["objectType"] = json!("subStatement")),
    ));
    for interaction_type in ["True-False", "CHOICE", "fill-In"] {
        invalid.push(case(
            format!("interactionType {interaction_type:?}"),
            with_definition(&cx, "interactionType", json!(interaction_type)),
        ));
    }
    let valid = vec![
        case(
            "interactionType \"true-false\"",
            with_definition(&cx, "interactionType", json!("true-false")),
        ),
        case("a SubStatement", with_sub(&cx, |_| {})),
    ];
    judge(&cx, invalid, valid).await
}

async fn null_values(cx: Ctx) -> Verdict {
    let mut invalid = Vec::new();
    for key in ["actor", "verb", "object"] {
        invalid.push(case(
            format!("{key} null"),
            with(&cx, |s| s[key] = Value::Null),
        ));
    }
    let nested: [(&str, &[&str]); 12] = [
        ("actor.name", &["actor", "name"]),
        ("actor.objectType", &["actor", "objectType"]),
        ("actor.openid beside mbox", &["actor", "openid"]),
        ("verb.display", &["verb", "display"]),
        ("verb.display[en-US]", &["verb", "display", "en-US"]),
        ("object.objectType", &["object", "objectType"]),
        ("object.definition", &["object", "definition"]),
        ("definition.name", &["object", "definition", "name"]),
        (
            "definition.description",
            &["object", "definition", "description"],
        ),
        ("definition.type", &["object", "definition", "type"]),
        ("definition.moreInfo", &["object", "definition", "moreInfo"]),
        (
            "definition.interactionType",
            &["object", "definition", "interactionType"],
        ),
    ];
    for (what, path) in nested {
        invalid.push(case(
            format!("{what} null"),
            with(&cx, |s| {
                let mut target = s;
                for key in path {
                    target = &mut target[*key];
                }
                *target = Value::Null;
            }),
        ));
    }
    invalid.push(case(
        "Group name null",
        with(&cx, |s| {
            s["actor"] = set(anonymous_group(&cx), "name", Value::Null)
        }),
    ));
    invalid.push(case(
        "identified Group member null",
        with(&cx, |s| {
            s["actor"] = set(identified_group(&cx), "member", Value::Null)
        }),
    ));
    invalid.push(case(
        "account name null",
        with(&cx, |s| {
            s["actor"] = json!({ "account": set(account(&cx), "name", Value::Null) })
        }),
    ));
    invalid.push(case(
        "SubStatement actor null",
        with_sub(&cx, |sub| sub["actor"] = Value::Null),
    ));
    let valid = vec![case("no null anywhere", cx.fx.statement())];
    judge(&cx, invalid, valid).await
}

async fn wrong_json_types(cx: Ctx) -> Verdict {
    let agent = cx.fx.agent();
    let mbox = agent["mbox"].clone();
    let activity = cx.fx.activity();
    let changes: Vec<(&str, Change)> = vec![
        ("actor a string", Box::new(move |s| s["actor"] = mbox)),
        (
            "actor an array",
            Box::new(move |s| s["actor"] = json!([agent])),
        ),
        (
            "verb a string",
            Box::new(|s| s["verb"] = json!(EXPERIENCED)),
        ),
        ("verb an array", Box::new(|s| s["verb"] = json!([verb()]))),
        (
            "object a string",
            Box::new(|s| s["object"] = s["object"]["id"].clone()),
        ),
        (
            "object an array",
            Box::new(move |s| s["object"] = json!([activity])),
        ),
        (
            "actor objectType a number",
            Box::new(|s| s["actor"]["objectType"] = json!(1)),
        ),
        (
            "actor name a boolean",
            Box::new(|s| s["actor"]["name"] = json!(true)),
        ),
        ("verb id a number", Box::new(|s| s["verb"]["id"] = json!(1))),
        (
            "verb display a string",
            Box::new(|s| s["verb"]["display"] = json!("experienced")),
        ),
        (
            "activity id a number",
            Box::new(|s| s["object"]["id"] = json!(42)),
        ),
        (
            "definition a string",
            Box::new(|s| s["object"]["definition"] = json!("an activity")),
        ),
        (
            "definition name a string",
            Box::new(|s| s["object"]["definition"]["name"] = json!("an activity")),
        ),
        (
            "definition type an object",
            Box::new(|s| s["object"]["definition"]["type"] = json!({ "id": EXPERIENCED })),
        ),
    ];
    let mut invalid: Vec<Case> = changes
        .into_iter()
        .map(|(what, change)| case(what, with(&cx, change)))
        .collect();
    invalid.push(case(
        "account a string",
        with(&cx, |s| {
            s["actor"] = json!({ "account": format!("http://{HOST}/") })
        }),
    ));
    invalid.push(case(
        "Group member an object",
        with(&cx, |s| {
            s["actor"] = set(anonymous_group(&cx), "member", cx.fx.agent())
        }),
    ));
    let valid = vec![case("every type as specified", cx.fx.statement())];
    judge(&cx, invalid, valid).await
}

async fn any_property_order(cx: Ctx) -> Verdict {
    // The fixture builds properties in the specification's order; this one reverses it at
    // every level (serde_json keeps insertion order, so the text sent has this order).
    let id = cx.fx.uuid();
    let statement = json!({
        "object": {
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/assessment",
                "description": { "en-US": "Properties in reverse order" },
                "name": { "en-US": "Conformance activity" }
            },
            "id": cx.fx.iri("activity"),
            "objectType": "Activity"
        },
        "verb": { "display": { "en-US": "experienced" }, "id": EXPERIENCED },
        "actor": { "mbox": cx.fx.mbox(), "name": "Conformance Learner", "objectType": "Agent" },
        "id": id
    });
    let got_id = common::post_statement(&cx, &statement).await?;
    if got_id != id {
        fail!("POST of a statement with id {id} answered id {got_id}");
    }
    let got = common::get_statement(&cx, &id).await?;
    common::ensure_same_statement(&statement, &got, "the statement sent in reverse order")
}

async fn duplicate_property(cx: Ctx) -> Verdict {
    // serde_json cannot hold a duplicate key, so these bodies are written as text.
    let statement = cx.fx.statement();
    let actor = statement["actor"].to_string();
    let verb = statement["verb"].to_string();
    let object = statement["object"].to_string();
    let other_verb = json!({ "id": cx.fx.iri("verb") }).to_string();
    let twice_mbox = format!(
        r#"{{"objectType":"Agent","mbox":"{}","mbox":"{}"}}"#,
        cx.fx.mbox(),
        cx.fx.mbox()
    );
    let twice_id = format!(
        r#"{{"objectType":"Activity","id":"{}","id":"{}"}}"#,
        cx.fx.iri("activity"),
        cx.fx.iri("activity")
    );
    let bodies = [
        (
            "verb twice",
            format!(r#""actor":{actor},"verb":{verb},"verb":{other_verb},"object":{object}"#),
        ),
        (
            "actor.mbox twice",
            format!(r#""actor":{twice_mbox},"verb":{verb},"object":{object}"#),
        ),
        (
            "object.id twice",
            format!(r#""actor":{actor},"verb":{verb},"object":{twice_id}"#),
        ),
    ];
    let mut problems = Vec::new();
    for (index, (what, members)) in bodies.into_iter().enumerate() {
        let id = cx.fx.uuid();
        let body = format!(r#"{{"id":"{id}",{members}}}"#);
        let write = if index % 2 == 0 {
            Write::Post
        } else {
            Write::Put
        };
        let status = send(&cx, body, Some(&id), write).await?;
        let problem = if status == 400 {
            stored_anyway(&cx, Some(&id)).await?
        } else {
            Some(format!("{} answered {status}, expected 400", method(write)))
        };
        if let Some(problem) = problem {
            problems.push(format!("{what}: {problem}"));
        }
    }
    if !problems.is_empty() {
        fail!(
            "a statement with a duplicated property was not refused: {}",
            problems.join("; ")
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Actor, Agents and Groups

async fn agent_object_type(cx: Ctx) -> Verdict {
    let mbox = cx.fx.mbox();
    let bad = ["Person", "agent", "Activity", "StatementRef", "", "Agents"]
        .into_iter()
        .map(|t| {
            (
                format!("an Agent with objectType {t:?}"),
                json!({ "objectType": t, "mbox": mbox }),
            )
        })
        .chain([
            (
                "an Agent with objectType 1".to_owned(),
                json!({ "objectType": 1, "mbox": mbox }),
            ),
            (
                "an Agent with objectType {}".to_owned(),
                json!({ "objectType": {}, "mbox": mbox }),
            ),
        ])
        .collect();
    let invalid = at_each(&cx, &Spot::ALL, bad);
    let mut valid = at(
        &cx,
        &Spot::ALL,
        "an Agent with objectType \"Agent\"",
        &cx.fx.agent(),
    );
    valid.extend(at(
        &cx,
        &Spot::ALL,
        "an Agent without objectType",
        &json!({ "mbox": cx.fx.mbox() }),
    ));
    judge(&cx, invalid, valid).await
}

async fn agent_name_string(cx: Ctx) -> Verdict {
    let agent = cx.fx.agent();
    let bad = [
        json!(123),
        json!({ "en-US": "x" }),
        json!(["x"]),
        json!(true),
    ]
    .into_iter()
    .map(|name| {
        (
            format!("an Agent named {name}"),
            set(agent.clone(), "name", name),
        )
    })
    .collect();
    let invalid = at_each(&cx, &Spot::ALL, bad);
    let valid = at(
        &cx,
        &Spot::ALL,
        "an Agent with a string name",
        &set(cx.fx.agent(), "name", json!("Agnès Ødegård 李")),
    );
    judge(&cx, invalid, valid).await
}

async fn agent_needs_identifier(cx: Ctx) -> Verdict {
    let bad = vec![
        (
            "an Agent with only a name".to_owned(),
            json!({ "objectType": "Agent", "name": "Nobody" }),
        ),
        (
            "an Agent with only objectType".to_owned(),
            json!({ "objectType": "Agent" }),
        ),
    ];
    let invalid = at_each(&cx, &Spot::ALL, bad);
    let good = identifiers(&cx)
        .into_iter()
        .map(|(ifi, value)| (format!("an Agent by {ifi}"), agent_by(ifi, value)))
        .collect();
    let valid = at_each(&cx, &Spot::ALL, good);
    judge(&cx, invalid, valid).await
}

async fn agent_one_identifier(cx: Ctx) -> Verdict {
    let ids = identifiers(&cx);
    let mut pairs = Vec::new();
    for (i, (first, first_value)) in ids.iter().enumerate() {
        for (second, second_value) in &ids[i + 1..] {
            let agent = set(
                agent_by(first, first_value.clone()),
                second,
                second_value.clone(),
            );
            pairs.push((format!("an Agent with {first} and {second}"), agent));
        }
    }
    // Every pair as actor; the first pair at every other spot.
    let mut invalid = Vec::new();
    for (index, (what, agent)) in pairs.iter().enumerate() {
        let spots: &[Spot] = if index == 0 {
            &Spot::ALL
        } else {
            &[Spot::Actor]
        };
        invalid.extend(at(&cx, spots, what, agent));
    }
    let valid = vec![case("an Agent with mbox only", cx.fx.statement())];
    judge(&cx, invalid, valid).await
}

/// Invalid values of one identifier, each at every spot; a valid one at every spot.
async fn identifier_values(cx: &Ctx, ifi: &str, bad: Vec<Value>, good: Value) -> Verdict {
    let bad = bad
        .into_iter()
        .map(|value| (format!("{ifi} {value}"), agent_by(ifi, value)))
        .collect();
    let invalid = at_each(cx, &Spot::ALL, bad);
    let valid = at(
        cx,
        &Spot::ALL,
        &format!("{ifi} {good}"),
        &agent_by(ifi, good.clone()),
    );
    judge(cx, invalid, valid).await
}

async fn agent_mbox_mailto(cx: Ctx) -> Verdict {
    let address = cx.fx.mbox().replace("mailto:", "");
    let bad = vec![
        json!(address),
        json!(format!("http://{HOST}/{address}")),
        json!("mailto:"),
        json!("mailto:no-at-sign"),
        json!(""),
        json!(42),
    ];
    identifier_values(&cx, "mbox", bad, json!(cx.fx.mbox())).await
}

async fn agent_mbox_sha1sum(cx: Ctx) -> Verdict {
    let hex = sha1_like();
    let bad = vec![
        json!("not a sha1 sum"),
        json!(hex[..39]),
        json!(format!("{hex}a")),
        json!(format!("{}g", &hex[..39])),
        json!(""),
        json!(12345),
    ];
    identifier_values(&cx, "mbox_sha1sum", bad, json!(sha1_like())).await
}

async fn agent_openid_uri(cx: Ctx) -> Verdict {
    let bad = vec![
        json!("not a URI"),
        json!(format!("{HOST}/openid")),
        json!(""),
        json!(7),
    ];
    identifier_values(&cx, "openid", bad, json!(cx.fx.iri("openid"))).await
}

async fn agent_account(cx: Ctx) -> Verdict {
    let good = account(&cx);
    let bad = vec![
        ("a string".to_owned(), json!(format!("http://{HOST}/"))),
        ("an array".to_owned(), json!([good])),
        ("empty".to_owned(), json!({})),
        (
            "without homePage".to_owned(),
            unset(good.clone(), "homePage"),
        ),
        ("without name".to_owned(), unset(good.clone(), "name")),
        (
            "homePage without a scheme".to_owned(),
            set(good.clone(), "homePage", json!(HOST)),
        ),
        (
            "homePage empty".to_owned(),
            set(good.clone(), "homePage", json!("")),
        ),
        (
            "homePage a number".to_owned(),
            set(good.clone(), "homePage", json!(8)),
        ),
        (
            "name a number".to_owned(),
            set(good.clone(), "name", json!(9)),
        ),
        (
            "name an object".to_owned(),
            set(good.clone(), "name", json!({ "id": "x" })),
        ),
        (
            "with `mbox` inside".to_owned(),
            set(good.clone(), "mbox", json!(cx.fx.mbox())),
        ),
    ];
    let mut invalid = Vec::new();
    for (index, (what, value)) in bad.into_iter().enumerate() {
        // Two forms at every spot, the others as actor.
        let spots: &[Spot] = if index == 3 || index == 4 {
            &Spot::ALL
        } else {
            &[Spot::Actor]
        };
        invalid.extend(at(
            &cx,
            spots,
            &format!("account {what}"),
            &agent_by("account", value),
        ));
    }
    let valid = at(
        &cx,
        &Spot::ALL,
        "a valid account",
        &agent_by("account", good),
    );
    judge(&cx, invalid, valid).await
}

async fn group_object_type(cx: Ctx) -> Verdict {
    let anonymous = anonymous_group(&cx);
    let identified = set(identified_group(&cx), "member", json!([cx.fx.agent()]));
    let mut bad = vec![
        (
            "an anonymous Group without objectType".to_owned(),
            unset(anonymous.clone(), "objectType"),
        ),
        (
            "an identified Group with members without objectType".to_owned(),
            unset(identified.clone(), "objectType"),
        ),
        (
            "an anonymous Group with objectType \"Agent\"".to_owned(),
            set(anonymous.clone(), "objectType", json!("Agent")),
        ),
    ];
    for object_type in ["group", "Groups", "Team"] {
        bad.push((
            format!("an anonymous Group with objectType {object_type:?}"),
            set(anonymous.clone(), "objectType", json!(object_type)),
        ));
    }
    let invalid = at_each(&cx, &Spot::ALL, bad);
    let mut valid = at(&cx, &Spot::GROUP, "an anonymous Group", &anonymous);
    valid.extend(at(&cx, &Spot::GROUP, "an identified Group", &identified));
    judge(&cx, invalid, valid).await
}

async fn group_name_string(cx: Ctx) -> Verdict {
    let mut bad = Vec::new();
    for (kind, group) in [
        ("an anonymous", anonymous_group(&cx)),
        ("an identified", identified_group(&cx)),
    ] {
        for name in [json!(1), json!({ "en-US": "x" }), json!(["x"])] {
            bad.push((
                format!("{kind} Group named {name}"),
                set(group.clone(), "name", name),
            ));
        }
    }
    let invalid = at_each(&cx, &Spot::ALL, bad);
    let valid = at(
        &cx,
        &Spot::GROUP,
        "a Group with a string name",
        &anonymous_group(&cx),
    );
    judge(&cx, invalid, valid).await
}

/// Member lists no Group may have: not an array, or holding something other than Agents.
fn bad_members(cx: &Ctx) -> Vec<(&'static str, Value)> {
    vec![
        ("member an object", cx.fx.agent()),
        ("member a string", json!(cx.fx.mbox())),
        (
            "a member without identifier",
            json!([{ "objectType": "Agent", "name": "Nobody" }]),
        ),
        (
            "a member with two identifiers",
            json!([set(cx.fx.agent(), "openid", json!(cx.fx.iri("openid")))]),
        ),
        (
            "an identified Group as member",
            json!([identified_group(cx)]),
        ),
        ("an anonymous Group as member", json!([anonymous_group(cx)])),
        (
            "a member with objectType \"Group\"",
            json!([{ "objectType": "Group", "mbox": cx.fx.mbox() }]),
        ),
    ]
}

async fn group_anonymous_members(cx: Ctx) -> Verdict {
    let group = anonymous_group(&cx);
    let mut bad = vec![(
        "an anonymous Group without member".to_owned(),
        unset(group.clone(), "member"),
    )];
    for (what, member) in bad_members(&cx) {
        bad.push((
            format!("an anonymous Group with {what}"),
            set(group.clone(), "member", member),
        ));
    }
    let invalid = at_each(&cx, &Spot::ALL, bad);
    let mut valid = at(&cx, &Spot::GROUP, "an anonymous Group of two", &group);
    valid.extend(at(
        &cx,
        &Spot::GROUP,
        "an anonymous Group of one, by account, without objectType on the member",
        &set(
            group.clone(),
            "member",
            json!([{ "account": account(&cx) }]),
        ),
    ));
    judge(&cx, invalid, valid).await
}

async fn group_identified(cx: Ctx) -> Verdict {
    let group = identified_group(&cx);
    let mut bad = vec![
        (
            "an identified Group with mbox and account".to_owned(),
            set(group.clone(), "account", account(&cx)),
        ),
        (
            "an identified Group with mbox and openid".to_owned(),
            set(group.clone(), "openid", json!(cx.fx.iri("openid"))),
        ),
    ];
    for (what, member) in bad_members(&cx) {
        bad.push((
            format!("an identified Group with {what}"),
            set(group.clone(), "member", member),
        ));
    }
    let invalid = at_each(&cx, &Spot::ALL, bad);
    let mut good = identifiers(&cx)
        .into_iter()
        .map(|(ifi, value)| {
            let mut group = agent_by(ifi, value);
            group["objectType"] = json!("Group");
            (format!("an identified Group by {ifi}"), group)
        })
        .collect::<Vec<_>>();
    good.push((
        "an identified Group with two members".to_owned(),
        set(group, "member", json!([cx.fx.agent(), cx.fx.agent()])),
    ));
    let valid = at_each(&cx, &Spot::GROUP, good);
    judge(&cx, invalid, valid).await
}

async fn authority_agent_or_group(cx: Ctx) -> Verdict {
    let bad = [
        ("a string", json!(cx.fx.mbox())),
        ("an array", json!([cx.fx.agent()])),
        ("an Activity", cx.fx.activity()),
        (
            "an Agent without identifier",
            json!({ "objectType": "Agent", "name": "x" }),
        ),
        (
            "an Agent with two identifiers",
            set(cx.fx.agent(), "openid", json!(cx.fx.iri("openid"))),
        ),
        ("a Group without member", json!({ "objectType": "Group" })),
    ];
    let invalid = bad
        .into_iter()
        .map(|(what, authority)| {
            case(
                format!("authority {what}"),
                place(&cx, Spot::Authority, &authority),
            )
        })
        .collect();
    let valid = identifiers(&cx)
        .into_iter()
        .map(|(ifi, value)| {
            case(
                format!("authority an Agent by {ifi}"),
                place(&cx, Spot::Authority, &agent_by(ifi, value)),
            )
        })
        .collect();
    judge(&cx, invalid, valid).await
}

async fn authority_group_of_two(cx: Ctx) -> Verdict {
    let two = anonymous_group(&cx);
    let bad = [
        (
            "of one Agent",
            set(two.clone(), "member", json!([cx.fx.agent()])),
        ),
        (
            "of three Agents",
            set(
                two.clone(),
                "member",
                json!([cx.fx.agent(), cx.fx.agent(), cx.fx.agent()]),
            ),
        ),
        ("of no Agent", set(two.clone(), "member", json!([]))),
    ];
    let invalid = bad
        .into_iter()
        .map(|(what, group)| {
            case(
                format!("authority a Group {what}"),
                place(&cx, Spot::Authority, &group),
            )
        })
        .collect();
    let valid = vec![case(
        "authority an anonymous Group of two Agents",
        place(&cx, Spot::Authority, &two),
    )];
    judge(&cx, invalid, valid).await
}

// ---------------------------------------------------------------------------------------
// Verb and object

async fn verb_id_iri(cx: Ctx) -> Verdict {
    let display = json!({ "en-US": "did" });
    let mut invalid: Vec<Case> = [
        json!(""),
        json!("not an IRI"),
        json!(format!("{HOST}/verb")),
        json!("experienced"),
        json!(3),
    ]
    .into_iter()
    .map(|id| {
        case(
            format!("verb id {id}"),
            with(&cx, |s| s["verb"] = json!({ "id": id, "display": display })),
        )
    })
    .collect();
    invalid.push(case(
        "a verb with only display",
        with(&cx, |s| s["verb"] = json!({ "display": display })),
    ));
    invalid.push(case(
        "a SubStatement verb without a scheme",
        with_sub(&cx, |sub| {
            sub["verb"] = json!({ "id": format!("{HOST}/verb") })
        }),
    ));
    let valid = vec![
        case(
            "a verb without display",
            with(&cx, |s| s["verb"] = json!({ "id": cx.fx.iri("verb") })),
        ),
        case(
            "a verb with a urn id",
            with(
                &cx,
                |s| s["verb"] = json!({ "id": format!("urn:x-conformance:{}", cx.fx.uuid()) }),
            ),
        ),
    ];
    judge(&cx, invalid, valid).await
}

async fn verb_display_language_map(cx: Ctx) -> Verdict {
    let id = cx.fx.iri("verb");
    let invalid = [
        json!("experienced"),
        json!(["experienced"]),
        json!({ "en-US": 1 }),
        json!({ "en-US": { "text": "experienced" } }),
        json!({ "en-US": ["experienced"] }),
        json!({ "not a language tag": "experienced" }),
    ]
    .into_iter()
    .map(|display| {
        case(
            format!("display {display}"),
            with(&cx, |s| s["verb"] = json!({ "id": id, "display": display })),
        )
    })
    .collect();
    let valid = vec![case(
        "display in three languages",
        with(&cx, |s| {
            s["verb"] = json!({
                "id": id,
                "display": { "en-US": "experienced", "fr-FR": "a vécu", "zh-Hans-CN": "体验了" }
            })
        }),
    )];
    judge(&cx, invalid, valid).await
}

async fn object_type_values(cx: Ctx) -> Verdict {
    let invalid = ["Person", "Statement", "Verb", "", "Activities"]
        .into_iter()
        .map(|t| {
            case(
                format!("object objectType {t:?}"),
                with(&cx, |s| s["object"]["objectType"] = json!(t)),
            )
        })
        .chain([case(
            "object objectType 1",
            with(&cx, |s| s["object"]["objectType"] = json!(1)),
        )])
        .collect();
    let valid = vec![
        case(
            "an Activity with objectType \"Activity\"",
            cx.fx.statement(),
        ),
        case(
            "an Activity without objectType",
            with(&cx, |s| s["object"] = unset(cx.fx.activity(), "objectType")),
        ),
        case("an Agent object", place(&cx, Spot::Object, &cx.fx.agent())),
        case(
            "a Group object",
            place(&cx, Spot::Object, &anonymous_group(&cx)),
        ),
        case(
            "a StatementRef object",
            with(&cx, |s| {
                s["object"] = json!({ "objectType": "StatementRef", "id": cx.fx.uuid() })
            }),
        ),
        case("a SubStatement object", with_sub(&cx, |_| {})),
    ];
    judge(&cx, invalid, valid).await
}

async fn activity_id_iri(cx: Ctx) -> Verdict {
    let mut invalid: Vec<Case> = [
        json!(""),
        json!("not an IRI"),
        json!(format!("{HOST}/activity")),
        json!(cx.fx.uuid()),
        json!(5),
    ]
    .into_iter()
    .map(|id| {
        case(
            format!("activity id {id}"),
            with(&cx, |s| s["object"]["id"] = id),
        )
    })
    .collect();
    invalid.push(case(
        "an Activity without id",
        with(&cx, |s| s["object"] = unset(cx.fx.activity(), "id")),
    ));
    invalid.push(case(
        "a SubStatement Activity without a scheme",
        with_sub(&cx, |sub| {
            sub["object"]["id"] = json!(format!("{HOST}/activity"))
        }),
    ));
    let valid = vec![
        case("an http id", cx.fx.statement()),
        case(
            "a urn id",
            with(&cx, |s| {
                s["object"]["id"] = json!(format!("urn:x-conformance:{}", cx.fx.uuid()))
            }),
        ),
        case(
            "an Activity with only an id",
            with(&cx, |s| {
                s["object"] = json!({ "id": cx.fx.iri("activity") })
            }),
        ),
    ];
    judge(&cx, invalid, valid).await
}

async fn activity_definition_shape(cx: Ctx) -> Verdict {
    let bad: Vec<(&str, Value)> = vec![
        ("a string", json!("an activity")),
        ("an array", json!([{ "name": { "en-US": "x" } }])),
        ("a number", json!(1)),
    ];
    let mut invalid: Vec<Case> = bad
        .into_iter()
        .map(|(what, definition)| {
            case(
                format!("definition {what}"),
                with(&cx, |s| s["object"]["definition"] = definition),
            )
        })
        .collect();
    for key in ["name", "description"] {
        for value in [
            json!("x"),
            json!(["x"]),
            json!({ "en-US": 1 }),
            json!({ "not a language tag": "x" }),
        ] {
            invalid.push(case(
                format!("definition {key} {value}"),
                with_definition(&cx, key, value),
            ));
        }
    }
    for value in [json!("x"), json!([cx.fx.iri("extension")]), json!(3)] {
        invalid.push(case(
            format!("definition extensions {value}"),
            with_definition(&cx, "extensions", value),
        ));
    }
    let valid = vec![
        case(
            "a definition with only a name",
            with(&cx, |s| {
                s["object"]["definition"] = json!({ "name": { "en-US": "Named only" } })
            }),
        ),
        case(
            "a definition with every non-interaction property",
            with(&cx, |s| {
                s["object"]["definition"] = json!({
                    "name": { "en-US": "Conformance activity", "de-DE": "Konformität" },
                    "description": { "en-US": "Every definition property" },
                    "type": "http://adlnet.gov/expapi/activities/assessment",
                    "moreInfo": format!("http://{HOST}/more-info"),
                    "extensions": { cx.fx.iri("extension"): { "any": ["value", 1, null] } }
                })
            }),
        ),
    ];
    judge(&cx, invalid, valid).await
}

async fn activity_definition_iris(cx: Ctx) -> Verdict {
    let mut invalid = Vec::new();
    for key in ["type", "moreInfo"] {
        for value in [
            json!(""),
            json!("not an IRI"),
            json!("assessment"),
            json!(format!("{HOST}/{key}")),
            json!(4),
        ] {
            invalid.push(case(
                format!("definition {key} {value}"),
                with_definition(&cx, key, value),
            ));
        }
    }
    invalid.push(case(
        "a SubStatement Activity type without a scheme",
        with_sub(&cx, |sub| {
            sub["object"]["definition"]["type"] = json!("assessment")
        }),
    ));
    let valid = vec![
        case(
            "type and moreInfo http IRIs",
            with(&cx, |s| {
                s["object"]["definition"]["type"] = json!(cx.fx.iri("type"));
                s["object"]["definition"]["moreInfo"] = json!(format!("https://{HOST}/info?x=1#y"));
            }),
        ),
        case(
            "a urn type",
            with_definition(
                &cx,
                "type",
                json!(format!("urn:x-conformance:{}", cx.fx.uuid())),
            ),
        ),
    ];
    judge(&cx, invalid, valid).await
}

async fn object_agent_needs_object_type(cx: Ctx) -> Verdict {
    let agent = unset(cx.fx.agent(), "objectType");
    let group = unset(anonymous_group(&cx), "objectType");
    let identified = unset(identified_group(&cx), "objectType");
    let mut invalid = Vec::new();
    for (what, who) in [
        ("an Agent", &agent),
        ("an anonymous Group", &group),
        ("an identified Group", &identified),
    ] {
        invalid.push(case(
            format!("{what} without objectType as object"),
            place(&cx, Spot::Object, who),
        ));
        invalid.push(case(
            format!("{what} without objectType as SubStatement object"),
            place(&cx, Spot::SubObject, who),
        ));
    }
    let mut valid = Vec::new();
    for (what, who) in [
        ("an Agent", cx.fx.agent()),
        ("an anonymous Group", anonymous_group(&cx)),
        ("an identified Group", identified_group(&cx)),
    ] {
        valid.extend(at(
            &cx,
            &[Spot::Object, Spot::SubObject],
            &format!("{what} with objectType"),
            &who,
        ));
    }
    judge(&cx, invalid, valid).await
}

// ---------------------------------------------------------------------------------------
// Interactions

const INTERACTION: &str = "http://adlnet.gov/expapi/activities/cmi.interaction";

/// Interaction components with ids `<prefix>1` and `<prefix>2`.
fn components(prefix: &str) -> Value {
    json!([
        { "id": format!("{prefix}1"), "description": { "en-US": format!("{prefix} one") } },
        { "id": format!("{prefix}2"), "description": { "en-US": format!("{prefix} two") } }
    ])
}

/// A statement whose object is an interaction Activity with these definition properties.
fn interaction(cx: &Ctx, properties: Value) -> Value {
    let mut definition =
        json!({ "name": { "en-US": "Conformance question" }, "type": INTERACTION });
    if let (Some(target), Value::Object(extra)) = (definition.as_object_mut(), properties) {
        target.extend(extra);
    }
    with(cx, |s| s["object"]["definition"] = definition)
}

/// A valid definition of each of the ten interaction types.
fn interaction_examples() -> Vec<(&'static str, Value)> {
    vec![
        ("true-false", json!({ "correctResponsesPattern": ["true"] })),
        (
            "choice",
            json!({ "choices": components("c"), "correctResponsesPattern": ["c1[,]c2"] }),
        ),
        (
            "fill-in",
            json!({ "correctResponsesPattern": ["Bob's your uncle"] }),
        ),
        (
            "long-fill-in",
            json!({ "correctResponsesPattern": ["{case_matters=false}{lang=en}To store and provide access to learning experiences."] }),
        ),
        (
            "matching",
            json!({
                "source": components("s"),
                "target": components("t"),
                "correctResponsesPattern": ["s1[.]t2[,]s2[.]t1"]
            }),
        ),
        (
            "performance",
            json!({ "steps": components("p"), "correctResponsesPattern": ["p1[.]4[:]6[,]p2[.]a"] }),
        ),
        (
            "sequencing",
            json!({ "choices": components("q"), "correctResponsesPattern": ["q2[,]q1"] }),
        ),
        (
            "likert",
            json!({ "scale": components("l"), "correctResponsesPattern": ["l2"] }),
        ),
        ("numeric", json!({ "correctResponsesPattern": ["4[:]"] })),
        (
            "other",
            json!({ "correctResponsesPattern": ["(35.9,-86.8)"] }),
        ),
    ]
}

async fn interaction_type(cx: Ctx) -> Verdict {
    let mut invalid: Vec<Case> = [
        json!("multiple-choice"),
        json!("truefalse"),
        json!("Choice"),
        json!(""),
        json!(1),
        json!(["choice"]),
    ]
    .into_iter()
    .map(|t| {
        case(
            format!("interactionType {t}"),
            interaction(
                &cx,
                json!({ "interactionType": t, "correctResponsesPattern": ["a"] }),
            ),
        )
    })
    .collect();
    let without_type = [
        ("correctResponsesPattern", json!(["c1"])),
        ("choices", components("c")),
        ("scale", components("l")),
        ("source", components("s")),
        ("target", components("t")),
        ("steps", components("p")),
    ];
    for (key, value) in without_type {
        let mut properties = Map::new();
        properties.insert(key.to_owned(), value);
        invalid.push(case(
            format!("{key} without interactionType"),
            interaction(&cx, Value::Object(properties)),
        ));
    }
    let valid = interaction_examples()
        .into_iter()
        .map(|(t, properties)| {
            case(
                format!("a {t} interaction"),
                interaction(&cx, set(properties, "interactionType", json!(t))),
            )
        })
        .collect();
    judge(&cx, invalid, valid).await
}

async fn interaction_correct_responses_pattern(cx: Ctx) -> Verdict {
    let invalid = [
        json!("true"),
        json!({ "pattern": "true" }),
        json!([true]),
        json!([1]),
        json!([["true"]]),
        json!([{ "pattern": "true" }]),
    ]
    .into_iter()
    .map(|pattern| {
        case(
            format!("correctResponsesPattern {pattern}"),
            interaction(
                &cx,
                json!({ "interactionType": "fill-in", "correctResponsesPattern": pattern }),
            ),
        )
    })
    .collect();
    let valid = vec![
        case(
            "an empty correctResponsesPattern",
            interaction(
                &cx,
                json!({ "interactionType": "fill-in", "correctResponsesPattern": [] }),
            ),
        ),
        case(
            "two patterns",
            interaction(
                &cx,
                json!({ "interactionType": "fill-in", "correctResponsesPattern": ["yes", "oui"] }),
            ),
        ),
    ];
    judge(&cx, invalid, valid).await
}

async fn interaction_components(cx: Ctx) -> Verdict {
    let bad = [
        ("a string", json!("c1")),
        ("an object", json!({ "id": "c1" })),
        ("an array of strings", json!(["c1", "c2"])),
        (
            "a component without id",
            json!([{ "description": { "en-US": "x" } }]),
        ),
        ("a component with a numeric id", json!([{ "id": 1 }])),
        (
            "a component with a string description",
            json!([{ "id": "c1", "description": "x" }]),
        ),
        (
            "a component with a non-string description value",
            json!([{ "id": "c1", "description": { "en-US": 1 } }]),
        ),
        (
            "a component with an unknown property",
            json!([{ "id": "c1", "name": "x" }]),
        ),
    ];
    let lists = [
        ("choice", "choices"),
        ("sequencing", "choices"),
        ("likert", "scale"),
        ("matching", "source"),
        ("matching", "target"),
        ("performance", "steps"),
    ];
    let mut invalid = Vec::new();
    for (interaction_type, key) in lists {
        for (what, value) in &bad {
            let mut properties = Map::new();
            properties.insert("interactionType".to_owned(), json!(interaction_type));
            properties.insert(key.to_owned(), value.clone());
            invalid.push(case(
                format!("{interaction_type} {key} {what}"),
                interaction(&cx, Value::Object(properties)),
            ));
        }
    }
    let mut valid: Vec<Case> = interaction_examples()
        .into_iter()
        .filter(|(_, properties)| properties.as_object().is_some_and(|p| p.len() > 1))
        .map(|(t, properties)| {
            case(
                format!("a {t} interaction with its components"),
                interaction(&cx, set(properties, "interactionType", json!(t))),
            )
        })
        .collect();
    valid.push(case(
        "components without description",
        interaction(
            &cx,
            json!({ "interactionType": "choice", "choices": [{ "id": "a" }, { "id": "b" }] }),
        ),
    ));
    judge(&cx, invalid, valid).await
}

async fn interaction_components_fit_type(cx: Ctx) -> Verdict {
    let mismatched = [
        ("true-false", "choices", components("c")),
        ("fill-in", "scale", components("l")),
        ("choice", "steps", components("p")),
        ("numeric", "source", components("s")),
    ];
    let cases = mismatched
        .into_iter()
        .map(|(interaction_type, key, value)| {
            let mut properties = Map::new();
            properties.insert("interactionType".to_owned(), json!(interaction_type));
            properties.insert(key.to_owned(), value);
            case(
                format!("a {interaction_type} interaction with {key}"),
                interaction(&cx, Value::Object(properties)),
            )
        })
        .collect();
    judge_all(&cx, cases, Vec::new(), true).await
}

async fn interaction_patterns_unlimited(cx: Ctx) -> Verdict {
    let long = "x".repeat(20_000);
    let many: Vec<String> = (0..2_000).map(|i| format!("answer {i}")).collect();
    let valid = vec![
        case(
            "a 20 000-character response pattern",
            interaction(
                &cx,
                json!({ "interactionType": "fill-in", "correctResponsesPattern": [long] }),
            ),
        ),
        case(
            "2 000 response patterns",
            interaction(
                &cx,
                json!({ "interactionType": "fill-in", "correctResponsesPattern": many }),
            ),
        ),
        case(
            "a 20 000-character activity name",
            with(&cx, |s| {
                s["object"]["definition"]["name"] = json!({ "en-US": long })
            }),
        ),
    ];
    judge(&cx, Vec::new(), valid).await
}

// ---------------------------------------------------------------------------------------
// StatementRef and SubStatement

async fn statement_ref(cx: Ctx) -> Verdict {
    let uuid = cx.fx.uuid();
    let reference = json!({ "objectType": "StatementRef", "id": uuid });
    let bad = vec![
        ("without id", unset(reference.clone(), "id")),
        ("with id \"\"", set(reference.clone(), "id", json!(""))),
        (
            "with id not a UUID",
            set(reference.clone(), "id", json!("not-a-uuid")),
        ),
        (
            "with an unhyphenated id",
            set(reference.clone(), "id", json!(uuid.replace('-', ""))),
        ),
        ("with a numeric id", set(reference.clone(), "id", json!(1))),
        (
            "with an IRI id",
            set(reference.clone(), "id", json!(cx.fx.iri("statement"))),
        ),
        (
            "with a definition",
            set(
                reference.clone(),
                "definition",
                json!({ "name": { "en-US": "x" } }),
            ),
        ),
        (
            "with objectType \"Statement\"",
            set(reference.clone(), "objectType", json!("Statement")),
        ),
        (
            "without objectType (an Activity whose id is no IRI)",
            unset(reference.clone(), "objectType"),
        ),
    ];
    let mut invalid = Vec::new();
    for (what, value) in bad {
        invalid.push(case(
            format!("a StatementRef {what}"),
            with(&cx, |s| s["object"] = value.clone()),
        ));
        invalid.push(case(
            format!("a SubStatement's StatementRef {what}"),
            with_sub(&cx, |sub| sub["object"] = value),
        ));
    }
    let valid = vec![
        case(
            "a StatementRef to a statement the LRS does not have",
            with(&cx, |s| s["object"] = reference.clone()),
        ),
        case(
            "a SubStatement with a StatementRef object",
            with_sub(&cx, |sub| {
                sub["object"] = json!({ "objectType": "StatementRef", "id": cx.fx.uuid() })
            }),
        ),
    ];
    judge(&cx, invalid, valid).await
}

async fn substatement_structure(cx: Ctx) -> Verdict {
    let changes: Vec<(&str, Change)> = vec![
        (
            "without objectType",
            Box::new(|sub| sub["objectType"] = Value::Null),
        ),
        (
            "with objectType \"Substatement\"",
            Box::new(|sub| sub["objectType"] = json!("Substatement")),
        ),
        (
            "with objectType \"Statement\"",
            Box::new(|sub| sub["objectType"] = json!("Statement")),
        ),
        ("without actor", Box::new(|sub| sub["actor"] = Value::Null)),
        ("without verb", Box::new(|sub| sub["verb"] = Value::Null)),
        (
            "without object",
            Box::new(|sub| sub["object"] = Value::Null),
        ),
        (
            "whose actor has two identifiers",
            Box::new(|sub| sub["actor"]["openid"] = json!(format!("http://{HOST}/openid"))),
        ),
        (
            "whose verb has no id",
            Box::new(|sub| sub["verb"] = json!({ "display": { "en-US": "x" } })),
        ),
        (
            "whose activity id is no IRI",
            Box::new(|sub| sub["object"]["id"] = json!("not an IRI")),
        ),
        (
            "with an unknown property",
            Box::new(|sub| sub["comment"] = json!("x")),
        ),
    ];
    let invalid = changes
        .into_iter()
        .map(|(what, change)| {
            case(
                format!("a SubStatement {what}"),
                with_sub(&cx, |sub| {
                    change(sub);
                    // Removing by null then dropping keeps the tables above short.
                    if let Some(object) = sub.as_object_mut() {
                        object.retain(|_, v| !v.is_null());
                    }
                }),
            )
        })
        .collect();
    let valid = vec![
        case("a minimal SubStatement", with_sub(&cx, |_| {})),
        case(
            "a SubStatement with result, context and timestamp",
            with_sub(&cx, |sub| {
                sub["result"] = json!({ "success": true, "response": "yes" });
                sub["context"] = json!({ "registration": cx.fx.uuid(), "language": "en-US" });
                sub["timestamp"] = json!("2024-05-06T07:08:09.123Z");
            }),
        ),
        case(
            "a SubStatement whose actor is a Group",
            with_sub(&cx, |sub| sub["actor"] = anonymous_group(&cx)),
        ),
    ];
    judge(&cx, invalid, valid).await
}

async fn substatement_forbidden_properties(cx: Ctx) -> Verdict {
    let forbidden = [
        ("id", json!(cx.fx.uuid())),
        ("stored", json!("2024-05-06T07:08:09.123Z")),
        ("version", json!("1.0.0")),
        ("authority", cx.fx.agent()),
    ];
    let invalid = forbidden
        .into_iter()
        .map(|(key, value)| {
            case(
                format!("a SubStatement with {key}"),
                with_sub(&cx, |sub| sub[key] = value),
            )
        })
        .collect();
    let valid = vec![case("a SubStatement without them", with_sub(&cx, |_| {}))];
    judge(&cx, invalid, valid).await
}

async fn substatement_nested(cx: Ctx) -> Verdict {
    let inner = substatement(&cx);
    let invalid = vec![
        case(
            "a SubStatement whose object is a SubStatement",
            with_sub(&cx, |sub| sub["object"] = inner.clone()),
        ),
        case(
            "a SubStatement nested three deep",
            with_sub(&cx, |sub| {
                sub["object"] = set(inner.clone(), "object", inner)
            }),
        ),
    ];
    let valid = vec![case("a SubStatement of an Activity", with_sub(&cx, |_| {}))];
    judge(&cx, invalid, valid).await
}
