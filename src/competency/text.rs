//! Matching an activity's name and description against the names, aliases and keywords of
//! framework items: both sides are lower-cased, split into words, stripped of filler words
//! and stemmed (Snowball English), and a term matches where all its stems appear
//! contiguously and in order. Each item's evidence combines its matched terms as a noisy-OR,
//! so several weak terms can add up to a tag while one strong alias suffices.

use std::collections::{BTreeMap, HashMap};

use rust_stemmers::{Algorithm, Stemmer};

/// Weights a term has when it sets none of its own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TermWeights {
    /// An item's name or alias.
    pub alias: f64,
    pub keyword: f64,
    /// The factor a match in the description (rather than the title) carries.
    pub description: f64,
}

impl Default for TermWeights {
    fn default() -> Self {
        TermWeights {
            alias: 0.95,
            keyword: 0.7,
            description: 0.7,
        }
    }
}

/// Words that carry no topic; dropped from terms and texts alike, so the term "diversity,
/// equity and inclusion" matches the title "Diversity, Equity & Inclusion".
const FILLER: [&str; 35] = [
    "a", "about", "an", "and", "are", "as", "at", "be", "by", "can", "do", "during", "for", "from",
    "how", "in", "into", "is", "it", "its", "my", "of", "on", "or", "our", "that", "the", "their",
    "this", "through", "to", "with", "your", "you", "&",
];

/// Lower-cased, stemmed words of a text, filler dropped.
pub struct Tokenizer {
    stemmer: Stemmer,
}

impl Default for Tokenizer {
    fn default() -> Self {
        Tokenizer {
            stemmer: Stemmer::create(Algorithm::English),
        }
    }
}

impl Tokenizer {
    pub fn stems(&self, text: &str) -> Vec<String> {
        text.split(|c: char| !(c.is_alphanumeric() || matches!(c, '&' | '\'' | '’')))
            .map(|w| {
                // Possessives and quotes: "team's" is "team".
                let w = w
                    .strip_suffix("'s")
                    .or_else(|| w.strip_suffix("’s"))
                    .unwrap_or(w);
                w.trim_matches(|c| c == '\'' || c == '’')
            })
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .filter(|w| !FILLER.contains(&w.as_str()))
            .map(|w| self.stemmer.stem(&w).into_owned())
            .collect()
    }
}

struct Phrase {
    stems: Vec<String>,
    item: usize,
    weight: f64,
    /// The term as written, to explain a match.
    text: String,
}

/// One term that matched, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct TermMatch {
    pub term: String,
    pub in_title: bool,
    pub weight: f64,
}

/// An item the text points to, with the combined confidence and the terms behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct TextEvidence {
    pub item: usize,
    pub confidence: f64,
    pub matches: Vec<TermMatch>,
}

/// Terms of many items, indexed by their first stem.
pub struct TextMatcher {
    tokenizer: Tokenizer,
    by_first_stem: HashMap<String, Vec<Phrase>>,
    /// Phrases that veto an item's evidence, by first stem.
    exclusions: HashMap<String, Vec<Phrase>>,
    weights: TermWeights,
}

impl TextMatcher {
    pub fn new(weights: TermWeights) -> Self {
        TextMatcher {
            tokenizer: Tokenizer::default(),
            by_first_stem: HashMap::new(),
            exclusions: HashMap::new(),
            weights,
        }
    }

    /// Adds a term of item `item` (an index of the caller's); `alias` terms are names.
    pub fn add(&mut self, item: usize, text: &str, weight: Option<f64>, alias: bool) {
        let stems = self.tokenizer.stems(text);
        let Some(first) = stems.first().cloned() else {
            return;
        };
        let default = if alias {
            self.weights.alias
        } else {
            self.weights.keyword
        };
        self.by_first_stem.entry(first).or_default().push(Phrase {
            stems,
            item,
            weight: weight.unwrap_or(default).clamp(0.0, 1.0),
            text: text.to_owned(),
        });
    }

    /// A phrase that shows a text is not about item `item` after all.
    pub fn exclude(&mut self, item: usize, text: &str) {
        let stems = self.tokenizer.stems(text);
        if let Some(first) = stems.first().cloned() {
            self.exclusions.entry(first).or_default().push(Phrase {
                stems,
                item,
                weight: 0.0,
                text: text.to_owned(),
            });
        }
    }

    /// Every item with evidence in the title or description, strongest first; an item
    /// one of whose exclusions appears has none.
    pub fn evidence(&self, title: &str, description: &str) -> Vec<TextEvidence> {
        self.evidence_and_vetoes(title, description).0
    }

