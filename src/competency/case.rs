//! IMS CASE 1.0/1.1 packages (`CFDocument`, `CFItems`, `CFAssociations`, at the top level
//! or under `CFPackage`) in and out. `isChildOf` builds the hierarchy (a second parent
//! becomes a `broader` relation); the other association types become relations.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::model::{Framework, Item, ItemKind, Relation, RelationType, Term};
use crate::xapi::validate::Violation;

/// Whether a framework body is a CASE package rather than our format.
pub fn is_case_package(body: &Value) -> bool {
    package(body).is_some_and(|p| p.contains_key("CFDocument"))
}

fn package(body: &Value) -> Option<&Map<String, Value>> {
    body.get("CFPackage").unwrap_or(body).as_object()
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// CASE association types and ours; `isChildOf` is the hierarchy itself.
const ASSOCIATIONS: [(&str, RelationType); 8] = [
    ("isPeerOf", RelationType::Related),
    ("isRelatedTo", RelationType::Related),
    ("exactMatchOf", RelationType::ExactMatch),
    ("isPartOf", RelationType::PartOf),
    ("precedes", RelationType::Precedes),
    ("replacedBy", RelationType::ReplacedBy),
    ("exemplar", RelationType::Exemplar),
    ("hasSkillLevel", RelationType::HasSkillLevel),
];

/// `CFItemType` words and our kinds.
fn kind_of(item_type: Option<&str>) -> ItemKind {
    let t = item_type.unwrap_or_default().to_ascii_lowercase();
    match t.as_str() {
        "cluster" | "domain" | "strand" | "category" | "competency cluster" => ItemKind::Cluster,
        "area of expertise" | "aoe" => ItemKind::AreaOfExpertise,
        "role" | "occupation" | "job" => ItemKind::Role,
        "skill" => ItemKind::Skill,
        "knowledge" => ItemKind::Knowledge,
        "ability" => ItemKind::Ability,
        _ => ItemKind::Competency,
    }
}

fn item_type_of(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Cluster => "Cluster",
        ItemKind::Competency => "Competency",
        ItemKind::AreaOfExpertise => "Area of Expertise",
        ItemKind::Role => "Role",
        ItemKind::Skill => "Skill",
        ItemKind::Knowledge => "Knowledge",
        ItemKind::Ability => "Ability",
        ItemKind::Other => "Other",
    }
}

/// The framework a CASE package describes; the violation points into the package.
pub fn import(body: &Value) -> Result<Framework, Violation> {
    let pkg = package(body)
        .ok_or_else(|| Violation::new("", "case-package", "a CASE package is a JSON object"))?;
    let document = pkg
        .get("CFDocument")
        .ok_or_else(|| Violation::new("/CFDocument", "case-package", "CFDocument is required"))?;
    let document_uri = text(document, "uri").ok_or_else(|| {
        Violation::new(
            "/CFDocument/uri",
            "case-package",
            "CFDocument.uri is required",
        )
    })?;
    let empty = Vec::new();
    let cf_items = pkg
        .get("CFItems")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let cf_associations = pkg
        .get("CFAssociations")
        .and_then(Value::as_array)
        .unwrap_or(&empty);

    // Associations name their nodes by identifier and uri; map both to the item's uri.
    let mut uri_of: HashMap<&str, &str> = HashMap::new();
    let mut items = Vec::with_capacity(cf_items.len());
    for (i, it) in cf_items.iter().enumerate() {
        let uri = text(it, "uri").ok_or_else(|| {
            Violation::new(
                format!("/CFItems/{i}/uri"),
                "case-package",
                "every CFItem needs a uri",
            )
        })?;
        let statement = text(it, "fullStatement").ok_or_else(|| {
            Violation::new(
                format!("/CFItems/{i}/fullStatement"),
                "case-package",
                "every CFItem needs a fullStatement",
            )
        })?;
        if let Some(id) = text(it, "identifier") {
            uri_of.insert(id, uri);
        }
        uri_of.insert(uri, uri);
        let name = text(it, "abbreviatedStatement").unwrap_or(statement);
        let keywords = match it.get("conceptKeywords") {
            Some(Value::Array(words)) => words.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(words)) => words.split(',').map(str::trim).collect(),
            _ => Vec::new(),
        };
        let aliases = match it.get("alternativeLabel") {
            Some(Value::String(label)) => vec![label.as_str()],
            Some(Value::Array(labels)) => labels.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let description = match (name == statement, text(it, "notes")) {
            (true, notes) => notes.map(str::to_owned),
            (false, None) => Some(statement.to_owned()),
            (false, Some(notes)) => Some(format!("{statement}\n\n{notes}")),
        };
        items.push(Item {
            iri: uri.to_owned(),
            code: text(it, "humanCodingScheme").map(str::to_owned),
            name: name.chars().take(500).collect(),
            description,
            kind: kind_of(text(it, "CFItemType")),
            parent: None,
            aliases: aliases
                .into_iter()
                .filter(|a| !a.trim().is_empty())
                .map(|a| Term::Plain(a.to_owned()))
                .collect(),
            keywords: keywords
                .into_iter()
                .filter(|k| !k.is_empty())
                .map(|k| Term::Plain(k.to_owned()))
                .collect(),
            exclusions: Vec::new(),
            relations: Vec::new(),
            draws_on: Vec::new(),
        });
    }
    let index: HashMap<String, usize> = items
        .iter()
        .enumerate()
        .map(|(i, item)| (item.iri.clone(), i))
        .collect();

    // In sequence order, so the first isChildOf of an item is its parent.
    let mut associations: Vec<&Value> = cf_associations.iter().collect();
    associations.sort_by_key(|a| {
        a.get("sequenceNumber")
            .and_then(Value::as_i64)
            .unwrap_or(i64::MAX)
    });
    for (i, a) in associations.into_iter().enumerate() {
        let node = |key: &str| -> Option<String> {
            let n = a.get(key)?;
            let by_id = text(n, "identifier").and_then(|id| uri_of.get(id).copied());
            by_id.or_else(|| text(n, "uri")).map(str::to_owned)
        };
        let (Some(origin), Some(destination)) = (node("originNodeURI"), node("destinationNodeURI"))
        else {
            return Err(Violation::new(
                format!("/CFAssociations/{i}"),
                "case-package",
                "an association needs originNodeURI and destinationNodeURI",
            ));
        };
        let Some(&from) = index.get(&origin) else {
            continue; // associations of the document itself, or of other packages' items
        };
        let kind = text(a, "associationType").unwrap_or_default();
        if kind == "isChildOf" {
            if destination == document_uri || !index.contains_key(&destination) {
                continue; // a top-level item
            }
            let item = &mut items[from];
            if item.parent.is_none() {
                item.parent = Some(destination);
            } else {
                item.relations.push(Relation {
                    kind: RelationType::Broader,
                    target: destination,
                });
            }
            continue;
        }
        let relation = ASSOCIATIONS
            .iter()
            .find(|(name, _)| *name == kind)
            .map_or(RelationType::Related, |(_, r)| *r);
        items[from].relations.push(Relation {
            kind: relation,
            target: destination,
        });
    }

    Ok(Framework {
        iri: document_uri.to_owned(),
        version: text(document, "version")
            .or_else(|| text(document, "lastChangeDateTime"))
            .unwrap_or("1")
            .to_owned(),
        title: text(document, "title").unwrap_or(document_uri).to_owned(),
        description: text(document, "description").map(str::to_owned),
        publisher: text(document, "creator")
            .or_else(|| text(document, "publisher"))
            .map(str::to_owned),
        language: text(document, "language").map(str::to_owned),
        items,
    })
}

