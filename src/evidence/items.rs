//! Evidence items: each tag of a statement, weighed, for the statement's actor, at the time
//! the statement says the experience happened.

use serde_json::Value;

use super::weights::EvidenceWeights;
use crate::competency::{object_activity_id, Tag};
pub use crate::store::evidence::{EvidenceItem, Outcome};
use crate::xapi::agent::{ifi_key, is_group};
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
            scaled: statement
                .pointer("/result/score/scaled")
                .and_then(Value::as_f64),
        }
    }
}

const ADL_VERBS: &str = "http://adlnet.gov/expapi/verbs/";

/// Where a statement's evidence comes from, for trust: its authority's account name (a
/// credential key) or home page (a token issuer), else empty.
pub fn source_of(statement: &Value) -> &str {
    let account = statement.pointer("/authority/account");
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
    let verb = statement
        .pointer("/verb/id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let activity = object_activity_id(statement).unwrap_or_default();
    let outcome = Outcome::of(statement, verb);
    tags.iter()
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
        .collect()
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
