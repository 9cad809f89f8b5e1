//! Formatting of a statement's values: result and score, context, timestamps and durations,
//! language maps, IRIs, UUIDs, extensions, version and attachment objects, and the request
//! parameters that carry the same kinds of values — the invalid values an LRS must reject
//! and the valid ones it must accept. (`formatting` holds the actor, verb and object rules.)
//!
//! Most checks are tables: each case takes a fresh valid statement, sets (or removes) a few
//! properties, POSTs it and expects 200 (accept) or 400 (reject). A check runs its whole
//! table and reports every case the LRS answered wrongly, not only the first.

use serde_json::{json, Value};

use crate::check::{Area, Check, Ctx, Failure, Verdict};
use crate::checks::common;
use crate::client::{excerpt, Response};
use crate::fixtures::{EXPERIENCED, HOST};
use crate::{ensure, fail};

pub fn checks() -> Vec<Check> {
    let mut all = result_checks();
    all.extend(time_checks());
    all.extend(identifier_checks());
    all.extend(context_checks());
    all.extend(extension_and_language_checks());
    all.extend(attachment_checks());
    all.extend(parameter_checks());
    all
}

fn check<F, Fut>(id: &'static str, title: &'static str, run: F) -> Check
where
    F: Fn(Ctx) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Verdict> + Send + 'static,
{
    Check::new(Area::Formatting, id, title, run)
}

fn result_checks() -> Vec<Check> {
    vec![
        check(
            "formatting.result-property-types",
            "result and its score, success, completion, response and extensions have their JSON types",
            result_property_types,
        )
        .v1(&[
            "Data 2.2.s4.b1",
            "Data 2.2.s4.b1.b3",
            "Data 2.4.s1.table1.row5",
            "Data 2.4.5.s2.table1.row1",
            "Data 2.4.5.s2.table1.row2",
            "Data 2.4.5.s2.table1.row3",
            "Data 2.4.5.s2.table1.row4",
            "Data 2.4.5.s2.table1.row6",
        ])
        .v2(&[
            "4.2.1#1",
            "4.2.1#2",
            "4.2.1#8",
            "4.2.2#5",
            "4.2.2.4#1",
            "4.2.2.4#2",
            "4.2.2.4#3",
            "4.2.2.4#4",
            "4.2.2.4#6",
        ]),
        check(
            "formatting.score-scaled-range",
            "score.scaled is a number from -1 to 1 inclusive",
            score_scaled_range,
        )
        .v1(&["Data 2.4.5.1.s2.table1.row1"])
        .v2(&["4.2.2.4#7"]),
        check(
            "formatting.score-raw-within-min-max",
            "score.raw is a number within min and max (inclusive) when they are given",
            score_raw_within_min_max,
        )
        .v1(&["Data 2.4.5.1.s2.table1.row2"])
        .v2(&["4.2.2.4#8"]),
        check(
            "formatting.score-min-below-max",
            "score.min and score.max are numbers and min is below max",
            score_min_below_max,
        )
        .v1(&["Data 2.4.5.1.s2.table1.row3", "Data 2.4.5.1.s2.table1.row4"])
        .v2(&["4.2.2.4#9"]),
        check(
            "formatting.numbers-single-precision",
            "Score numbers come back with at least IEEE 754 single precision",
            numbers_single_precision,
        )
        .v1(&["Data 2.2.s4.b3"]),
        check(
            "formatting.null-values-rejected",
            "A null value in a result, context, timestamp, version or attachment property gets 400",
            null_values_rejected,
        )
        .v1(&["Data 2.2.s4.b1.b1"])
        .v2(&["4.2.1#7"]),
        check(
            "formatting.long-property-values",
            "A very long response or activity name is not refused for its size",
            long_property_values,
        )
        .v2(&["4.2.4.1#4"]),
    ]
}

fn time_checks() -> Vec<Check> {
    vec![
        check(
            "formatting.duration-iso8601",
            "result.duration is an ISO 8601 duration: valid forms accepted, malformed ones get 400",
            duration_iso8601,
        )
        .v1(&["Data 2.4.5.s2.table1.row5", "Data 4.6.s1.b1"])
        .v2(&["4.2.2.4#5", "4.2.7#10"]),
        check(
            "formatting.duration-alternative-format-rejected",
            "A duration in the ISO 8601 alternative (time-point) format gets 400",
            duration_alternative_format,
        )
        .v1(&["Data 4.6.s1.b1"])
        .v2(&["4.2.7#11"]),
        check(
            "formatting.duration-fine-precision-accepted",
            "A duration finer than 0.01 s is accepted",
            duration_fine_precision,
        )
        .v1(&["Data 4.6.s1.b4"])
        .v2(&["4.2.7#12"]),
        check(
            "formatting.timestamp-iso8601",
            "timestamp is an ISO 8601 date and time: RFC 3339 forms accepted, malformed ones get 400",
            timestamp_iso8601,
        )
        .v1(&["Data 2.4.s1.table1.row7", "Data 4.5.s1.b1"])
        .v2(&["4.2.2#7"]),
        check(
            "formatting.stored-iso8601",
            "A submitted stored value that is not an ISO 8601 timestamp gets 400",
            stored_iso8601,
        )
        .v2(&["4.2.2#8"]),
        check(
            "formatting.substatement-future-timestamp",
            "A SubStatement with a timestamp in the future is accepted",
            substatement_future_timestamp,
        )
        .v1(&["Data 2.4.7.s3.b5"]),
        check(
            "formatting.version-values",
            "version: the audited line's versions are accepted, others and malformed ones get 400",
            version_values,
        )
        .v1(&[
            "Data 2.4.s1.table1.row10",
            "Data 2.4.10.s2.b1",
            "Data 2.4.10.s3.b1",
            "Data 2.4.10.s3.b2",
        ])
        .v2(&["4.2.2#10"]),
    ]
}

fn identifier_checks() -> Vec<Check> {
    vec![
        check(
            "formatting.uuid-standard-form",
            "Statement ids, registrations and statement references are UUIDs in the hyphenated form, either case",
            uuid_standard_form,
        )
        .v1(&[
            "Data 2.2.s4.b1.b4",
            "Data 2.4.s1.table1.row1",
            "Data 2.4.1.s1",
            "Data 2.4.6.s3.table1.row1",
            "Data 4.4",
        ])
        .v2(&["4.2.1#9", "4.2.2#1", "4.2.2.5#1", "4.2.7#6"]),
        check(
            "formatting.iri-scheme-required",
            "IRI and IRL values without a scheme, or empty, get 400 wherever they appear",
            iri_scheme_required,
        )
        .v1(&["Data 2.2.s4.b1.b4", "Data 2.2.s4.b1.b8"])
        .v2(&["4.2.1#4", "4.2.1#9", "4.2.1#13"]),
        check(
            "formatting.iri-simple-comparison",
            "IRIs are compared as strings: no case folding of paths, no scheme-based normalization",
            iri_simple_comparison,
        )
        .v1(&["Data 2.2.s4.b5", "Data 3.1.s2.b1", "Data 3.1.s2.b2"])
        .v2(&["4.2.7#1"]),
    ]
}

