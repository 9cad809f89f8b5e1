//! The `format` parameter of statement GETs: `exact` (as stored), `ids` (identifiers only)
//! and `canonical` (one language per language map, chosen from `Accept-Language`).

use serde_json::{Map, Value};

use super::agent::ids_only;
use super::rules::object_type;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatementFormat {
    #[default]
    Exact,
    Ids,
    Canonical,
}

impl StatementFormat {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "exact" => Some(StatementFormat::Exact),
            "ids" => Some(StatementFormat::Ids),
            "canonical" => Some(StatementFormat::Canonical),
            _ => None,
        }
    }

    /// Applies the format to a stored statement. `languages` is the client's preference list.
    pub fn apply(self, statement: &mut Value, languages: &[String]) {
        match self {
            StatementFormat::Exact => {}
            StatementFormat::Ids => to_ids(statement),
            StatementFormat::Canonical => to_canonical(statement, languages),
        }
    }
}

fn to_ids(s: &mut Value) {
    let Some(obj) = s.as_object_mut() else { return };
    for key in ["actor", "authority"] {
        if let Some(a) = obj.get_mut(key) {
            *a = ids_only(a);
        }
    }
    if let Some(verb) = obj.get_mut("verb") {
        keep_only(verb, &["id"]);
    }
    if let Some(o) = obj.get_mut("object") {
        match object_type(o) {
            "Activity" => keep_only(o, &["id"]),
            "Agent" | "Group" => *o = ids_only(o),
            "SubStatement" => to_ids(o),
            _ => {}
        }
    }
    let Some(Value::Object(context)) = obj.get_mut("context") else {
        return;
    };
    for key in ["instructor", "team"] {
        if let Some(a) = context.get_mut(key) {
            *a = ids_only(a);
        }
    }
    for (list, field) in [("contextAgents", "agent"), ("contextGroups", "group")] {
        if let Some(Value::Array(entries)) = context.get_mut(list) {
            for entry in entries.iter_mut() {
                if let Some(a) = entry.get_mut(field) {
                    *a = ids_only(a);
                }
            }
        }
    }
    if let Some(Value::Object(kinds)) = context.get_mut("contextActivities") {
        for list in kinds.values_mut() {
            if let Value::Array(items) = list {
                items
                    .iter_mut()
                    .for_each(|a| keep_only(a, &["objectType", "id"]));
            }
        }
    }
}

fn keep_only(v: &mut Value, keys: &[&str]) {
    if let Value::Object(map) = v {
        map.retain(|k, _| keys.contains(&k.as_str()));
    }
}

fn to_canonical(s: &mut Value, languages: &[String]) {
    let Some(obj) = s.as_object_mut() else { return };
    if let Some(display) = obj.get_mut("verb").and_then(|v| v.get_mut("display")) {
        pick_language(display, languages);
    }
    if let Some(o) = obj.get_mut("object") {
        match object_type(o) {
            "Activity" => canonical_activity(o, languages),
            "SubStatement" => to_canonical(o, languages),
            _ => {}
        }
    }
    if let Some(Value::Object(kinds)) = obj
        .get_mut("context")
        .and_then(|c| c.get_mut("contextActivities"))
    {
        for list in kinds.values_mut() {
            if let Value::Array(items) = list {
                items
                    .iter_mut()
                    .for_each(|a| canonical_activity(a, languages));
            }
        }
    }
    if let Some(Value::Array(attachments)) = obj.get_mut("attachments") {
        for a in attachments {
            for key in ["display", "description"] {
                if let Some(map) = a.get_mut(key) {
                    pick_language(map, languages);
                }
            }
        }
    }
}

fn canonical_activity(a: &mut Value, languages: &[String]) {
    let Some(def) = a.get_mut("definition") else {
        return;
    };
    for key in ["name", "description"] {
        if let Some(map) = def.get_mut(key) {
            pick_language(map, languages);
        }
    }
    for list in ["choices", "scale", "source", "target", "steps"] {
        if let Some(Value::Array(components)) = def.get_mut(list) {
            for c in components {
                if let Some(map) = c.get_mut("description") {
                    pick_language(map, languages);
                }
            }
        }
    }
}

/// Keeps the one entry of a language map that best fits the preferences: an exact tag,
/// then a tag with the same primary language, then English, then the first entry.
pub fn pick_language(map: &mut Value, languages: &[String]) {
    let Value::Object(entries) = map else { return };
    if entries.len() <= 1 {
        return;
    }
    let chosen = best_key(entries, languages);
    if let Some(key) = chosen {
        entries.retain(|k, _| *k == key);
    }
}

fn best_key(entries: &Map<String, Value>, languages: &[String]) -> Option<String> {
    let primary = |tag: &str| tag.split('-').next().unwrap_or("").to_ascii_lowercase();
    for wanted in languages {
        if let Some(k) = entries.keys().find(|k| k.eq_ignore_ascii_case(wanted)) {
            return Some(k.clone());
        }
        if let Some(k) = entries.keys().find(|k| primary(k) == primary(wanted)) {
            return Some(k.clone());
        }
    }
    entries
        .keys()
        .find(|k| primary(k) == "en")
        .or_else(|| entries.keys().next())
        .cloned()
}

/// Parses an `Accept-Language` header into tags ordered by quality.
pub fn accept_languages(header: Option<&str>) -> Vec<String> {
    let Some(header) = header else {
        return Vec::new();
    };
    let mut tagged: Vec<(f32, usize, String)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next()?.trim();
            if tag.is_empty() || tag == "*" {
                return None;
            }
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((q, i, tag.to_owned()))
        })
        .collect();
    tagged.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    tagged.into_iter().map(|(_, _, tag)| tag).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_keeps_identifiers_only() {
        let mut s = json!({
            "actor": {"objectType": "Agent", "name": "A", "mbox": "mailto:a@b.c"},
            "verb": {"id": "http://v/x", "display": {"en": "x"}},
            "object": {"objectType": "Activity", "id": "http://a/1", "definition": {"name": {"en": "A"}}}
        });
        StatementFormat::Ids.apply(&mut s, &[]);
        assert_eq!(
            s,
            json!({
                "actor": {"objectType": "Agent", "mbox": "mailto:a@b.c"},
                "verb": {"id": "http://v/x"},
                "object": {"id": "http://a/1"}
            })
        );
    }

    #[test]
    fn canonical_picks_the_preferred_language() {
        let mut s = json!({"verb": {"id": "http://v", "display": {"en-US": "did", "fr-FR": "a fait", "de": "tat"}}});
        StatementFormat::Canonical.apply(&mut s, &accept_languages(Some("fr;q=0.9, de;q=0.5")));
        assert_eq!(s["verb"]["display"], json!({"fr-FR": "a fait"}));
        let mut s = json!({"verb": {"id": "http://v", "display": {"de": "tat", "en-GB": "did"}}});
        StatementFormat::Canonical.apply(&mut s, &[]);
        assert_eq!(s["verb"]["display"], json!({"en-GB": "did"}));
    }
}