    /// As [`TextMatcher::evidence`], with the items one of whose exclusions appears (so
    /// that other methods can respect them too).
    pub fn evidence_and_vetoes(
        &self,
        title: &str,
        description: &str,
    ) -> (Vec<TextEvidence>, Vec<usize>) {
        // Per item, per stem sequence: the best term and place that matched (title beats
        // description). Terms that stem alike ("adapt", "adapting") count once, and so do
        // words one longer term covers ("take ownership" is not also "ownership").
        let mut found: BTreeMap<usize, BTreeMap<&[String], TermMatch>> = BTreeMap::new();
        let mut vetoed = Vec::new();
        for (text, in_title) in [(title, true), (description, false)] {
            let factor = if in_title {
                1.0
            } else {
                self.weights.description
            };
            let stems = self.tokenizer.stems(text);
            vetoed.extend(
                phrases_at(&self.exclusions, &stems)
                    .iter()
                    .map(|(_, p)| p.item),
            );
            let matched = phrases_at(&self.by_first_stem, &stems);
            let covered = |start: usize, phrase: &Phrase| {
                let end = start + phrase.stems.len();
                matched.iter().any(|(s, p)| {
                    let e = s + p.stems.len();
                    p.item == phrase.item && *s <= start && end <= e && e - s > end - start
                })
            };
            for (start, phrase) in &matched {
                if covered(*start, phrase) {
                    continue;
                }
                let weight = phrase.weight * factor;
                let terms = found.entry(phrase.item).or_default();
                let better = terms
                    .get(phrase.stems.as_slice())
                    .is_none_or(|m| m.weight < weight);
                if better {
                    terms.insert(
                        &phrase.stems,
                        TermMatch {
                            term: phrase.text.clone(),
                            in_title,
                            weight,
                        },
                    );
                }
            }
        }
        let mut out: Vec<TextEvidence> = found
            .into_iter()
            .filter(|(item, _)| !vetoed.contains(item))
            .map(|(item, terms)| {
                let matches: Vec<TermMatch> = terms.into_values().collect();
                let miss: f64 = matches.iter().map(|m| 1.0 - m.weight).product();
                TextEvidence {
                    item,
                    confidence: 1.0 - miss,
                    matches,
                }
            })
            .collect();
        out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        (out, vetoed)
    }
}

/// The phrases of `index` that occur in `stems`, with where each occurrence starts.
fn phrases_at<'i>(
    index: &'i HashMap<String, Vec<Phrase>>,
    stems: &[String],
) -> Vec<(usize, &'i Phrase)> {
    let mut out = Vec::new();
    for start in 0..stems.len() {
        let candidates = index.get(&stems[start]).into_iter().flatten();
        out.extend(
            candidates
                .filter(|p| stems[start..].starts_with(&p.stems))
                .map(|p| (start, p)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_stemmed_and_filler_dropped() {
        let t = Tokenizer::default();
        assert_eq!(
            t.stems("Coaching Conversations for Managers"),
            ["coach", "convers", "manag"]
        );
        assert_eq!(
            t.stems("Diversity, Equity & Inclusion"),
            ["divers", "equiti", "inclus"]
        );
        assert_eq!(
            t.stems("Your Team's 'Quick' Wins"),
            ["team", "quick", "win"]
        );
    }

    #[test]
    fn phrases_match_in_order_and_weak_terms_add_up() {
        let mut m = TextMatcher::new(TermWeights::default());
        m.add(0, "instructional design", None, true);
        m.add(1, "storyboard", Some(0.4), false);
        m.add(1, "e-learning", Some(0.4), false);
        m.add(0, "instructional designs", Some(0.5), false);
        let hit = m.evidence("Instructional Design Essentials", "");
        assert_eq!(hit.len(), 1);
        assert!((hit[0].confidence - 0.95).abs() < 1e-9);
        assert!(m.evidence("Design that is instructional", "").is_empty());
        m.add(0, "design", Some(0.5), false);
        let covered = m.evidence("Instructional Design Essentials", "");
        assert!((covered[0].confidence - 0.95).abs() < 1e-9, "{covered:?}");
        m.exclude(0, "graphic design");
        assert!(m
            .evidence("Instructional design for graphic design teams", "")
            .is_empty());

        let both = m.evidence(
            "Storyboarding for eLearning",
            "Plan e-learning with storyboards.",
        );
        let combined = 1.0 - (1.0 - 0.4) * (1.0 - 0.4 * 0.7);
        assert_eq!(both.len(), 1);
        assert!((both[0].confidence - combined).abs() < 1e-9, "{both:?}");
    }
}