fn context_checks() -> Vec<Check> {
    vec![
        check(
            "formatting.context-is-object",
            "context, when given, is a JSON object",
            context_is_object,
        )
        .v1(&["Data 2.4.s1.table1.row6"])
        .v2(&["4.2.2#6"]),
        check(
            "formatting.context-instructor-team",
            "context.instructor is an Agent or Group and context.team a Group",
            context_instructor_team,
        )
        .v1(&["Data 2.4.6.s3.table1.row2", "Data 2.4.6.s3.table1.row3"])
        .v2(&["4.2.2.5#2", "4.2.2.5#3"]),
        check(
            "formatting.context-activities-form",
            "contextActivities has only parent, grouping, category and other, each an Activity or an array of them",
            context_activities_form,
        )
        .v1(&[
            "Data 2.4.6.s3.table1.row4",
            "Data 2.4.6.2.s4.b1",
            "Data 2.4.6.2.s4.b2",
        ])
        .v2(&["4.2.2.5#4", "4.2.2.5#5"]),
        check(
            "formatting.context-activities-any-combination",
            "Any combination of the four context types, or none, is accepted",
            context_activities_any_combination,
        )
        .v1(&["Data 2.4.6.2.s3"]),
        check(
            "formatting.context-revision-platform-strings",
            "context.revision and context.platform are strings",
            context_revision_platform_strings,
        )
        .v1(&["Data 2.4.6.s3.table1.row5", "Data 2.4.6.s3.table1.row6"])
        .v2(&["4.2.2.5#8", "4.2.2.5#9"]),
        check(
            "formatting.context-revision-platform-activity-only",
            "context.revision or context.platform on a statement whose object is not an Activity gets 400",
            context_revision_platform_activity_only,
        )
        .v1(&["Data 2.4.6.s4.b1", "Data 2.4.6.s4.b2"]),
        check(
            "formatting.context-language-tag",
            "context.language is an RFC 5646 language tag",
            context_language_tag,
        )
        .v1(&["Data 2.4.6.s3.table1.row7"])
        .v2(&["4.2.2.5#10"]),
        check(
            "formatting.context-statement-ref",
            "context.statement is a Statement Reference",
            context_statement_ref,
        )
        .v1(&["Data 2.4.6.s3.table1.row8", "Data 2.2.s4.b1.b6"])
        .v2(&["4.2.2.5#11"]),
        check(
            "formatting.context-agents",
            "contextAgents is an array of contextAgent objects with a valid agent and non-empty IRI relevantTypes",
            context_agents,
        )
        .v2(&["4.2.2.5#6", "4.2.2.5#13", "4.2.1#11"]),
        check(
            "formatting.context-groups",
            "contextGroups is an array of contextGroup objects with a valid group and non-empty IRI relevantTypes",
            context_groups,
        )
        .v2(&["4.2.2.5#7", "4.2.2.5#14"]),
        check(
            "formatting.context-agents-not-in-1.0.3",
            "contextAgents and contextGroups, unknown to 1.0.3, get 400 in a 1.0.3 statement",
            context_agents_not_in_v1,
        )
        .v1(&["Data 2.2.s4.b1.b7", "Data 2.2.s4.b8"]),
    ]
}

fn extension_and_language_checks() -> Vec<Check> {
    vec![
        check(
            "formatting.extensions-are-objects",
            "result and context extensions are JSON objects",
            extensions_are_objects,
        )
        .v1(&["Data 2.4.5.s2.table1.row6", "Data 2.4.6.s3.table1.row9"])
        .v2(&["4.2.2.4#6", "4.2.2.5#12"]),
        check(
            "formatting.extension-keys-iris",
            "Extension keys that are not absolute IRIs get 400; IRI keys, non-ASCII ones included, are accepted",
            extension_keys_iris,
        )
        .v1(&["Data 4.1.s3.b1"])
        .v2(&["4.2.7#2"]),
        check(
            "formatting.extension-values-unrestricted",
            "Any JSON value under an extension key, null and empty ones included, is accepted",
            extension_values_unrestricted,
        )
        .v1(&["Data 4.1.s3.b2"])
        .v2(&["4.2.7#3"]),
        check(
            "formatting.language-map-keys",
            "Language map keys that are not RFC 5646 tags get 400; well-formed tags are accepted",
            language_map_keys,
        )
        .v1(&["Data 2.2.s4.b2"])
        .v2(&["4.2.7#4", "4.2.7#5"]),
        check(
            "formatting.language-map-values",
            "A language map is an object of strings; other shapes get 400",
            language_map_values,
        )
        .v1(&["Data 2.2.s4.b1.b3"])
        .v2(&["4.2.1#8"]),
    ]
}

fn attachment_checks() -> Vec<Check> {
    vec![
        check(
            "formatting.attachments-array",
            "attachments is an array of Attachment objects",
            attachments_array,
        )
        .v1(&["Data 2.4.s1.table1.row11"])
        .v2(&["4.2.2#11"]),
        check(
            "formatting.attachment-usage-type",
            "An attachment requires usageType, an IRI",
            attachment_usage_type,
        )
        .v1(&["Data 2.4.11.s2.table1.row1"])
        .v2(&["4.2.2.6#1", "4.2.1#6"]),
        check(
            "formatting.attachment-display-description",
            "An attachment requires display, a language map; description, when given, is one too",
            attachment_display_description,
        )
        .v1(&["Data 2.4.11.s2.table1.row2", "Data 2.4.11.s2.table1.row3"])
        .v2(&["4.2.2.6#2", "4.2.2.6#3"]),
        check(
            "formatting.attachment-content-type",
            "An attachment requires contentType, an Internet media type",
            attachment_content_type,
        )
        .v1(&["Data 2.4.11.s2.table1.row4"])
        .v2(&["4.2.2.6#4"]),
        check(
            "formatting.attachment-length",
            "An attachment requires length, an integer number of octets",
            attachment_length,
        )
        .v1(&["Data 2.4.11.s2.table1.row5"])
        .v2(&["4.2.2.6#5"]),
        check(
            "formatting.attachment-sha2",
            "An attachment requires sha2, a string, even when it has a fileUrl",
            attachment_sha2,
        )
        .v1(&["Data 2.4.11.s2.table1.row6"])
        .v2(&["4.2.2.6#6"]),
        check(
            "formatting.attachment-file-url",
            "An attachment's fileUrl, when given, is an absolute IRL",
            attachment_file_url,
        )
        .v1(&["Data 2.4.11.s2.table1.row7"])
        .v2(&["4.2.2.6#7"]),
    ]
}

fn parameter_checks() -> Vec<Check> {
    vec![
        check(
            "formatting.parameter-formats",
            "UUID, timestamp, IRI and Agent parameters are validated like statement values",
            parameter_formats,
        )
        .v1(&["Data 2.2.s4.b4"])
        .v2(&["4.1.6#8", "4.1.6#12"]),
        check(
            "formatting.parameter-types",
            "Integer and boolean parameters of another type, quoted ones included, get 400",
            parameter_types,
        )
        .v1(&["Data 2.2.s4.b4"])
        .v2(&["4.1.6#7"]),
        check(
            "formatting.parameter-enumerations",
            "An enumerated parameter value that does not match exactly, case included, gets 400",
            parameter_enumerations,
        )
        .v2(&["4.1.6#10"]),
        check(
            "formatting.parameter-null",
            "A null parameter value, or a null inside a JSON parameter, gets 400",
            parameter_null,
        )
        .v2(&["4.1.6#6"]),
        check(
            "formatting.parameter-key-case",
            "Parameter names, and keys inside JSON parameters, in the wrong letter case get 400",
            parameter_key_case,
        )
        .v2(&["4.1.6#9"]),
        check(
            "formatting.parameter-unknown",
            "A parameter the resource does not define gets 400",
            parameter_unknown,
        )
        .v2(&["4.1.6#11"]),
        check(
            "formatting.parameter-required",
            "A request missing a required parameter gets 400",
            parameter_required,
        )
        .v2(&["4.1.6#5"]),
    ]
}

// ---------------------------------------------------------------------------------------
// Statement tables
// ---------------------------------------------------------------------------------------

/// What the LRS must answer to a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Accept,
    Reject,
}

