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
    // Items whose chain of parents is known to end without a cycle.
    let mut rooted: HashSet<&str> = HashSet::new();
    for (i, item) in framework.items.iter().enumerate() {
        let Some(parent) = &item.parent else { continue };
        if !index.contains_key(parent.as_str()) {
            return Err(Violation::new(
                format!("/items/{i}/parent"),
                "parent-exists",
                format!("parent `{parent}` is not an item of this framework"),
            ));
        }
        // Walk up: meeting an item twice means a cycle. The walk stops at an item whose
        // chain is already known to end at a root, so a long chain costs linear time, not
        // quadratic (a deep hierarchy in one request must not hold a worker for minutes).
        let mut seen = HashSet::new();
        let mut at = Some(parent.as_str());
        while let Some(iri) = at.filter(|iri| !rooted.contains(iri)) {
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
        rooted.extend(seen);
        rooted.insert(item.iri.as_str());
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

    /// Found while fuzzing (a long input run through the `fuzz/` target `framework`): a
    /// framework whose items form one long chain (item n the parent of item n+1) took time
    /// quadratic in its length (8 000 items: 86 s) because every item walked its whole
    /// ancestry. Each chain is now walked
    /// once; cycles are still found at the same item, however deep.
    #[test]
    fn a_long_chain_of_parents_is_checked_in_one_walk() {
        let link = |i: usize| format!("urn:i:{i}");
        let chain = |n: usize| -> Vec<Item> {
            (0..n)
                .map(|i| Item {
                    iri: link(i),
                    code: None,
                    name: link(i),
                    description: None,
                    kind: ItemKind::Skill,
                    parent: i.checked_sub(1).map(link),
                    aliases: Vec::new(),
                    keywords: Vec::new(),
                    exclusions: Vec::new(),
                    relations: Vec::new(),
                    draws_on: Vec::new(),
                })
                .collect()
        };
        let framework = |items| Framework {
            iri: "urn:f".into(),
            version: "1".into(),
            title: "F".into(),
            description: None,
            publisher: None,
            language: None,
            items,
        };
        assert_eq!(check_items(&framework(chain(50_000))), Ok(()));

        // The root made the child of the last item: every item is its own ancestor, and
        // the first one in order is named.
        let mut cycle = chain(50_000);
        cycle[0].parent = Some(link(49_999));
        let refused = check_items(&framework(cycle)).err();
        assert_eq!(
            refused.map(|v| (v.pointer, v.rule)),
            Some(("/items/0/parent".to_owned(), "no-parent-cycle"))
        );

        // A valid chain, then an item leading into a cycle further down the list.
        let mut items = chain(1_000);
        let mut into_cycle = chain(3);
        into_cycle[0].iri = "urn:x".into();
        into_cycle[0].parent = Some("urn:y".into());
        into_cycle[1].iri = "urn:y".into();
        into_cycle[1].parent = Some("urn:z".into());
        into_cycle[2].iri = "urn:z".into();
        into_cycle[2].parent = Some("urn:y".into());
        items.extend(into_cycle);
        let refused = check_items(&framework(items)).err();
        assert_eq!(
            refused.map(|v| (v.pointer, v.rule)),
            Some(("/items/1000/parent".to_owned(), "no-parent-cycle"))
        );
    }
}
