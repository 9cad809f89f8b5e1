//! Competency frameworks: the shape `schemas/competency/framework.schema.json` defines, and
//! the checks a schema cannot state (unique item IRIs, parents that exist, no cycles).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::xapi::validate::{check, Violation};

const SCHEMA: &str = include_str!("../../schemas/competency/framework.schema.json");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub iri: String,
    pub version: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Cluster,
    Competency,
    AreaOfExpertise,
    Role,
    Skill,
    Knowledge,
    Ability,
    Other,
}

impl ItemKind {
    /// Whether statements are tagged with items of this kind (clusters group, roles need).
    pub fn is_taggable(self) -> bool {
        !matches!(self, ItemKind::Cluster | ItemKind::Role)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub iri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub kind: ItemKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<Term>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<Term>,
    /// Words that show a text is about something else; they veto text evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relations: Vec<Relation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub draws_on: Vec<RoleNeed>,
}

/// A word or phrase that points to an item, with an optional weight of its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Term {
    Plain(String),
    Weighted { term: String, weight: f64 },
}

impl Term {
    pub fn text(&self) -> &str {
        match self {
            Term::Plain(t) | Term::Weighted { term: t, .. } => t,
        }
    }

    pub fn weight(&self) -> Option<f64> {
        match self {
            Term::Plain(_) => None,
            Term::Weighted { weight, .. } => Some(*weight),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationType {
    Related,
    Requires,
    ExactMatch,
    Broader,
    Narrower,
    PartOf,
    Precedes,
    ReplacedBy,
    Exemplar,
    HasSkillLevel,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relation {
    #[serde(rename = "type")]
    pub kind: RelationType,
    pub target: String,
}

/// An item a role relies on, and the level (1–5) it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleNeed {
    pub item: String,
    pub level: u8,
}

/// Checks frameworks against the schema and the rules beyond it.
pub struct FrameworkValidator {
    schema: jsonschema::Validator,
}

impl FrameworkValidator {
    pub fn new() -> anyhow::Result<Self> {
        let schema: Value = serde_json::from_str(SCHEMA)?;
        Ok(FrameworkValidator {
            schema: jsonschema::draft202012::new(&schema)
                .map_err(|e| anyhow::anyhow!("compiling the framework schema: {e}"))?,
        })
    }

    /// The framework in `body`, or the first rule it breaks.
    pub fn parse(&self, body: &Value) -> Result<Framework, Violation> {
        check(&self.schema, body)?;
        let framework: Framework = serde_json::from_value(body.clone())
            .map_err(|e| Violation::new("", "schema", e.to_string()))?;
        check_items(&framework)?;
        Ok(framework)
    }
}

fn check_items(framework: &Framework) -> Result<(), Violation> {
    let mut index = HashMap::new();
    for (i, item) in framework.items.iter().enumerate() {
        if index.insert(item.iri.as_str(), i).is_some() {
            return Err(Violation::new(
                format!("/items/{i}/iri"),
                "unique-item-iri",
                format!("item `{}` appears twice", item.iri),
            ));
        }
    }
    for (i, item) in framework.items.iter().enumerate() {
        let Some(parent) = &item.parent else { continue };
        if !index.contains_key(parent.as_str()) {
            return Err(Violation::new(
                format!("/items/{i}/parent"),
                "parent-exists",
                format!("parent `{parent}` is not an item of this framework"),
            ));
        }
        // Walk up: a chain longer than the item count has a cycle.
        let mut seen = HashSet::new();
        let mut at = Some(parent.as_str());
        while let Some(iri) = at {
            if !seen.insert(iri) || iri == item.iri {
                return Err(Violation::new(
                    format!("/items/{i}/parent"),
                    "no-parent-cycle",
                    format!("item `{}` is its own ancestor", item.iri),
                ));
            }
            at = index
                .get(iri)
                .and_then(|&j| framework.items[j].parent.as_deref());
        }
    }
    Ok(())
}

/// The framework the gateway ships: the workplace learning and performance model.
pub fn default_framework() -> anyhow::Result<Framework> {
    Ok(serde_json::from_str(include_str!(
        "default-framework.json"
    ))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn validator() -> FrameworkValidator {
        FrameworkValidator::new().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_default_framework_is_valid_and_complete() {
        let framework = default_framework().unwrap_or_else(|e| panic!("{e}"));
        let body = serde_json::to_value(&framework).unwrap_or_default();
        assert_eq!(validator().parse(&body).as_ref(), Ok(&framework));
        let count = |kind| framework.items.iter().filter(|i| i.kind == kind).count();
        assert_eq!(count(ItemKind::Cluster), 3);
        assert_eq!(count(ItemKind::Competency), 12);
        assert_eq!(count(ItemKind::AreaOfExpertise), 9);
        assert_eq!(count(ItemKind::Role), 4);
        for role in framework.items.iter().filter(|i| i.kind == ItemKind::Role) {
            assert!(!role.draws_on.is_empty(), "{} draws on nothing", role.name);
        }
    }

    #[test]
    fn items_need_unique_iris_existing_parents_and_no_cycles() {
        let framework =
            |items: Value| json!({ "iri": "urn:f", "version": "1", "title": "F", "items": items });
        let item = |iri: &str, parent: Option<&str>| {
            let mut v = json!({ "iri": iri, "name": iri, "kind": "skill" });
            if let Some(p) = parent {
                v["parent"] = json!(p);
            }
            v
        };
        let rule = |items| validator().parse(&framework(items)).err().map(|v| v.rule);
        assert_eq!(
            rule(json!([item("urn:a", None), item("urn:b", Some("urn:a"))])),
            None
        );
        assert_eq!(
            rule(json!([item("urn:a", None), item("urn:a", None)])),
            Some("unique-item-iri")
        );
        assert_eq!(
            rule(json!([item("urn:a", Some("urn:x"))])),
            Some("parent-exists")
        );
        assert_eq!(
            rule(json!([
                item("urn:a", Some("urn:b")),
                item("urn:b", Some("urn:a"))
            ])),
            Some("no-parent-cycle")
        );
        assert_eq!(
            rule(json!([{ "iri": "urn:a", "name": "A", "kind": "wizard" }])),
            Some("schema")
        );
    }
}
