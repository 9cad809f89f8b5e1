//! The tagging engine: which framework items a statement is evidence for, each with a
//! confidence in [0, 1] and the method that found it. Compiled once per tenant from its
//! active frameworks and rules, then run on every statement at ingest.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::encoder;
use super::model::{Framework, ItemKind, Relation, RoleNeed};
use super::rules::{Rule, StatementFacts};
use super::semantic::{self, MeaningMatcher, MeaningSettings};
use super::text::{TermWeights, TextMatcher};
use crate::store::competency::default_alignment_confidence;
pub use crate::store::competency::{Alignment, Method, Tag};

/// The extension in an activity definition that names the items the activity builds: an
/// array of item IRIs, or of `{"item": IRI, "confidence": number}`.
pub const ALIGNMENTS_EXTENSION: &str = "https://w3id.org/lrsgate/extensions/alignments";

/// Tagging settings of the text method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextSettings {
    pub weights: TermWeights,
    /// Text evidence below this confidence makes no tag.
    pub threshold: f64,
    /// Matching by meaning as well as by words (`None`: words only).
    pub meaning: Option<MeaningSettings>,
}

impl Default for TextSettings {
    fn default() -> Self {
        TextSettings {
            weights: TermWeights::default(),
            threshold: 0.6,
            meaning: Some(MeaningSettings::default()),
        }
    }
}

/// A framework item as the tagger knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownItem {
    pub iri: String,
    pub name: String,
    pub kind: ItemKind,
    pub code: Option<String>,
    pub framework: String,
    pub framework_version: String,
    pub relations: Vec<Relation>,
    /// The cluster or item it sits under.
    pub parent: Option<String>,
}

/// A role of an active framework and the items it draws on.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownRole {
    pub iri: String,
    pub name: String,
    pub needs: Vec<RoleNeed>,
}

/// What the store knows about a statement's activity beyond the statement itself.
#[derive(Debug, Default, Clone)]
pub struct ActivityFacts<'a> {
    /// The catalog's alignments of the object activity.
    pub alignments: &'a [Alignment],
    /// The stored definition of the object activity, used when the statement has none.
    pub stored_definition: Option<&'a Value>,
}

/// The compiled tagging configuration of one tenant.
pub struct Tagger {
    items: Vec<KnownItem>,
    by_iri: HashMap<String, usize>,
    roles: HashMap<String, KnownRole>,
    text: TextMatcher,
    /// The same terms as vectors, for texts that name an item in other words.
    meaning: Option<MeaningMatcher>,
    rules: Vec<Rule>,
    settings: TextSettings,
    /// Text tags by a hash of (name, description): the same activity arrives in many
    /// statements, and matching its words is most of tagging's cost.
    text_cache: Mutex<HashMap<u64, Arc<[TextTag]>>>,
}

/// A text match above the threshold: (item index, confidence, the terms that matched).
type TextTag = (usize, f64, String);

/// Bounds the memory of remembered text tags.
const TEXT_CACHE_SIZE: usize = 20_000;

impl Tagger {
    /// Compiles the active frameworks (later ones win an IRI they share) and rules.
    pub fn new(frameworks: &[Framework], rules: Vec<Rule>, settings: TextSettings) -> Self {
        let mut tagger = Tagger {
            items: Vec::new(),
            by_iri: HashMap::new(),
            roles: HashMap::new(),
            text: TextMatcher::new(settings.weights),
            meaning: settings.meaning.and_then(|m| {
                Some(MeaningMatcher::new(
                    semantic::shipped()?,
                    encoder::shipped()?,
                    m,
                ))
            }),
            rules,
            settings,
            text_cache: Mutex::new(HashMap::new()),
        };
        for framework in frameworks {
            for role in framework.items.iter().filter(|i| i.kind == ItemKind::Role) {
                let known = KnownRole {
                    iri: role.iri.clone(),
                    name: role.name.clone(),
                    needs: role.draws_on.clone(),
                };
                tagger.roles.insert(role.iri.clone(), known);
            }
            for item in framework.items.iter().filter(|i| i.kind.is_taggable()) {
                let index = tagger.items.len();
                tagger.by_iri.insert(item.iri.clone(), index);
                tagger.items.push(KnownItem {
                    iri: item.iri.clone(),
                    name: item.name.clone(),
                    kind: item.kind,
                    code: item.code.clone(),
                    framework: framework.iri.clone(),
                    framework_version: framework.version.clone(),
                    relations: item.relations.clone(),
                    parent: item.parent.clone(),
                });
                tagger.text.add(index, &item.name, None, true);
                for alias in &item.aliases {
                    tagger.text.add(index, alias.text(), alias.weight(), true);
                }
                for keyword in &item.keywords {
                    tagger
                        .text
                        .add(index, keyword.text(), keyword.weight(), false);
                }
                if let Some(meaning) = tagger.meaning.as_mut() {
                    let description = item.description.as_deref().unwrap_or_default();
                    meaning.add(index, &item.iri, &item.name, description);
                }
                for exclusion in &item.exclusions {
                    tagger.text.exclude(index, exclusion);
                }
            }
        }
        tagger
    }

