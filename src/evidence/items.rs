//! Evidence items: each tag of a statement, weighed, for the statement's actor, at the time
//! the statement says the experience happened.

use serde_json::Value;

use super::weights::{EvidenceWeights, AUTHORED, AUTHOR_EXTENSION, TAUGHT};
use crate::competency::{object_activity_id, Tag};
pub use crate::store::evidence::{EvidenceItem, Outcome};
use crate::xapi::agent::{ifi_key, is_group};
use crate::xapi::json::at;
use crate::xapi::time::parse_timestamp;

impl Outcome {
    fn of(statement: &Value, verb: &str) -> Self {
        let result = statement.get("result");
        let flag = |k: &str| result.and_then(|r| r.get(k)).and_then(Value::as_bool);
        let verb = verb.strip_prefix(ADL_VERBS).unwrap_or_default();
        let success = flag("success").or(match verb {
            "passed" | "mastered" => Some(true),
            "failed" => Some(false),
            _ => None,
        });
        Outcome {
            completed: flag("completion") == Some(true)
                || matches!(verb, "completed" | "passed" | "mastered"),
            success,
            scaled: at(statement, "/result/score/scaled").and_then(Value::as_f64),
        }
    }
}

const ADL_VERBS: &str = "http://adlnet.gov/expapi/verbs/";