/// One change to the fresh statement of a case, at a JSON pointer.
#[derive(Clone, Debug)]
enum Op {
    Set(&'static str, Value),
    Remove(&'static str),
}

/// One statement to POST: a fresh valid statement changed by `ops`, applied inside a
/// SubStatement (the statement's object) when `in_substatement`.
#[derive(Clone, Debug)]
struct Case {
    expect: Expect,
    in_substatement: bool,
    ops: Vec<Op>,
}

fn case(expect: Expect, pointer: &'static str, value: Value) -> Case {
    Case {
        expect,
        in_substatement: false,
        ops: vec![Op::Set(pointer, value)],
    }
}

fn accept(pointer: &'static str, value: Value) -> Case {
    case(Expect::Accept, pointer, value)
}

fn reject(pointer: &'static str, value: Value) -> Case {
    case(Expect::Reject, pointer, value)
}

impl Case {
    /// Also sets `pointer` to `value`.
    fn and(mut self, pointer: &'static str, value: Value) -> Self {
        self.ops.push(Op::Set(pointer, value));
        self
    }

    /// Also removes the property at `pointer`.
    fn without(mut self, pointer: &'static str) -> Self {
        self.ops.push(Op::Remove(pointer));
        self
    }

    fn in_substatement(mut self) -> Self {
        self.in_substatement = true;
        self
    }

    fn describe(&self) -> String {
        let prefix = if self.in_substatement { "/object" } else { "" };
        self.ops
            .iter()
            .map(|op| match op {
                Op::Set(pointer, value) => {
                    format!("{prefix}{pointer} = {}", excerpt(&value.to_string(), 90))
                }
                Op::Remove(pointer) => format!("without {prefix}{pointer}"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn statement(&self, cx: &Ctx) -> Result<Value, Failure> {
        let mut statement = cx.fx.statement();
        let prefix = if self.in_substatement {
            statement["object"] = substatement(cx);
            "/object"
        } else {
            ""
        };
        for op in &self.ops {
            match op {
                Op::Set(pointer, value) => {
                    set(&mut statement, &format!("{prefix}{pointer}"), value.clone())?
                }
                Op::Remove(pointer) => remove(&mut statement, &format!("{prefix}{pointer}"))?,
            }
        }
        Ok(statement)
    }
}

/// Every case as given, then each again inside a SubStatement, which the LRS must validate
/// like a statement.
fn with_substatement(cases: Vec<Case>) -> Vec<Case> {
    let nested: Vec<Case> = cases.iter().cloned().map(Case::in_substatement).collect();
    cases.into_iter().chain(nested).collect()
}

/// A valid SubStatement: a fresh Agent experienced a fresh Activity.
fn substatement(cx: &Ctx) -> Value {
    json!({
        "objectType": "SubStatement",
        "actor": cx.fx.agent(),
        "verb": { "id": EXPERIENCED, "display": { "en-US": "experienced" } },
        "object": cx.fx.activity()
    })
}

/// Sets the value at a JSON pointer, creating missing objects on the way.
fn set(target: &mut Value, pointer: &str, value: Value) -> Result<(), Failure> {
    let (parent, last) = parent_of(target, pointer, true)?;
    match parent {
        Value::Object(map) => {
            map.insert(last, value);
        }
        Value::Array(items) => match last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
            Some(slot) => *slot = value,
            None => fail!("check bug: no array element at {pointer}"),
        },
        _ => fail!("check bug: {pointer} does not lead into an object or array"),
    }
    Ok(())
}

/// Removes the property at a JSON pointer.
fn remove(target: &mut Value, pointer: &str) -> Result<(), Failure> {
    let (parent, last) = parent_of(target, pointer, false)?;
    match parent {
        Value::Object(map) => {
            ensure!(
                map.shift_remove(&last).is_some(),
                "check bug: nothing to remove at {pointer}"
            );
            Ok(())
        }
        _ => fail!("check bug: {pointer} does not name an object property"),
    }
}

/// The value holding the last segment of `pointer`, and that segment.
fn parent_of<'a>(
    target: &'a mut Value,
    pointer: &str,
    create: bool,
) -> Result<(&'a mut Value, String), Failure> {
    let mut segments: Vec<&str> = pointer.split('/').skip(1).collect();
    let Some(last) = segments.pop() else {
        fail!("check bug: `{pointer}` is not a JSON pointer");
    };
    let mut here = target;
    for segment in segments {
        here = match here {
            Value::Object(map) => {
                if create && !map.contains_key(segment) {
                    map.insert(segment.to_owned(), json!({}));
                }
                match map.get_mut(segment) {
                    Some(next) => next,
                    None => fail!("check bug: nothing at {segment} of {pointer}"),
                }
            }
            Value::Array(items) => {
                match segment.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                    Some(next) => next,
                    None => fail!("check bug: no array element {segment} of {pointer}"),
                }
            }
            _ => fail!("check bug: {pointer} runs into a scalar at {segment}"),
        };
    }
    Ok((here, last.to_owned()))
}

/// A short excerpt of an answer's body, for failure messages about unexpected statuses.
fn answer(response: &Response) -> String {
    if response.body.is_empty() {
        String::new()
    } else {
        format!(" ({})", excerpt(&response.text(), 160))
    }
}

/// POSTs every case and fails listing each one the LRS answered wrongly.
async fn post_cases(cx: &Ctx, cases: Vec<Case>) -> Verdict {
    let mut wrong = Vec::new();
    for case in &cases {
        let statement = case.statement(cx)?;
        let response = cx.post("statements").json(&statement).send().await?;
        let (right, wanted) = match case.expect {
            Expect::Accept => (response.status == 200, "200 (accepted)"),
            Expect::Reject => (response.status == 400, "400 (rejected)"),
        };
        if !right {
            let body = if response.status == 200 {
                String::new()
            } else {
                answer(&response)
            };
            wrong.push(format!(
                "{}: expected {wanted}, got {}{body}",
                case.describe(),
                response.status
            ));
        }
    }
    verdict(wrong, cases.len(), "statements")
}

fn verdict(wrong: Vec<String>, total: usize, what: &str) -> Verdict {
    if wrong.is_empty() {
        return Ok(());
    }
    fail!(
        "{} of {total} {what} answered wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    )
}

// ---------------------------------------------------------------------------------------
// Result and score
// ---------------------------------------------------------------------------------------

async fn result_property_types(cx: Ctx) -> Verdict {
    let extension = cx.fx.iri("extension");
    let cases = vec![
        accept(
            "/result",
            json!({
                "score": { "scaled": 0.5, "raw": 50, "min": 0, "max": 100 },
                "success": true,
                "completion": false,
                "response": "an answer",
                "duration": "PT1M",
                "extensions": { extension: 1 }
            }),
        ),
        accept("/result", json!({})),
        accept(
            "/result",
            json!({ "success": false, "completion": true, "response": "" }),
        ),
        reject("/result", json!("passed")),
        reject("/result", json!([{ "success": true }])),
        reject("/result/score", json!(5)),
        reject("/result/score", json!("0.5")),
        reject("/result/score", json!([0.5])),
        reject("/result/success", json!("true")),
        reject("/result/success", json!(1)),
        reject("/result/completion", json!("false")),
        reject("/result/completion", json!(0)),
        reject("/result/response", json!(42)),
        reject("/result/response", json!({ "en-US": "an answer" })),
        reject("/result/response", json!(true)),
        reject("/result/extensions", json!("extension")),
        reject("/result/score/raw", json!("50")),
    ];
    post_cases(&cx, with_substatement(cases)).await
}

async fn score_scaled_range(cx: Ctx) -> Verdict {
    let mut cases: Vec<Case> = [-1.0, -0.25, 0.0, 0.6767676, 1.0]
        .into_iter()
        .map(|v| accept("/result/score/scaled", json!(v)))
        .collect();
    cases.push(accept("/result/score/scaled", json!(1)));
    cases.extend(
        [1.01, -1.00001, 2.0, -5.0, 100.0]
            .into_iter()
            .map(|v| reject("/result/score/scaled", json!(v))),
    );
    cases.push(reject("/result/score/scaled", json!("0.5")));
    post_cases(&cx, with_substatement(cases)).await
}

async fn score_raw_within_min_max(cx: Ctx) -> Verdict {
    let score = |value: Value| accept("/result/score", value);
    let bad = |value: Value| reject("/result/score", value);
    let cases = vec![
        score(json!({ "raw": 0, "min": 0, "max": 10 })),
        score(json!({ "raw": 10, "min": 0, "max": 10 })),
        score(json!({ "raw": 5.5, "min": 0, "max": 10 })),
        score(json!({ "raw": -3.25, "min": -5, "max": -1 })),
        score(json!({ "raw": 1_000_000 })),
        score(json!({ "raw": -42.5 })),
        score(json!({ "raw": 7, "max": 7 })),
        score(json!({ "raw": 7, "min": 7 })),
        bad(json!({ "raw": 11, "min": 0, "max": 10 })),
        bad(json!({ "raw": -1, "min": 0, "max": 10 })),
        bad(json!({ "raw": 10.001, "max": 10 })),
        bad(json!({ "raw": 0.999, "min": 1 })),
        bad(json!({ "raw": 101.6767676, "min": 0, "max": 100.6767676 })),
    ];
    post_cases(&cx, with_substatement(cases)).await
}

async fn score_min_below_max(cx: Ctx) -> Verdict {
    let score = |value: Value| accept("/result/score", value);
    let bad = |value: Value| reject("/result/score", value);
    let cases = vec![
        score(json!({ "min": 0, "max": 100 })),
        score(json!({ "min": -10.5, "max": -10.25 })),
        score(json!({ "min": 3 })),
        score(json!({ "max": 3 })),
        bad(json!({ "min": 100, "max": 0 })),
        bad(json!({ "min": 5, "max": 5 })),
        bad(json!({ "min": 104.6767676, "max": 100.6767676, "raw": 101.6767676 })),
        bad(json!({ "min": "0", "max": 100 })),
        bad(json!({ "min": 0, "max": "100" })),
        bad(json!({ "min": 0, "max": true })),
    ];
    post_cases(&cx, with_substatement(cases)).await
}

async fn numbers_single_precision(cx: Ctx) -> Verdict {
    let sent = json!({ "scaled": 0.1234567, "raw": 12345.67, "min": -98765.43, "max": 98765.43 });
    let mut statement = cx.fx.statement();
    statement["result"] = json!({ "score": sent });
    let id = common::post_statement(&cx, &statement).await?;
    let got = common::get_statement(&cx, &id).await?;
    // Single precision keeps a relative error within 2^-24; allow 2^-23.
    let tolerance = f64::from(f32::EPSILON);
    for key in ["scaled", "raw", "min", "max"] {
        let expected = sent[key].as_f64().unwrap_or_default();
        let Some(returned) = got["result"]["score"][key].as_f64() else {
            fail!(
                "result.score.{key}: sent {expected}, got {}",
                got["result"]["score"][key]
            );
        };
        if (returned - expected).abs() > expected.abs() * tolerance {
            fail!(
                "result.score.{key}: sent {expected}, got {returned}, off by more than single precision allows"
            );
        }
    }
    Ok(())
}

async fn null_values_rejected(cx: Ctx) -> Verdict {
    let attachment = attachment(&cx);
    let cases = vec![
        reject("/result/success", Value::Null),
        reject("/result/score/raw", Value::Null),
        reject("/result/score", Value::Null),
        reject("/result/duration", Value::Null),
        reject("/result/response", Value::Null),
        reject("/context/registration", Value::Null),
        reject("/context/language", Value::Null),
        reject("/context/revision", Value::Null),
        reject("/context/contextActivities/parent", Value::Null),
        reject("/context/extensions", Value::Null),
        reject("/timestamp", Value::Null),
        reject("/version", Value::Null),
        reject("/attachments", Value::Null),
        reject("/attachments", json!([attachment])).and("/attachments/0/length", Value::Null),
        reject("/attachments", json!([attachment])).and("/attachments/0/fileUrl", Value::Null),
    ];
    post_cases(&cx, cases).await
}

async fn long_property_values(cx: Ctx) -> Verdict {
    let long: String = "0123456789abcdef".repeat(4096);
    let cases = vec![
        accept("/result/response", json!(long)),
        accept("/object/definition/name", json!({ "en-US": long })),
    ];
    post_cases(&cx, cases).await
}

// ---------------------------------------------------------------------------------------
// Durations, timestamps, version
// ---------------------------------------------------------------------------------------

async fn duration_iso8601(cx: Ctx) -> Verdict {
    let mut cases: Vec<Case> = [
        "PT1H0M0.1S",
        "PT4H35M59.14S",
        "P3Y1M29DT4H35M59.14S",
        "P3Y",
        "P4W",
        "PT16559.14S",
        "P1D",
        "PT0S",
        "P0D",
        "P1Y2M",
        "PT36H",
    ]
    .into_iter()
    .map(|d| accept("/result/duration", json!(d)))
    .collect();
    cases.extend(
        [
            "should fail",
            "PA1H0M0S",
            "P4W1D",
            "",
            "P",
            "PT",
            "P1H",
            "1H30M",
            "PT1H30",
            "-PT1H",
            "pt1h",
            "P1DT",
            "PT1S1M",
        ]
        .into_iter()
        .map(|d| reject("/result/duration", json!(d))),
    );
    cases.push(reject("/result/duration", json!(12345)));
    cases.push(reject("/result/duration", json!({ "hours": 1 })));
    post_cases(&cx, with_substatement(cases)).await
}

async fn duration_alternative_format(cx: Ctx) -> Verdict {
    let cases = [
        "P0003-01-29T04:35:59",
        "P0000-00-00T01:30:00",
        "P00030129T043559",
    ]
    .into_iter()
    .map(|d| reject("/result/duration", json!(d)))
    .collect();
    post_cases(&cx, cases).await
}

async fn duration_fine_precision(cx: Ctx) -> Verdict {
    let cases = ["PT1.12567S", "P1DT12H36M0.12567S", "PT0.001S"]
        .into_iter()
        .map(|d| accept("/result/duration", json!(d)))
        .collect();
    post_cases(&cx, cases).await
}

/// Timestamps every LRS must take: RFC 3339, the profile of ISO 8601 the specification
/// recommends, with a UTC designator or an offset and any sub-second precision.
const VALID_TIMESTAMPS: [&str; 8] = [
    "2008-09-15T15:53:00.601Z",
    "2008-09-15T15:53:00Z",
    "2008-09-15T15:53:00.601+00:00",
    "2008-09-15T15:53:00+05:30",
    "2008-09-15T10:53:00.5-05:00",
    "2008-09-15T15:53:00.123456789Z",
    "2016-02-29T23:59:59.999Z",
    "1999-12-31T23:59:59+14:00",
];

/// Not ISO 8601 date-times: free text, other date notations, out-of-range fields, a date
/// without a time, and the -00 / -0000 / -00:00 offsets (a negative zero offset, which
/// ISO 8601 does not allow).
const INVALID_TIMESTAMPS: [&str; 12] = [
    "should fail",
    "01/011/2015",
    "",
    "2008-09-15",
    "2008-13-15T15:53:00Z",
    "2008-09-31T15:53:00Z",
    "2008-09-15T25:53:00Z",
    "2008-09-15T15:61:00Z",
    "2008-09-15T15:53:00.601-00",
    "2008-09-15T15:53:00.601-0000",
    "2008-09-15T15:53:00.601-00:00",
    "15:53:00Z",
];

async fn timestamp_iso8601(cx: Ctx) -> Verdict {
    let mut cases: Vec<Case> = VALID_TIMESTAMPS
        .into_iter()
        .map(|t| accept("/timestamp", json!(t)))
        .collect();
    cases.extend(
        INVALID_TIMESTAMPS
            .into_iter()
            .map(|t| reject("/timestamp", json!(t))),
    );
    cases.push(reject("/timestamp", json!(1_221_494_000)));
    post_cases(&cx, with_substatement(cases)).await
}

async fn stored_iso8601(cx: Ctx) -> Verdict {
    let mut cases = vec![accept("/stored", json!("2008-09-15T15:53:00.601Z"))];
    cases.extend(
        [
            "should fail",
            "2008-09-15",
            "2008-09-15T15:53:00.601-00:00",
            "",
        ]
        .into_iter()
        .map(|t| reject("/stored", json!(t))),
    );
    cases.push(reject("/stored", json!(1_221_494_000)));
    post_cases(&cx, cases).await
}

async fn substatement_future_timestamp(cx: Ctx) -> Verdict {
    let next_year = chrono::Utc::now() + chrono::Duration::days(365);
    let timestamp = next_year.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    post_cases(
        &cx,
        vec![accept("/timestamp", json!(timestamp)).in_substatement()],
    )
    .await
}

async fn version_values(cx: Ctx) -> Verdict {
    let (valid, invalid): (&[&str], &[&str]) = if cx.is_v1() {
        // 1.0.3: every 1.0.x is accepted, everything else refused.
        (
            &["1.0.0", "1.0.3", "1.0.9"],
            &[
                "1.1.0",
                "0.9.9",
                "0.95",
                "2.0.0",
                "should fail",
                "",
                "1.0.x",
            ],
        )
    } else {
        // 2.0: a semantic version string; the 1.0.x statements it may hold stay valid.
        (
            &["2.0.0", "1.0.0", "1.0.3"],
            &["should fail", "", "v2.0.0", "2.0.0.0", "2.0.x"],
        )
    };
    let mut cases: Vec<Case> = valid.iter().map(|v| accept("/version", json!(v))).collect();
    cases.extend(invalid.iter().map(|v| reject("/version", json!(v))));
    cases.push(reject("/version", json!(1.0)));
    cases.push(reject("/version", json!(["1.0.0"])));
    post_cases(&cx, cases).await
}

// ---------------------------------------------------------------------------------------
// UUIDs and IRIs
// ---------------------------------------------------------------------------------------

/// Strings that are not UUIDs in the standard 8-4-4-4-12 hyphenated hex form.
const INVALID_UUIDS: [&str; 9] = [
    "AA97B177-9383-4934-8543-0F91A7A028368",
    "MA97B177-9383-4934-8543-0F91A7A02836",
    "aa97b177-9383-4934-8543-0f91a7a0283",
    "aa97b1779383493485430f91a7a02836",
    "{aa97b177-9383-4934-8543-0f91a7a02836}",
    "urn:uuid:aa97b177-9383-4934-8543-0f91a7a02836",
    "aa97b177-93834-934-8543-0f91a7a02836",
    "aa97b177 9383 4934 8543 0f91a7a02836",
    "",
];

async fn uuid_standard_form(cx: Ctx) -> Verdict {
    let statement_ref = |id: Value| json!({ "objectType": "StatementRef", "id": id });
    let mut cases = vec![
        accept("/id", json!(cx.fx.uuid().to_uppercase())),
        accept("/id", json!(cx.fx.uuid())),
        accept("/context/registration", json!(cx.fx.uuid().to_uppercase())),
        accept("/context/registration", json!(cx.fx.uuid())),
        accept("/context/statement", statement_ref(json!(cx.fx.uuid()))),
        accept("/object", statement_ref(json!(cx.fx.uuid().to_uppercase()))),
    ];
    let mut invalid: Vec<Value> = INVALID_UUIDS.iter().map(|u| json!(u)).collect();
    invalid.push(json!(12345));
    invalid.push(json!({ "id": "aa97b177-9383-4934-8543-0f91a7a02836" }));
    for value in invalid {
        cases.push(reject("/id", value.clone()));
        cases.push(reject("/context/registration", value.clone()));
        cases.push(reject("/context/statement", statement_ref(value.clone())));
        cases.push(reject("/object", statement_ref(value)));
    }
    post_cases(&cx, cases).await
}

async fn iri_scheme_required(cx: Ctx) -> Verdict {
    let activity = |id: &str| json!({ "objectType": "Activity", "id": id });
    let mut cases = vec![
        accept(
            "/object/id",
            json!(format!("urn:conformance:{}", cx.fx.uuid())),
        ),
        accept("/object/definition/type", json!("urn:conformance:type")),
        accept(
            "/object/definition/moreInfo",
            json!(format!("https://{HOST}/more?info=1#top")),
        ),
        accept(
            "/context/contextActivities/parent",
            json!([activity(&cx.fx.iri("parent"))]),
        ),
    ];
    for bad in [
        "example.com/activity",
        "activity",
        "//example.com/activity",
        "",
    ] {
        cases.push(reject("/object/id", json!(bad)));
        cases.push(reject("/verb/id", json!(bad)));
        cases.push(reject("/object/definition/type", json!(bad)));
        cases.push(reject("/object/definition/moreInfo", json!(bad)));
        cases.push(reject(
            "/context/contextActivities/parent",
            json!([activity(bad)]),
        ));
        cases.push(reject(
            "/actor",
            json!({ "account": { "homePage": bad, "name": "learner" } }),
        ));
    }
    post_cases(&cx, cases).await
}

async fn iri_simple_comparison(cx: Ctx) -> Verdict {
    let base = cx.fx.iri("activity");
    // Each pair: the IRI stored, and one that only a forbidden normalization (case folding
    // of a path, dropping the scheme's default port) would equate with it.
    let pairs = [
        (format!("{base}/Path/Upper"), format!("{base}/path/upper")),
        (
            base.replacen(HOST, &format!("{HOST}:80"), 1) + "/port",
            format!("{base}/port"),
        ),
    ];
    for (stored, other) in &pairs {
        let mut statement = cx.fx.statement();
        statement["object"] = json!({ "objectType": "Activity", "id": stored });
        let id = common::post_statement(&cx, &statement).await?;
        let got = common::get_statement(&cx, &id).await?;
        ensure!(
            got["object"]["id"] == json!(stored),
            "the activity id was stored as {} instead of {stored}: only simple string comparison \
             or syntax-based normalization may apply",
            got["object"]["id"]
        );
        let exact = common::ids_of(&common::query(&cx, &[("activity", stored)]).await?);
        ensure!(
            exact.contains(&id),
            "GET /statements?activity={stored} did not find statement {id} about that activity"
        );
        let similar = common::ids_of(&common::query(&cx, &[("activity", other)]).await?);
        ensure!(
            !similar.contains(&id),
            "GET /statements?activity={other} found statement {id}, whose activity is {stored}: \
             IRIs must not be equated beyond simple string comparison and syntax-based normalization"
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Context
// ---------------------------------------------------------------------------------------

async fn context_is_object(cx: Ctx) -> Verdict {
    let cases = vec![
        accept("/context", json!({})),
        accept("/context", json!({ "registration": cx.fx.uuid() })),
        reject("/context", json!("context")),
        reject("/context", json!([{ "registration": cx.fx.uuid() }])),
        reject("/context", json!(5)),
        reject("/context", json!(true)),
    ];
    post_cases(&cx, with_substatement(cases)).await
}

async fn context_instructor_team(cx: Ctx) -> Verdict {
    let group = json!({ "objectType": "Group", "name": "Team", "mbox": cx.fx.mbox() });
    let anonymous = json!({ "objectType": "Group", "member": [cx.fx.agent(), cx.fx.agent()] });
    let cases = vec![
        accept("/context/instructor", cx.fx.agent()),
        accept("/context/instructor", json!({ "mbox": cx.fx.mbox() })),
        accept("/context/instructor", anonymous.clone()),
        accept("/context/instructor", group.clone()),
        accept("/context/team", group),
        accept("/context/team", anonymous),
        reject("/context/instructor", json!("Ms. Smith")),
        reject("/context/instructor", json!({})),
        reject("/context/instructor", cx.fx.activity()),
        reject("/context/instructor", json!([cx.fx.agent()])),
        reject("/context/team", cx.fx.agent()),
        reject("/context/team", json!({ "mbox": cx.fx.mbox() })),
        reject("/context/team", json!("Team")),
        reject(
            "/context/team",
            json!([{ "objectType": "Group", "mbox": cx.fx.mbox() }]),
        ),
    ];
    post_cases(&cx, with_substatement(cases)).await
}

async fn context_activities_form(cx: Ctx) -> Verdict {
    let activity = |cx: &Ctx| json!({ "objectType": "Activity", "id": cx.fx.iri("context") });
    let mut cases = Vec::new();
    for key in ["parent", "grouping", "category", "other"] {
        let mut single = json!({});
        single[key] = activity(&cx);
        cases.push(accept("/context/contextActivities", single));
        let mut list = json!({});
        list[key] = json!([activity(&cx), { "id": cx.fx.iri("context") }]);
        cases.push(accept("/context/contextActivities", list));
    }
    cases.push(accept(
        "/context/contextActivities",
        json!({
            "parent": [activity(&cx)],
            "grouping": [activity(&cx)],
            "category": activity(&cx),
            "other": [activity(&cx)]
        }),
    ));
    for key in ["parents", "Parent", "GROUPING", "related", ""] {
        let mut bad = json!({});
        bad[key] = json!([activity(&cx)]);
        cases.push(reject("/context/contextActivities", bad));
    }
    let iri = cx.fx.iri("context");
    for value in [
        json!(iri),
        json!([iri]),
        json!(5),
        json!([{ "id": "not an iri" }]),
        json!([cx.fx.agent()]),
        json!([{ "objectType": "StatementRef", "id": cx.fx.uuid() }]),
        json!({ "definition": { "name": { "en-US": "no id" } } }),
    ] {
        cases.push(reject("/context/contextActivities/parent", value));
    }
    cases.push(reject("/context/contextActivities", json!([activity(&cx)])));
    cases.push(reject("/context/contextActivities", json!(iri)));
    post_cases(&cx, with_substatement(cases)).await
}

async fn context_activities_any_combination(cx: Ctx) -> Verdict {
    let activity = |cx: &Ctx| json!([{ "id": cx.fx.iri("context") }]);
    let cases = vec![
        accept("/context/contextActivities", json!({})),
        accept(
            "/context/contextActivities",
            json!({ "other": activity(&cx) }),
        ),
        accept(
            "/context/contextActivities",
            json!({ "grouping": activity(&cx), "category": activity(&cx) }),
        ),
        accept(
            "/context/contextActivities",
            json!({ "parent": activity(&cx), "grouping": activity(&cx), "other": activity(&cx) }),
        ),
    ];
    post_cases(&cx, cases).await
}

async fn context_revision_platform_strings(cx: Ctx) -> Verdict {
    let mut cases = vec![
        accept("/context/revision", json!("r1.2")),
        accept("/context/platform", json!("Example LMS")),
        accept("/context/revision", json!("")).and("/context/platform", json!("")),
    ];
    for key in ["/context/revision", "/context/platform"] {
        for value in [json!(5), json!(true), json!({ "en-US": "x" }), json!(["x"])] {
            cases.push(reject(key, value));
        }
    }
    post_cases(&cx, with_substatement(cases)).await
}

async fn context_revision_platform_activity_only(cx: Ctx) -> Verdict {
    let objects = [
        json!({ "objectType": "Agent", "mbox": cx.fx.mbox() }),
        json!({ "objectType": "Group", "mbox": cx.fx.mbox() }),
        json!({ "objectType": "StatementRef", "id": cx.fx.uuid() }),
        substatement(&cx),
    ];
    let mut cases = vec![
        accept("/context/revision", json!("r2")).and("/object", cx.fx.activity()),
        accept("/context/platform", json!("Example LMS"))
            .and("/object", json!({ "id": cx.fx.iri("activity") })),
    ];
    for object in objects {
        cases.push(reject("/context/revision", json!("r2")).and("/object", object.clone()));
        cases.push(reject("/context/platform", json!("Example LMS")).and("/object", object));
    }
    post_cases(&cx, cases).await
}

async fn context_language_tag(cx: Ctx) -> Verdict {
    let mut cases: Vec<Case> = ["en", "en-US", "zh-Hant-TW", "es-419", "de-CH-1901", "fr-CA"]
        .into_iter()
        .map(|tag| accept("/context/language", json!(tag)))
        .collect();
    cases.extend(
        [
            "a12345678",
            "en-",
            "en_US",
            "",
            "e",
            "en--US",
            "-en",
            "en-US-",
            "en US",
        ]
        .into_iter()
        .map(|tag| reject("/context/language", json!(tag))),
    );
    cases.push(reject("/context/language", json!(5)));
    cases.push(reject("/context/language", json!({ "en-US": "English" })));
    post_cases(&cx, with_substatement(cases)).await
}

async fn context_statement_ref(cx: Ctx) -> Verdict {
    let cases = vec![
        accept(
            "/context/statement",
            json!({ "objectType": "StatementRef", "id": cx.fx.uuid() }),
        ),
        reject("/context/statement", json!({ "id": cx.fx.uuid() })),
        reject(
            "/context/statement",
            json!({ "objectType": "statementref", "id": cx.fx.uuid() }),
        ),
        reject(
            "/context/statement",
            json!({ "objectType": "Activity", "id": cx.fx.iri("activity") }),
        ),
        reject("/context/statement", cx.fx.activity()),
        reject("/context/statement", json!(cx.fx.uuid())),
        reject(
            "/context/statement",
            json!({ "objectType": "StatementRef" }),
        ),
    ];
    post_cases(&cx, with_substatement(cases)).await
}

async fn context_agents(cx: Ctx) -> Verdict {
    let entry = |agent: Value| json!({ "objectType": "contextAgent", "agent": agent });
    let mut with_types = entry(cx.fx.agent());
    with_types["relevantTypes"] = json!([cx.fx.iri("type"), "urn:conformance:type"]);
    let mut empty_types = entry(cx.fx.agent());
    empty_types["relevantTypes"] = json!([]);
    let mut bad_type = entry(cx.fx.agent());
    bad_type["relevantTypes"] = json!(["abc"]);
    let mut single_type = entry(cx.fx.agent());
    single_type["relevantTypes"] = json!(cx.fx.iri("type"));
    let cases = vec![
        accept("/context/contextAgents", json!([entry(cx.fx.agent())])),
        accept(
            "/context/contextAgents",
            json!([with_types, entry(json!({ "mbox": cx.fx.mbox() }))]),
        ),
        reject("/context/contextAgents", entry(cx.fx.agent())),
        reject(
            "/context/contextAgents",
            json!([{ "agent": cx.fx.agent() }]),
        ),
        reject(
            "/context/contextAgents",
            json!([{ "objectType": "Should fail", "agent": cx.fx.agent() }]),
        ),
        reject(
            "/context/contextAgents",
            json!([{ "objectType": "contextagent", "agent": cx.fx.agent() }]),
        ),
        reject(
            "/context/contextAgents",
            json!([{ "objectType": "contextGroup", "agent": cx.fx.agent() }]),
        ),
        reject(
            "/context/contextAgents",
            json!([{ "objectType": "contextAgent" }]),
        ),
        reject(
            "/context/contextAgents",
            json!([entry(json!({ "key": "Should fail" }))]),
        ),
        reject(
            "/context/contextAgents",
            json!([entry(json!({ "mbox": "not-a-mailto" }))]),
        ),
        reject("/context/contextAgents", json!([empty_types])),
        reject("/context/contextAgents", json!([bad_type])),
        reject("/context/contextAgents", json!([single_type])),
        reject("/context/contextAgents", json!([cx.fx.agent()])),
    ];
    post_cases(&cx, with_substatement(cases)).await
}

async fn context_groups(cx: Ctx) -> Verdict {
    let entry = |group: Value| json!({ "objectType": "contextGroup", "group": group });
    let identified = || json!({ "objectType": "Group", "name": "Team", "mbox": cx.fx.mbox() });
    let anonymous = json!({ "objectType": "Group", "member": [cx.fx.agent()] });
    let mut with_types = entry(identified());
    with_types["relevantTypes"] = json!([cx.fx.iri("type")]);
    let mut empty_types = entry(identified());
    empty_types["relevantTypes"] = json!([]);
    let mut bad_type = entry(identified());
    bad_type["relevantTypes"] = json!(["abc"]);
    let mut single_type = entry(identified());
    single_type["relevantTypes"] = json!(cx.fx.iri("type"));
    let cases = vec![
        accept("/context/contextGroups", json!([entry(identified())])),
        accept(
            "/context/contextGroups",
            json!([with_types, entry(anonymous)]),
        ),
        reject("/context/contextGroups", entry(identified())),
        reject("/context/contextGroups", json!([{ "group": identified() }])),
        reject(
            "/context/contextGroups",
            json!([{ "objectType": "Should fail", "group": identified() }]),
        ),
        reject(
            "/context/contextGroups",
            json!([{ "objectType": "contextAgent", "group": identified() }]),
        ),
        reject(
            "/context/contextGroups",
            json!([{ "objectType": "contextGroup" }]),
        ),
        reject(
            "/context/contextGroups",
            json!([entry(json!({ "key": "Should fail" }))]),
        ),
        reject("/context/contextGroups", json!([entry(cx.fx.agent())])),
        reject(
            "/context/contextGroups",
            json!([entry(json!({ "mbox": cx.fx.mbox() }))]),
        ),
        reject("/context/contextGroups", json!([empty_types])),
        reject("/context/contextGroups", json!([bad_type])),
        reject("/context/contextGroups", json!([single_type])),
    ];
    post_cases(&cx, with_substatement(cases)).await
}

async fn context_agents_not_in_v1(cx: Ctx) -> Verdict {
    let cases = vec![
        reject(
            "/context/contextAgents",
            json!([{ "objectType": "contextAgent", "agent": cx.fx.agent() }]),
        ),
        reject(
            "/context/contextGroups",
            json!([{
                "objectType": "contextGroup",
                "group": { "objectType": "Group", "mbox": cx.fx.mbox() }
            }]),
        ),
    ];
    post_cases(&cx, cases).await
}

// ---------------------------------------------------------------------------------------
// Extensions and language maps
// ---------------------------------------------------------------------------------------

/// Where extensions maps appear in a statement.
const EXTENSION_SITES: [&str; 3] = [
    "/result/extensions",
    "/context/extensions",
    "/object/definition/extensions",
];

async fn extensions_are_objects(cx: Ctx) -> Verdict {
    let mut cases = Vec::new();
    for site in ["/result/extensions", "/context/extensions"] {
        cases.push(accept(site, json!({})));
        for value in [json!("extension"), json!([]), json!(5), json!(true)] {
            cases.push(reject(site, value));
        }
    }
    post_cases(&cx, with_substatement(cases)).await
}

async fn extension_keys_iris(cx: Ctx) -> Verdict {
    let mut cases = Vec::new();
    for site in EXTENSION_SITES {
        for key in [
            cx.fx.iri("extension"),
            "urn:conformance:extension".to_owned(),
            format!("http://{HOST}/拡張/{}", cx.fx.uuid()),
        ] {
            let mut map = json!({});
            map[key.as_str()] = json!(1);
            cases.push(accept(site, map));
        }
        for key in ["not an iri", "", "example.com/extension", "extension"] {
            let mut map = json!({});
            map[key] = json!(1);
            cases.push(reject(site, map));
        }
    }
    post_cases(&cx, cases).await
}

async fn extension_values_unrestricted(cx: Ctx) -> Verdict {
    let values = [
        Value::Null,
        json!(""),
        json!({}),
        json!([]),
        json!(0),
        json!(-1.5e300),
        json!(false),
        json!("any text: <b>markup</b>, ünïcödé, \\ and \"quotes\""),
        json!({ "nested": [null, "", {}, { "objectType": "Agent" }], "Key With Spaces": null }),
        json!([[null], { "en-US": 5 }]),
    ];
    let mut cases = Vec::new();
    for site in EXTENSION_SITES {
        for value in &values {
            let mut map = json!({});
            map[cx.fx.iri("extension")] = value.clone();
            cases.push(accept(site, map));
        }
    }
    post_cases(&cx, cases).await
}

/// The language maps a statement can hold, and a map of one entry for each.
const LANGUAGE_MAP_SITES: [&str; 4] = [
    "/verb/display",
    "/object/definition/name",
    "/object/definition/description",
    "/attachments/0/display",
];

async fn language_map_keys(cx: Ctx) -> Verdict {
    let mut cases = Vec::new();
    for site in LANGUAGE_MAP_SITES {
        for tag in ["en", "en-US", "zh-Hant-TW", "es-419", "de-CH-1901", "und"] {
            let mut map = json!({});
            map[tag] = json!("text");
            cases.push(language_map_case(&cx, Expect::Accept, site, map));
        }
        for tag in [
            "a12345678",
            "en-",
            "",
            "en_US",
            "e",
            "en--US",
            "-en",
            "english language",
        ] {
            let mut map = json!({});
            map[tag] = json!("text");
            cases.push(language_map_case(&cx, Expect::Reject, site, map));
        }
    }
    post_cases(&cx, cases).await
}

async fn language_map_values(cx: Ctx) -> Verdict {
    let mut cases = Vec::new();
    for site in LANGUAGE_MAP_SITES {
        for value in [
            json!({ "en-US": 5 }),
            json!({ "en-US": ["text"] }),
            json!({ "en-US": { "text": "x" } }),
            json!({ "en-US": true }),
            json!("text"),
            json!(["text"]),
        ] {
            cases.push(language_map_case(&cx, Expect::Reject, site, value));
        }
    }
    post_cases(&cx, cases).await
}

/// A case setting the language map at `site`; the attachment's display comes with an
/// otherwise valid attachment.
fn language_map_case(cx: &Ctx, expect: Expect, site: &'static str, map: Value) -> Case {
    if site.starts_with("/attachments") {
        with_attachment(cx, expect).and(site, map)
    } else {
        case(expect, site, map)
    }
}

// ---------------------------------------------------------------------------------------
// Attachments
// ---------------------------------------------------------------------------------------

/// SHA-256 of "here is a simple attachment" — any well-formed digest will do, since the
/// attachment's data is not sent (it lives at its fileUrl).
const SHA2: &str = "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a";

/// A valid Attachment whose data is at a fileUrl, so the statement can go as plain JSON.
fn attachment(cx: &Ctx) -> Value {
    json!({
        "usageType": cx.fx.iri("attachment-usage"),
        "display": { "en-US": "Conformance attachment" },
        "description": { "en-US": "A file the statement points at" },
        "contentType": "text/plain",
        "length": 27,
        "sha2": SHA2,
        "fileUrl": cx.fx.iri("file")
    })
}

/// A case that sends one valid attachment, to be changed with [`Case::and`] and
/// [`Case::without`].
fn with_attachment(cx: &Ctx, expect: Expect) -> Case {
    case(expect, "/attachments", json!([attachment(cx)]))
}

async fn attachments_array(cx: Ctx) -> Verdict {
    let cases = vec![
        accept("/attachments", json!([])),
        accept("/attachments", json!([attachment(&cx)])),
        accept("/attachments", json!([attachment(&cx), attachment(&cx)])),
        reject("/attachments", attachment(&cx)),
        reject("/attachments", json!("attachment")),
        reject("/attachments", json!([12345])),
        reject("/attachments", json!(["should fail"])),
        reject("/attachments", json!([[attachment(&cx)]])),
    ];
    post_cases(&cx, cases).await
}

async fn attachment_usage_type(cx: Ctx) -> Verdict {
    let field = "/attachments/0/usageType";
    let mut cases = vec![
        with_attachment(&cx, Expect::Accept).and(field, json!("urn:conformance:usage")),
        with_attachment(&cx, Expect::Reject).without(field),
    ];
    for bad in [
        json!("should fail"),
        json!(""),
        json!("example.com/usage"),
        json!(5),
    ] {
        cases.push(with_attachment(&cx, Expect::Reject).and(field, bad));
    }
    post_cases(&cx, cases).await
}

async fn attachment_display_description(cx: Ctx) -> Verdict {
    let display = "/attachments/0/display";
    let description = "/attachments/0/description";
    let mut cases = vec![
        with_attachment(&cx, Expect::Accept)
            .and(display, json!({ "en-US": "A file", "fr": "Un fichier" })),
        // The description is optional: a valid attachment without it is accepted.
        with_attachment(&cx, Expect::Accept).without(description),
        with_attachment(&cx, Expect::Reject).without(display),
    ];
    for site in [display, description] {
        for bad in [
            json!(12345),
            json!("A file"),
            json!(["A file"]),
            json!({ "bad_tag": "A file" }),
            json!({ "en-US": 5 }),
        ] {
            cases.push(with_attachment(&cx, Expect::Reject).and(site, bad));
        }
    }
    post_cases(&cx, cases).await
}

async fn attachment_content_type(cx: Ctx) -> Verdict {
    let field = "/attachments/0/contentType";
    let mut cases = vec![with_attachment(&cx, Expect::Reject).without(field)];
    for good in [
        "text/plain; charset=ascii",
        "application/octet-stream",
        "image/svg+xml",
        "application/vnd.ms-excel",
    ] {
        cases.push(with_attachment(&cx, Expect::Accept).and(field, json!(good)));
    }
    for bad in [
        json!(12345),
        json!(""),
        json!("text"),
        json!("not a media type"),
        json!(["text/plain"]),
    ] {
        cases.push(with_attachment(&cx, Expect::Reject).and(field, bad));
    }
    post_cases(&cx, cases).await
}

async fn attachment_length(cx: Ctx) -> Verdict {
    let field = "/attachments/0/length";
    let mut cases = vec![
        with_attachment(&cx, Expect::Accept).and(field, json!(0)),
        with_attachment(&cx, Expect::Accept).and(field, json!(4_294_967_296_u64)),
        with_attachment(&cx, Expect::Reject).without(field),
    ];
    for bad in [
        json!("27"),
        json!(27.5),
        json!(-1),
        json!(true),
        json!("should fail"),
    ] {
        cases.push(with_attachment(&cx, Expect::Reject).and(field, bad));
    }
    post_cases(&cx, cases).await
}

async fn attachment_sha2(cx: Ctx) -> Verdict {
    let field = "/attachments/0/sha2";
    let mut cases = vec![with_attachment(&cx, Expect::Reject).without(field)];
    for bad in [
        json!(12345),
        json!(["abc"]),
        json!({ "sha256": SHA2 }),
        json!(true),
    ] {
        cases.push(with_attachment(&cx, Expect::Reject).and(field, bad));
    }
    post_cases(&cx, cases).await
}

async fn attachment_file_url(cx: Ctx) -> Verdict {
    let field = "/attachments/0/fileUrl";
    let mut cases = vec![with_attachment(&cx, Expect::Accept).and(
        field,
        json!(format!("https://{HOST}/files/report.txt?version=2")),
    )];
    for bad in [
        json!("should fail"),
        json!(""),
        json!("report.txt"),
        json!("/files/report.txt"),
        json!(12345),
    ] {
        cases.push(with_attachment(&cx, Expect::Reject).and(field, bad));
    }
    post_cases(&cx, cases).await
}

// ---------------------------------------------------------------------------------------
// Request parameters
// ---------------------------------------------------------------------------------------

/// One GET to make: the resource, its parameters and the answer due.
struct Query {
    expect: Expect,
    resource: &'static str,
    params: Vec<(String, String)>,
}

impl Query {
    fn describe(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{k}={}", excerpt(v, 80)))
            .collect();
        format!("GET {}?{}", self.resource, params.join("&"))
    }
}

fn good_query(resource: &'static str, params: &[(&str, &str)]) -> Query {
    query(Expect::Accept, resource, params)
}

fn bad_query(resource: &'static str, params: &[(&str, &str)]) -> Query {
    query(Expect::Reject, resource, params)
}

fn query(expect: Expect, resource: &'static str, params: &[(&str, &str)]) -> Query {
    Query {
        expect,
        resource,
        params: params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

/// Sends every query; a rejected one must get 400, an accepted one any answer but 400 or a
/// server error (a document the LRS does not have may well be a 404).
async fn get_cases(cx: &Ctx, queries: Vec<Query>) -> Verdict {
    let mut wrong = Vec::new();
    for q in &queries {
        let mut request = cx.get(q.resource);
        for (name, value) in &q.params {
            request = request.query(name, value.clone());
        }
        let response = request.send().await?;
        let (right, wanted) = match q.expect {
            Expect::Accept => (
                response.status != 400 && response.status < 500,
                "an answer other than 400 or 5xx",
            ),
            Expect::Reject => (response.status == 400, "400"),
        };
        if !right {
            wrong.push(format!(
                "{}: expected {wanted}, got {}{}",
                q.describe(),
                response.status,
                answer(&response)
            ));
        }
    }
    verdict(wrong, queries.len(), "requests")
}

/// The parameters of a request on one agent's state for a fresh activity.
fn state_params(cx: &Ctx) -> (String, String) {
    (cx.fx.iri("activity"), cx.fx.agent().to_string())
}

async fn parameter_formats(cx: Ctx) -> Verdict {
    let (activity, agent) = state_params(&cx);
    let upper = cx.fx.uuid().to_uppercase();
    let lower = cx.fx.uuid();
    let state = |extra: &[(&'static str, &'static str)], expect: Expect| {
        let mut q = query(
            expect,
            "activities/state",
            &[("activityId", &activity), ("agent", &agent)],
        );
        q.params.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        q
    };
    let queries = vec![
        good_query("statements", &[("registration", &upper)]),
        good_query("statements", &[("registration", &lower)]),
        good_query("statements", &[("since", "2008-09-15T15:53:00.601+05:30")]),
        good_query("statements", &[("until", "2008-09-15T15:53:00Z")]),
        good_query("statements", &[("activity", &activity)]),
        good_query("statements", &[("verb", EXPERIENCED)]),
        good_query("statements", &[("agent", &agent)]),
        state(&[], Expect::Accept),
        bad_query("statements", &[("registration", "notauuid")]),
        bad_query("statements", &[("registration", "")]),
        bad_query(
            "statements",
            &[("registration", "aa97b1779383493485430f91a7a02836")],
        ),
        bad_query("statements", &[("statementId", "notauuid")]),
        bad_query("statements", &[("voidedStatementId", "1234")]),
        bad_query("statements", &[("since", "yesterday")]),
        bad_query("statements", &[("since", "2008-09-15T15:53:00.601-00:00")]),
        bad_query("statements", &[("until", "2008-13-01T00:00:00Z")]),
        bad_query("statements", &[("verb", "experienced")]),
        bad_query("statements", &[("activity", "example.com/activity")]),
        bad_query("statements", &[("activity", "")]),
        bad_query("statements", &[("agent", "not json")]),
        bad_query(
            "statements",
            &[("agent", r#"{"mbox":"learner@example.com"}"#)],
        ),
        bad_query("activities", &[("activityId", "example.com/activity")]),
        bad_query(
            "activities/state",
            &[("activityId", "example.com/activity"), ("agent", &agent)],
        ),
        state(&[("registration", "bad")], Expect::Reject),
        state(&[("since", "bad")], Expect::Reject),
        bad_query(
            "activities/profile",
            &[("activityId", "example.com/activity")],
        ),
        bad_query("agents", &[("agent", r#"{"mbox":"learner@example.com"}"#)]),
        bad_query(
            "agents/profile",
            &[("agent", &agent), ("since", "not a timestamp")],
        ),
    ];
    get_cases(&cx, queries).await
}

async fn parameter_types(cx: Ctx) -> Verdict {
    let queries = vec![
        good_query("statements", &[("limit", "10")]),
        good_query("statements", &[("ascending", "true")]),
        bad_query("statements", &[("limit", "abc")]),
        bad_query("statements", &[("limit", "\"10\"")]),
        bad_query("statements", &[("limit", "-1")]),
        bad_query("statements", &[("limit", "1.5")]),
        bad_query("statements", &[("ascending", "yes")]),
        bad_query("statements", &[("ascending", "\"true\"")]),
        bad_query("statements", &[("related_activities", "1")]),
        bad_query("statements", &[("related_agents", "\"false\"")]),
        bad_query("statements", &[("attachments", "1")]),
    ];
    get_cases(&cx, queries).await
}

async fn parameter_enumerations(cx: Ctx) -> Verdict {
    let queries = vec![
        good_query("statements", &[("format", "ids")]),
        good_query("statements", &[("format", "canonical")]),
        bad_query("statements", &[("format", "IDS")]),
        bad_query("statements", &[("format", "Exact")]),
        bad_query("statements", &[("format", "full")]),
        bad_query("statements", &[("ascending", "TRUE")]),
        bad_query("statements", &[("related_activities", "False")]),
    ];
    get_cases(&cx, queries).await
}

async fn parameter_null(cx: Ctx) -> Verdict {
    let (activity, _) = state_params(&cx);
    let named_null = json!({ "name": null, "mbox": cx.fx.mbox() }).to_string();
    let queries = vec![
        bad_query("statements", &[("agent", "null")]),
        bad_query("statements", &[("agent", &named_null)]),
        bad_query("agents", &[("agent", "null")]),
        bad_query(
            "activities/state",
            &[("activityId", &activity), ("agent", &named_null)],
        ),
    ];
    get_cases(&cx, queries).await
}

async fn parameter_key_case(cx: Ctx) -> Verdict {
    let (activity, agent) = state_params(&cx);
    let upper_key = json!({ "MBOX": cx.fx.mbox() }).to_string();
    let queries = vec![
        bad_query("statements", &[("Verb", EXPERIENCED)]),
        bad_query("statements", &[("statementID", &cx.fx.uuid())]),
        bad_query("statements", &[("agent", &upper_key)]),
        bad_query("activities", &[("activityID", &activity)]),
        bad_query(
            "activities/state",
            &[("ActivityId", &activity), ("agent", &agent)],
        ),
        bad_query("agents", &[("agent", &upper_key)]),
    ];
    get_cases(&cx, queries).await
}

async fn parameter_unknown(cx: Ctx) -> Verdict {
    let (activity, agent) = state_params(&cx);
    let queries = vec![
        bad_query("statements", &[("foo", "bar")]),
        bad_query(
            "statements",
            &[("verb", EXPERIENCED), ("object", &activity)],
        ),
        bad_query(
            "activities/state",
            &[
                ("activityId", &activity),
                ("agent", &agent),
                ("stateid", "x"),
            ],
        ),
        bad_query("agents", &[("agent", &agent), ("name", "learner")]),
    ];
    get_cases(&cx, queries).await
}

async fn parameter_required(cx: Ctx) -> Verdict {
    let (activity, agent) = state_params(&cx);
    let queries = vec![
        bad_query("activities", &[]),
        bad_query("agents", &[]),
        bad_query("activities/state", &[("agent", &agent)]),
        bad_query("activities/state", &[("activityId", &activity)]),
        bad_query("activities/profile", &[]),
        bad_query("agents/profile", &[]),
    ];
    get_cases(&cx, queries).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_set_create_and_remove() {
        let mut value = json!({ "a": [ { "b": 1 } ] });
        set(&mut value, "/a/0/b", json!(2)).unwrap();
        set(&mut value, "/x/y", json!("z")).unwrap();
        assert_eq!(value, json!({ "a": [ { "b": 2 } ], "x": { "y": "z" } }));
        remove(&mut value, "/a/0/b").unwrap();
        assert_eq!(value["a"], json!([{}]));
        assert!(remove(&mut value, "/a/0/missing").is_err());
        assert!(set(&mut value, "/x/y/z", json!(1)).is_err());
    }
}