    pub fn item(&self, iri: &str) -> Option<&KnownItem> {
        self.by_iri.get(iri).map(|&i| &self.items[i])
    }

    /// The taggable items of the active frameworks.
    pub fn items(&self) -> impl Iterator<Item = &KnownItem> {
        self.items.iter()
    }

    pub fn role(&self, iri: &str) -> Option<&KnownRole> {
        self.roles.get(iri)
    }

    /// The tags of one statement: at most one per item, the strongest evidence kept.
    pub fn tag(&self, statement: &Value, activity: &ActivityFacts<'_>) -> Vec<Tag> {
        let facts = StatementFacts::of(statement);
        let mut tags: HashMap<usize, Tag> = HashMap::new();
        let mut offer =
            |index: usize, confidence: f64, method, rule: Option<&str>, detail: String| {
                let tag = Tag {
                    item: self.items[index].iri.clone(),
                    framework: self.items[index].framework.clone(),
                    confidence: round(confidence.clamp(0.0, 1.0)),
                    method,
                    rule: rule.map(str::to_owned),
                    detail: Some(detail),
                };
                let stronger = |old: &Tag| {
                    (tag.confidence, std::cmp::Reverse(tag.method))
                        > (old.confidence, std::cmp::Reverse(old.method))
                };
                if tags.get(&index).is_none_or(stronger) {
                    tags.insert(index, tag);
                }
            };

        for (slot, id) in facts.named_activities() {
            if let Some(&index) = self.by_iri.get(id) {
                offer(index, 1.0, Method::Explicit, None, slot.to_owned());
            }
        }

        let definition = facts.object_definition.or(activity.stored_definition);
        let extension = definition.and_then(|d| d.get("extensions")?.get(ALIGNMENTS_EXTENSION));
        for alignment in activity
            .alignments
            .iter()
            .cloned()
            .chain(extension_alignments(extension))
        {
            if let Some(&index) = self.by_iri.get(&alignment.item) {
                let source = alignment.source.unwrap_or_else(|| "catalog".into());
                offer(index, alignment.confidence, Method::Catalog, None, source);
            }
        }

        for rule in self.rules.iter().filter(|r| r.matches(&facts)) {
            for item in &rule.items {
                if let Some(&index) = self.by_iri.get(item) {
                    offer(
                        index,
                        rule.confidence,
                        Method::Rule,
                        Some(&rule.id),
                        rule.name.clone(),
                    );
                }
            }
        }

        let title = definition.and_then(|d| preferred_text(d.get("name")));
        let description = definition.and_then(|d| preferred_text(d.get("description")));
        if title.is_some() || description.is_some() {
            let text = self.text_tags(title.unwrap_or_default(), description.unwrap_or_default());
            for (item, confidence, terms) in text.iter() {
                offer(*item, *confidence, Method::Text, None, terms.clone());
            }
        }

        let mut out: Vec<Tag> = tags.into_values().collect();
        out.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then_with(|| a.item.cmp(&b.item))
        });
        out
    }

    /// The text tags of an activity's name and description, remembered.
    fn text_tags(&self, title: &str, description: &str) -> Arc<[TextTag]> {
        let mut hasher = std::hash::DefaultHasher::new();
        (title, description).hash(&mut hasher);
        let key = hasher.finish();
        if let Some(known) = self
            .text_cache
            .lock()
            .ok()
            .and_then(|c| c.get(&key).cloned())
        {
            return known;
        }
        let (evidence, vetoed) = self.text.evidence_and_vetoes(title, description);
        let mut found: Vec<TextTag> = evidence
            .iter()
            .filter(|e| e.confidence >= self.settings.threshold)
            .map(|e| {
                let terms: Vec<String> = e
                    .matches
                    .iter()
                    .map(|m| {
                        let place = if m.in_title { "name" } else { "description" };
                        format!("\"{}\" in {place}", m.term)
                    })
                    .collect();
                (e.item, e.confidence, terms.join(", "))
            })
            .collect();
        // Meaning speaks only where the words found nothing: it adds recall on texts that
        // name a competency in words nobody listed, without second-guessing listed words.
        if found.is_empty() {
            let meant = self.meaning.as_ref().and_then(|m| {
                let e = m.evidence(title, description, &vetoed)?;
                // Weak word evidence for the same item adds to it (noisy-OR).
                let words = evidence.iter().find(|w| w.item == e.item);
                let confidence =
                    1.0 - (1.0 - e.confidence) * (1.0 - words.map_or(0.0, |w| w.confidence));
                let quoted: Vec<String> = e.words.iter().map(|w| format!("\"{w}\"")).collect();
                let detail = format!(
                    "meaning: {} (nearness {:.2} to the item, {:.2} to off-topic texts)",
                    quoted.join(", "),
                    e.similarity,
                    e.off_topic
                );
                (confidence >= self.settings.threshold).then_some((e.item, confidence, detail))
            });
            found.extend(meant);
        }
        let found: Arc<[TextTag]> = found.into();
        if let Ok(mut cache) = self.text_cache.lock() {
            if cache.len() >= TEXT_CACHE_SIZE {
                cache.clear();
            }
            cache.insert(key, found.clone());
        }
        found
    }
}