/// Where a statement's evidence comes from, for trust: its authority's account name (a
/// credential key) or home page (a token issuer), else empty.
pub fn source_of(statement: &Value) -> &str {
    let account = at(statement, "/authority/account");
    account
        .and_then(|a| a.get("name"))
        .filter(|_| {
            account
                .and_then(|a| a.get("homePage"))
                .and_then(Value::as_str)
                == Some("urn:lrsgate:credential")
        })
        .or_else(|| account.and_then(|a| a.get("homePage")))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The evidence of statement `id` with its tags: one item per tag, for an Agent actor (a
/// Group's statement is evidence for the team, not for its members one by one). Items
/// that weigh nothing (e.g. `launched`) are left out. `now_millis` stands in for a
/// timestamp the LRS has not assigned yet.
pub fn evidence_of(
    statement: &Value,
    id: &str,
    tags: &[Tag],
    weights: &EvidenceWeights,
    now_millis: i64,
) -> Vec<EvidenceItem> {
    let Some(actor) = statement.get("actor").filter(|a| !is_group(a)) else {
        return Vec::new();
    };
    let Some(identity) = ifi_key(actor) else {
        return Vec::new();
    };
    let at_millis = ["timestamp", "stored"]
        .iter()
        .filter_map(|k| statement.get(*k).and_then(Value::as_str))
        .find_map(parse_timestamp)
        .map_or(now_millis, |t| t.timestamp_millis());
    let source = source_of(statement);
    let verb = at(statement, "/verb/id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let activity = object_activity_id(statement).unwrap_or_default();
    let outcome = Outcome::of(statement, verb);
    let mut items: Vec<EvidenceItem> = tags
        .iter()
        .map(|tag| {
            let weight = weights.weigh(statement, tag.confidence, source);
            EvidenceItem {
                statement: id.to_owned(),
                identity: identity.clone(),
                item: tag.item.clone(),
                activity: activity.to_owned(),
                verb: verb.to_owned(),
                outcome,
                normalized: weights.normalized(weight.value, at_millis),
                weight,
                at_millis,
            }
        })
        .filter(|e| e.weight.value != 0.0)
        .collect();
    let teaching = teaching_of(statement, &identity, &items, weights, source);
    items.extend(teaching);
    items
}

/// The people a statement names as teaching its object, with the verb of their evidence:
/// `context.instructor` (an Agent, or each identified member of a Group) and the author
/// extension ([`AUTHOR_EXTENSION`]) of the statement's context or of the object's
/// definition. The actor is not their own teacher; a person named twice counts once.
fn teachers(statement: &Value, actor: &str) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    let mut add = |agent: &Value, verb: &'static str| {
        let agents: Vec<&Value> = if is_group(agent) {
            agent
                .get("member")
                .and_then(Value::as_array)
                .map(|m| m.iter().collect())
                .unwrap_or_default()
        } else {
            vec![agent]
        };
        for a in agents.into_iter().filter(|a| !is_group(a)) {
            if let Some(key) = ifi_key(a) {
                if key != actor && !out.iter().any(|(k, _)| *k == key) {
                    out.push((key, verb));
                }
            }
        }
    };
    if let Some(instructor) = at(statement, "/context/instructor") {
        add(instructor, TAUGHT);
    }
    let authors = [
        at(statement, "/context/extensions"),
        at(statement, "/object/definition/extensions"),
    ];
    for author in authors
        .into_iter()
        .flatten()
        .filter_map(|e| e.get(AUTHOR_EXTENSION))
    {
        add(author, AUTHORED);
    }
    out
}

/// Teaching evidence: from a statement that is evidence for its learner, the instructor
/// gains evidence for each item the learner does (at the tag's confidence) and for the
/// teaching item; an author gains the same when the learner completed the activity. The
/// weight's strength is `teaching`; the rows carry no activity, so a teacher never counts
/// as having taken it.
fn teaching_of(
    statement: &Value,
    actor: &str,
    learned: &[EvidenceItem],
    weights: &EvidenceWeights,
    source: &str,
) -> Vec<EvidenceItem> {
    let shown: Vec<&EvidenceItem> = learned.iter().filter(|e| e.weight.value > 0.0).collect();
    let Some(first) = shown.first() else {
        return Vec::new();
    };
    let completed = first.outcome.completed;
    let mut taught: Vec<(&str, f64)> = shown
        .iter()
        .map(|e| (e.item.as_str(), e.weight.confidence))
        .collect();
    if !weights.teaching_item.is_empty() && !taught.iter().any(|(i, _)| *i == weights.teaching_item)
    {
        taught.push((&weights.teaching_item, 1.0));
    }
    let mut out = Vec::new();
    for (identity, verb) in teachers(statement, actor) {
        if verb == AUTHORED && !completed {
            continue;
        }
        for (item, confidence) in &taught {
            let weight = weights.teaching_weight(*confidence, source);
            if weight.value == 0.0 {
                continue;
            }
            out.push(EvidenceItem {
                statement: first.statement.clone(),
                identity: identity.clone(),
                item: (*item).to_owned(),
                activity: String::new(),
                verb: verb.to_owned(),
                outcome: Outcome::default(),
                normalized: weights.normalized(weight.value, first.at_millis),
                weight,
                at_millis: first.at_millis,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::competency::Method;
    use serde_json::json;

    fn tag(item: &str, confidence: f64) -> Tag {
        Tag {
            item: item.into(),
            framework: "urn:f".into(),
            confidence,
            method: Method::Text,
            rule: None,
            detail: None,
        }
    }

    const ID: &str = "5f2c0c55-6b7e-4f1e-9d3c-0a1b2c3d4e5f";

    fn stored(verb: &str, actor: Value) -> Value {
        json!({
            "actor": actor,
            "verb": { "id": format!("http://adlnet.gov/expapi/verbs/{verb}") },
            "object": { "id": "https://courses.example.com/1" },
            "timestamp": "2026-03-01T12:00:00Z",
            "stored": "2026-03-02T08:00:00.000Z",
            "authority": { "objectType": "Agent", "account": { "homePage": "urn:lrsgate:credential", "name": "lms" } }
        })
    }

    #[test]
    fn each_tag_of_an_agents_statement_is_an_evidence_item() {
        let mut weights = EvidenceWeights::default();
        weights.trust.insert("lms".into(), 0.5);
        let s = stored("passed", json!({ "mbox": "mailto:Ann@Example.com" }));
        let items = evidence_of(&s, ID, &[tag("urn:a", 1.0), tag("urn:b", 0.8)], &weights, 0);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].statement, ID);
        assert_eq!(items[0].identity, "mbox:mailto:ann@example.com");
        assert_eq!(
            items[0].at_millis, 1_772_366_400_000,
            "the timestamp, not stored"
        );
        assert!(
            (items[0].weight.value - 0.45).abs() < 1e-12,
            "0.9 × 1 × 1 × 0.5"
        );
        assert!((items[1].weight.value - 0.36).abs() < 1e-12);
        assert_eq!(source_of(&s), "lms");
    }

    #[test]
    fn the_instructor_gains_teaching_evidence_for_what_was_taught() {
        let weights = EvidenceWeights::default();
        let mut s = stored("passed", json!({ "mbox": "mailto:ann@example.com" }));
        s["context"] = json!({ "instructor": { "mbox": "mailto:ian@example.com" } });
        let items = evidence_of(&s, ID, &[tag("urn:a", 1.0), tag("urn:b", 0.8)], &weights, 0);
        let ian: Vec<&EvidenceItem> = items
            .iter()
            .filter(|e| e.identity == "mbox:mailto:ian@example.com")
            .collect();
        let taught: Vec<(&str, f64)> = ian
            .iter()
            .map(|e| (e.item.as_str(), e.weight.value))
            .collect();
        assert_eq!(
            taught,
            [
                ("urn:a", 0.5),
                ("urn:b", 0.4),
                (weights.teaching_item.as_str(), 0.5)
            ]
        );
        assert!(ian
            .iter()
            .all(|e| e.verb == TAUGHT && e.activity.is_empty()));
        assert_eq!(items.len(), 5, "the learner's two items stay");
        // A failure is no evidence of teaching; the learner is not their own teacher.
        let mut failed = stored("failed", json!({ "mbox": "mailto:ann@example.com" }));
        failed["context"] = json!({ "instructor": { "mbox": "mailto:ian@example.com" } });
        assert_eq!(
            evidence_of(&failed, ID, &[tag("urn:a", 1.0)], &weights, 0).len(),
            1
        );
        let mut own = stored("passed", json!({ "mbox": "mailto:ann@example.com" }));
        own["context"] = json!({ "instructor": { "mbox": "mailto:Ann@example.com" } });
        assert_eq!(
            evidence_of(&own, ID, &[tag("urn:a", 1.0)], &weights, 0).len(),
            1
        );
    }

    #[test]
    fn an_author_gains_evidence_when_others_complete_the_content() {
        let weights = EvidenceWeights::default();
        let author = json!({ AUTHOR_EXTENSION: { "mbox": "mailto:kim@example.com" } });
        let mut done = stored("completed", json!({ "mbox": "mailto:ann@example.com" }));
        done["object"]["definition"] = json!({ "extensions": author });
        let items = evidence_of(&done, ID, &[tag("urn:a", 1.0)], &weights, 0);
        assert!(items
            .iter()
            .any(|e| e.identity == "mbox:mailto:kim@example.com" && e.verb == AUTHORED));
        let mut tried = stored("experienced", json!({ "mbox": "mailto:ann@example.com" }));
        tried["object"]["definition"] = json!({ "extensions": author });
        let items = evidence_of(&tried, ID, &[tag("urn:a", 1.0)], &weights, 0);
        assert_eq!(items.len(), 1, "not completed: nothing for the author");
    }

    #[test]
    fn groups_and_weightless_verbs_give_no_evidence() {
        let weights = EvidenceWeights::default();
        let group = json!({ "objectType": "Group", "name": "Team", "member": [] });
        assert!(evidence_of(
            &stored("completed", group),
            ID,
            &[tag("urn:a", 1.0)],
            &weights,
            0
        )
        .is_empty());
        let launched = stored("launched", json!({ "mbox": "mailto:a@example.com" }));
        assert!(evidence_of(&launched, ID, &[tag("urn:a", 1.0)], &weights, 0).is_empty());
    }
}
