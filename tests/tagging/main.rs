//! Tagging quality of the shipped framework on four hand-labelled sets (see README.md):
//! precision and recall of text tagging at the level of the nine Areas of Expertise and
//! twelve foundational competencies. The framework's terms were tuned on `dev-set.json`
//! and `validation-set.json`, which are also the meaning method's labelled examples;
//! `holdout-set.json` and `blind-set.json` were written blind and never tuned against.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use lrsgate::competency::{default_framework, ActivityFacts, Tagger, TextSettings};
use serde::Deserialize;
use serde_json::json;

/// (precision, recall, off-topic entries tagged) each set must keep: a few points (two or
/// three entries) below what the shipped method measured (README.md), so that a change that
/// loses quality fails. The development and validation sets are also the meaning method's
/// examples, so their floors sit higher than the two blind sets'.
const DEV_FLOORS: (f64, f64, usize) = (0.93, 0.90, 2);
const VALIDATION_FLOORS: (f64, f64, usize) = (0.94, 0.87, 2);
const HOLDOUT_FLOORS: (f64, f64, usize) = (0.90, 0.89, 3);
const BLIND_FLOORS: (f64, f64, usize) = (0.91, 0.86, 2);

#[derive(Deserialize)]
struct Entry {
    id: String,
    title: String,
    description: String,
    labels: BTreeSet<String>,
}

#[derive(Default)]
struct Counts {
    true_pos: usize,
    false_pos: usize,
    false_neg: usize,
    /// Off-topic entries (no labels) that got a tag all the same.
    off_topic_tagged: usize,
}

impl Counts {
    fn precision(&self) -> f64 {
        self.true_pos as f64 / (self.true_pos + self.false_pos).max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.true_pos as f64 / (self.true_pos + self.false_neg).max(1) as f64
    }
}

/// Tags every entry, prints per-item counts and every disagreement, returns the totals.
fn evaluate(name: &str, set: &str, settings: TextSettings) -> Counts {
    let entries: Vec<Entry> = serde_json::from_str(set).expect("the set parses");
    let tagger = Tagger::new(&[default_framework().unwrap()], Vec::new(), settings);
    // Printed, never asserted: what tagging one new activity text costs (no text repeats
    // within a set, so the tagger's cache does not help).
    let started = std::time::Instant::now();
    let mut total = Counts::default();
    let mut per_item: BTreeMap<String, Counts> = BTreeMap::new();
    let mut mistakes = Vec::new();
    for e in &entries {
        let statement = json!({
            "actor": { "mbox": "mailto:learner@example.com" },
            "verb": { "id": "http://adlnet.gov/expapi/verbs/completed" },
            "object": { "id": format!("https://courses.example.com/{}", e.id),
                        "definition": { "name": { "en-US": e.title }, "description": { "en-US": e.description } } }
        });
        let tags = tagger.tag(&statement, &ActivityFacts::default());
        let coded: Vec<(String, String)> = tags
            .iter()
            .filter_map(|t| {
                let code = tagger.item(&t.item).and_then(|i| i.code.clone())?;
                Some((code, t.detail.clone().unwrap_or_default()))
            })
            .filter(|(code, _)| code.starts_with("AOE-") || code.starts_with("F-"))
            .collect();
        let found: BTreeSet<String> = coded.iter().map(|(code, _)| code.clone()).collect();
        for code in found.union(&e.labels) {
            let counts = per_item.entry(code.clone()).or_default();
            match (found.contains(code), e.labels.contains(code)) {
                (true, true) => {
                    counts.true_pos += 1;
                    total.true_pos += 1;
                }
                (true, false) => {
                    counts.false_pos += 1;
                    total.false_pos += 1;
                }
                _ => {
                    counts.false_neg += 1;
                    total.false_neg += 1;
                }
            }
        }
        if e.labels.is_empty() && !found.is_empty() {
            total.off_topic_tagged += 1;
        }
        if found != e.labels {
            mistakes.push(format!(
                "{} {:?}: tagged {coded:?}, labelled {:?}",
                e.id, e.title, e.labels
            ));
        } else if coded.iter().any(|(_, d)| d.starts_with("meaning:")) {
            // Right by meaning: shown too, so the explanations can be read.
            mistakes.push(format!("{} {:?}: right, {coded:?}", e.id, e.title));
        }
    }
    println!("item        tp  fp  fn  precision recall");
    for (code, c) in &per_item {
        println!(
            "{code:<10} {:>3} {:>3} {:>3}  {:>8.2} {:>6.2}",
            c.true_pos,
            c.false_pos,
            c.false_neg,
            c.precision(),
            c.recall()
        );
    }
    let per_text = started.elapsed() / entries.len().max(1) as u32;
    for m in &mistakes {
        println!("  {m}");
    }
    println!(
        "{name}: {} entries: precision {:.3}, recall {:.3} ({} tp, {} fp, {} fn), \
         {} off-topic tagged; {per_text:?} per activity text",
        entries.len(),
        total.precision(),
        total.recall(),
        total.true_pos,
        total.false_pos,
        total.false_neg,
        total.off_topic_tagged
    );
    total
}

/// Words only (the method before meaning was added), printed beside the shipped method's
/// figures so that every run shows what meaning adds.
fn words_only() -> TextSettings {
    TextSettings {
        meaning: None,
        ..TextSettings::default()
    }
}

/// Evaluates a set with words only (printed) and with the shipped settings (returned).
fn evaluate_both(name: &str, set: &str) -> Counts {
    evaluate(&format!("{name}, words only"), set, words_only());
    evaluate(name, set, TextSettings::default())
}

/// Floors a set must keep: precision, recall and how many off-topic entries may be tagged.
fn keeps_floors(total: Counts, precision: f64, recall: f64, off_topic_tagged: usize) {
    assert!(
        total.precision() >= precision,
        "precision {:.3} below {precision}",
        total.precision()
    );
    assert!(
        total.recall() >= recall,
        "recall {:.3} below {recall}",
        total.recall()
    );
    assert!(
        total.off_topic_tagged <= off_topic_tagged,
        "{} off-topic entries tagged, at most {off_topic_tagged} allowed",
        total.off_topic_tagged
    );
}

#[test]
fn the_development_set_keeps_its_floors() {
    keeps_floors(
        evaluate_both("development set", include_str!("dev-set.json")),
        DEV_FLOORS.0,
        DEV_FLOORS.1,
        DEV_FLOORS.2,
    );
}

#[test]
fn the_validation_set_keeps_its_floors() {
    keeps_floors(
        evaluate_both("validation set", include_str!("validation-set.json")),
        VALIDATION_FLOORS.0,
        VALIDATION_FLOORS.1,
        VALIDATION_FLOORS.2,
    );
}

/// A set written blind to the term lists and to the other sets, never tuned against: the
/// estimate of quality on unseen titles before meaning was added.
#[test]
fn the_holdout_set_keeps_its_floors() {
    keeps_floors(
        evaluate_both("holdout set", include_str!("holdout-set.json")),
        HOLDOUT_FLOORS.0,
        HOLDOUT_FLOORS.1,
        HOLDOUT_FLOORS.2,
    );
}

/// A set written for tagging by meaning (see README.md), before that method was built and
/// blind to the framework's term lists: figurative talk titles, courses naming a skill in
/// other words, a fifth off-topic near-misses. Nothing was tuned on it.
#[test]
fn the_blind_set_keeps_its_floors() {
    keeps_floors(
        evaluate_both("blind set", include_str!("blind-set.json")),
        BLIND_FLOORS.0,
        BLIND_FLOORS.1,
        BLIND_FLOORS.2,
    );
}
