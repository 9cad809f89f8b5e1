//! Tagging rules an analyst configures: conditions on the statement's activity id (prefix
//! or pattern), activity type, verb, platform and context activities, all of which must
//! hold, and the items a matching statement is evidence for.

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::xapi::json::at;
use crate::xapi::validate::Violation;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Lower-case letters, digits and hyphens; names the rule in every tag it makes.
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub when: Conditions,
    /// Item IRIs of any active framework.
    pub items: Vec<String>,
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn default_confidence() -> f64 {
    0.9
}

fn enabled() -> bool {
    true
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_id_prefix: Option<String>,
    /// A regular expression the whole activity id must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_id_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verb: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// An activity id among the context activities (parent, grouping, category, other).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_activity: Option<String>,
    #[serde(skip)]
    pattern: Option<Regex>,
}

impl Rule {
    /// Parses and checks a rule; the violation names the field.
    pub fn parse(body: &Value) -> Result<Rule, Violation> {
        let mut rule: Rule = serde_json::from_value(body.clone())
            .map_err(|e| Violation::new("", "rule-shape", e.to_string()))?;
        rule.compile()?;
        Ok(rule)
    }

    /// Checks the fields and compiles the pattern (rules read back from a store too).
    pub fn compile(&mut self) -> Result<(), Violation> {
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 100
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            return Err(Violation::new(
                "/id",
                "rule-id",
                "a rule id is 1–100 lower-case letters, digits and hyphens",
            ));
        }
        if self.items.is_empty() {
            return Err(Violation::new(
                "/items",
                "rule-items",
                "a rule names at least one item",
            ));
        }
        if !(0.0..=1.0).contains(&self.confidence) {
            return Err(Violation::new(
                "/confidence",
                "confidence-range",
                "confidence is between 0 and 1",
            ));
        }
        let w = &mut self.when;
        let any = [
            &w.activity_id_prefix,
            &w.activity_id_pattern,
            &w.activity_type,
            &w.verb,
            &w.platform,
            &w.context_activity,
        ]
        .iter()
        .any(|c| c.is_some());
        if !any {
            return Err(Violation::new(
                "/when",
                "rule-conditions",
                "a rule needs at least one condition",
            ));
        }
        w.pattern = w
            .activity_id_pattern
            .as_deref()
            .map(|p| {
                regex::RegexBuilder::new(&format!("^(?:{p})$"))
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| {
                        Violation::new("/when/activity_id_pattern", "regex", e.to_string())
                    })
            })
            .transpose()?;
        Ok(())
    }

    pub fn matches(&self, s: &StatementFacts<'_>) -> bool {
        let w = &self.when;
        let object = s.object_id.unwrap_or_default();
        self.enabled
            && w.activity_id_prefix
                .as_deref()
                .is_none_or(|p| s.object_id.is_some() && object.starts_with(p))
            && w.pattern
                .as_ref()
                .is_none_or(|r| s.object_id.is_some() && r.is_match(object))
            && w.activity_type
                .as_deref()
                .is_none_or(|t| s.activity_type == Some(t))
            && w.verb.as_deref().is_none_or(|v| s.verb == Some(v))
            && w.platform.as_deref().is_none_or(|p| s.platform == Some(p))
            && w.context_activity
                .as_deref()
                .is_none_or(|id| s.context_activities.iter().any(|(_, c)| *c == id))
    }
}

/// The parts of a statement that tagging looks at.
#[derive(Debug, Default)]
pub struct StatementFacts<'a> {
    /// The object's id when the object is an Activity.
    pub object_id: Option<&'a str>,
    pub object_definition: Option<&'a Value>,
    pub activity_type: Option<&'a str>,
    pub verb: Option<&'a str>,
    pub platform: Option<&'a str>,
    /// (slot, activity id) of every context activity.
    pub context_activities: Vec<(&'static str, &'a str)>,
}