/// A stable CASE identifier (a UUID) for a URI.
fn identifier(uri: &str) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, uri.as_bytes()).to_string()
}

/// The framework as a CASE 1.1 package.
pub fn export(framework: &Framework, last_change: &str) -> Value {
    let link = |uri: &str, title: &str| json!({ "title": title, "identifier": identifier(uri), "uri": uri });
    let names: HashMap<&str, &str> = framework
        .items
        .iter()
        .map(|i| (i.iri.as_str(), i.name.as_str()))
        .collect();
    let title_of = |uri: &str| names.get(uri).copied().unwrap_or(uri).to_owned();
    let document_link = link(&framework.iri, &framework.title);
    let items: Vec<Value> = framework
        .items
        .iter()
        .map(|i| {
            // The name is the short form; a description, when there is one, the full one.
            let mut item = json!({
                "identifier": identifier(&i.iri),
                "uri": i.iri,
                "fullStatement": i.description.as_deref().unwrap_or(&i.name),
                "CFItemType": item_type_of(i.kind),
                "lastChangeDateTime": last_change,
                "CFDocumentURI": document_link,
            });
            if let Some(obj) = item.as_object_mut() {
                if i.description.is_some() {
                    obj.insert("abbreviatedStatement".into(), json!(i.name));
                }
                if let Some(code) = &i.code {
                    obj.insert("humanCodingScheme".into(), json!(code));
                }
                if !i.keywords.is_empty() {
                    let words: Vec<&str> = i.keywords.iter().map(Term::text).collect();
                    obj.insert("conceptKeywords".into(), json!(words));
                }
                if !i.aliases.is_empty() {
                    let labels: Vec<&str> = i.aliases.iter().map(Term::text).collect();
                    obj.insert("alternativeLabel".into(), json!(labels));
                }
            }
            item
        })
        .collect();
    let mut associations = Vec::new();
    let mut push = |kind: &str, origin: &str, destination: Value| {
        let n = associations.len() as i64 + 1;
        associations.push(json!({
            "identifier": identifier(&format!("{origin} {kind} {}", destination["uri"].as_str().unwrap_or_default())),
            "associationType": kind,
            "sequenceNumber": n,
            "originNodeURI": link(origin, &title_of(origin)),
            "destinationNodeURI": destination,
            "lastChangeDateTime": last_change,
            "CFDocumentURI": document_link,
        }));
    };
    // Our relations without a CASE counterpart (requires, narrower) go out as isRelatedTo.
    let case_name = |r: RelationType| {
        ASSOCIATIONS
            .iter()
            .find(|(name, kind)| *kind == r && *name != "isPeerOf")
            .map_or("isRelatedTo", |(name, _)| *name)
    };
    for i in &framework.items {
        let parent = match &i.parent {
            Some(p) => link(p, &title_of(p)),
            None => document_link.clone(),
        };
        push("isChildOf", &i.iri, parent);
        for r in &i.relations {
            let kind = match r.kind {
                RelationType::Broader => "isChildOf",
                other => case_name(other),
            };
            push(kind, &i.iri, link(&r.target, &title_of(&r.target)));
        }
    }
    let mut document = json!({
        "identifier": identifier(&framework.iri),
        "uri": framework.iri,
        "title": framework.title,
        "version": framework.version,
        "creator": framework.publisher.clone().unwrap_or_else(|| "lrsgate".into()),
        "lastChangeDateTime": last_change,
    });
    if let Some(d) = &framework.description {
        document["description"] = json!(d);
    }
    if let Some(l) = &framework.language {
        document["language"] = json!(l);
    }
    json!({ "CFDocument": document, "CFItems": items, "CFAssociations": associations })
}