/// Confidences are kept to three decimals: stable to compare after a retag.
fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn extension_alignments(value: Option<&Value>) -> Vec<Alignment> {
    let Some(Value::Array(entries)) = value else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|e| match e {
            Value::String(item) => Some(Alignment {
                item: item.clone(),
                confidence: default_alignment_confidence(),
                source: Some("definition extension".into()),
            }),
            other => serde_json::from_value::<Alignment>(other.clone())
                .ok()
                .map(|a| Alignment {
                    source: a.source.or_else(|| Some("definition extension".into())),
                    ..a
                }),
        })
        .collect()
}

/// The English entry of a language map (`en`, `en-US` …), else its first entry.
pub fn preferred_text(map: Option<&Value>) -> Option<&str> {
    let map = map?.as_object()?;
    let english = map
        .iter()
        .find(|(tag, _)| {
            let tag = tag.to_ascii_lowercase();
            tag == "en" || tag.starts_with("en-")
        })
        .map(|(_, v)| v);
    english.or_else(|| map.values().next())?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn framework() -> Framework {
        serde_json::from_value(json!({
            "iri": "urn:f", "version": "1", "title": "F",
            "items": [
                { "iri": "urn:f:cluster", "name": "Interpersonal", "kind": "cluster" },
                { "iri": "urn:f:design", "name": "Designing learning", "kind": "area_of_expertise",
                  "aliases": ["instructional design"], "keywords": ["storyboard", { "term": "e-learning", "weight": 0.4 }] },
                { "iri": "urn:f:agile", "name": "Agile", "kind": "skill", "keywords": ["scrum"] }
            ]
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn statement(object: Value, context: Value) -> Value {
        json!({
            "actor": { "mbox": "mailto:a@example.com" },
            "verb": { "id": "http://adlnet.gov/expapi/verbs/completed" },
            "object": object,
            "context": context,
        })
    }

    #[test]
    fn explicit_items_text_and_extensions_each_tag_with_their_method() {
        let tagger = Tagger::new(&[framework()], Vec::new(), TextSettings::default());
        let s = statement(
            json!({ "id": "https://courses.example.com/id-101",
                    "definition": { "name": { "de-DE": "Lernen gestalten", "en-US": "Instructional Design Basics" },
                                    "extensions": { ALIGNMENTS_EXTENSION: [{ "item": "urn:f:agile", "confidence": 0.6 }] } } }),
            json!({ "contextActivities": { "other": [{ "id": "urn:f:agile" }], "category": [{ "id": "urn:f:design" }] } }),
        );
        let tags = tagger.tag(&s, &ActivityFacts::default());
        let summary: Vec<(&str, Method, f64)> = tags
            .iter()
            .map(|t| (t.item.as_str(), t.method, t.confidence))
            .collect();
        // `category` is for xAPI profiles, so it does not name an item; `other` does.
        assert_eq!(
            summary,
            [
                ("urn:f:agile", Method::Explicit, 1.0),
                ("urn:f:design", Method::Text, 0.95)
            ]
        );
        assert_eq!(
            tags[0].detail.as_deref(),
            Some("context.contextActivities.other")
        );
    }

    #[test]
    fn catalog_alignments_and_the_stored_definition_apply_when_the_statement_has_none() {
        let tagger = Tagger::new(&[framework()], Vec::new(), TextSettings::default());
        let s = statement(
            json!({ "id": "https://lil.example.com/courses/42" }),
            json!({}),
        );
        let stored = json!({ "name": { "en": "Scrum for teams" } });
        let alignments = [Alignment {
            item: "urn:f:design".into(),
            confidence: 0.8,
            source: Some("linkedin-learning".into()),
        }];
        let tags = tagger.tag(
            &s,
            &ActivityFacts {
                alignments: &alignments,
                stored_definition: Some(&stored),
            },
        );
        let summary: Vec<(&str, Method)> =
            tags.iter().map(|t| (t.item.as_str(), t.method)).collect();
        assert_eq!(
            summary,
            [
                ("urn:f:design", Method::Catalog),
                ("urn:f:agile", Method::Text)
            ]
        );
        assert!(tagger.tag(&s, &ActivityFacts::default()).is_empty());
    }

    #[test]
    fn weak_text_evidence_below_the_threshold_makes_no_tag() {
        let tagger = Tagger::new(&[framework()], Vec::new(), TextSettings::default());
        let weak = statement(
            json!({ "id": "urn:x", "definition": { "name": { "en": "E-learning platforms compared" } } }),
            json!({}),
        );
        assert!(tagger.tag(&weak, &ActivityFacts::default()).is_empty());
    }
}