impl<'a> StatementFacts<'a> {
    pub fn of(statement: &'a Value) -> Self {
        let object = statement.get("object");
        let is_activity = object
            .and_then(|o| o.get("objectType"))
            .and_then(Value::as_str)
            .is_none_or(|t| t == "Activity");
        let object = object.filter(|_| is_activity);
        let object_definition = object.and_then(|o| o.get("definition"));
        let context = statement.get("context");
        let mut context_activities = Vec::new();
        for slot in ["parent", "grouping", "category", "other"] {
            // 1.0.x allows a single object where 2.0 requires an array.
            let entries = match context.and_then(|c| c.get("contextActivities")?.get(slot)) {
                Some(Value::Array(list)) => list.iter().collect(),
                Some(single @ Value::Object(_)) => vec![single],
                _ => Vec::new(),
            };
            for entry in entries {
                if let Some(id) = entry.get("id").and_then(Value::as_str) {
                    context_activities.push((slot, id));
                }
            }
        }
        StatementFacts {
            object_id: object.and_then(|o| o.get("id")).and_then(Value::as_str),
            object_definition,
            activity_type: object_definition
                .and_then(|d| d.get("type"))
                .and_then(Value::as_str),
            verb: at(statement, "/verb/id").and_then(Value::as_str),
            platform: context
                .and_then(|c| c.get("platform"))
                .and_then(Value::as_str),
            context_activities,
        }
    }

    /// Activities that may name a framework item directly: the object, and the context's
    /// `other` and `grouping` (`category` is reserved for xAPI profiles).
    pub fn named_activities(&self) -> impl Iterator<Item = (&'static str, &'a str)> + '_ {
        let object = self.object_id.map(|id| ("object", id));
        let context = self
            .context_activities
            .iter()
            .filter_map(|(slot, id)| match *slot {
                "other" => Some(("context.contextActivities.other", *id)),
                "grouping" => Some(("context.contextActivities.grouping", *id)),
                _ => None,
            });
        object.into_iter().chain(context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(when: Value) -> Result<Rule, Violation> {
        Rule::parse(
            &json!({ "id": "lil-agile", "name": "Agile courses", "when": when, "items": ["urn:agile"] }),
        )
    }

    #[test]
    fn every_condition_must_hold() {
        let s = json!({
            "verb": { "id": "http://adlnet.gov/expapi/verbs/completed" },
            "object": { "id": "https://www.linkedin.com/learning/agile-foundations",
                        "definition": { "type": "http://adlnet.gov/expapi/activities/course" } },
            "context": { "platform": "LinkedIn Learning",
                         "contextActivities": { "grouping": { "id": "https://www.linkedin.com/learning/paths/agile" } } }
        });
        let facts = StatementFacts::of(&s);
        let holds = |when| rule(when).map(|r| r.matches(&facts)).unwrap_or(false);
        assert!(holds(
            json!({ "activity_id_prefix": "https://www.linkedin.com/learning/" })
        ));
        assert!(holds(
            json!({ "activity_id_pattern": "https://www\\.linkedin\\.com/learning/agile-.*",
                              "verb": "http://adlnet.gov/expapi/verbs/completed" })
        ));
        assert!(holds(
            json!({ "context_activity": "https://www.linkedin.com/learning/paths/agile",
                              "platform": "LinkedIn Learning" })
        ));
        assert!(!holds(
            json!({ "activity_id_prefix": "https://www.linkedin.com/learning/",
                               "verb": "http://adlnet.gov/expapi/verbs/attempted" })
        ));
        assert!(
            !holds(json!({ "activity_id_pattern": "agile" })),
            "the pattern spans the whole id"
        );
    }

    #[test]
    fn bad_rules_name_the_field() {
        assert_eq!(
            rule(json!({})).err().map(|v| v.rule),
            Some("rule-conditions")
        );
        assert_eq!(
            rule(json!({ "activity_id_pattern": "(" }))
                .err()
                .map(|v| v.pointer),
            Some("/when/activity_id_pattern".into())
        );
        assert_eq!(
            Rule::parse(
                &json!({ "id": "Bad Id", "name": "x", "when": { "verb": "v" }, "items": ["i"] })
            )
            .err()
            .map(|v| v.rule),
            Some("rule-id")
        );
    }
}
