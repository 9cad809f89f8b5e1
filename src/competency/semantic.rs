//! Matching an activity's text with framework items by meaning rather than by listed words.
//!
//! `semantic-vectors.bin` holds a static vector for each word piece of the all-MiniLM-L6-v2
//! sentence encoder's vocabulary, distilled from that model by `tools/semantic/distill.py`
//! (run by hand; the model is never loaded here). A text's vector is the weighted mean of its
//! pieces' vectors, rarer pieces weighing more. Each item has a prototype: the mean vector
//! of its definition and of labelled example texts (`semantic-examples.json`, the
//! development and validation sets of tests/tagging). A text means the item whose prototype
//! lies nearest, when it lies clearly nearer than the off-topic examples nearest the text
//! do: so a talk on "the strength of acquaintances" can reach Networking without anyone
//! having listed "acquaintance", while a talk on fungal networks in forests stays untagged.
//! The text's words nearest the prototype explain the tag.
//!
//! Vectors and examples are embedded in the binary: nothing is fetched or read at run time.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use super::encoder::{self, Encoder, Reader};

/// The distilled vectors; layout described in `tools/semantic/distill.py`.
static SHIPPED: &[u8] = include_bytes!("semantic-vectors.bin");

/// Words that carry no topic; the same list the word matcher drops.
const FILLER: [&str; 35] = [
    "a", "about", "an", "and", "are", "as", "at", "be", "by", "can", "do", "during", "for", "from",
    "how", "in", "into", "is", "it", "its", "my", "of", "on", "or", "our", "that", "the", "their",
    "this", "through", "to", "with", "your", "you", "&",
];

/// Words longer than this are not split into pieces (the encoder's own limit).
const LONGEST_WORD: usize = 100;

/// Words of each part of a text that count (the rest of a long description is ignored).
const LONGEST_TEXT: usize = 512;

/// Static word-piece vectors: unit length, quantised to i8, with a weight per piece. Each
/// piece's row (its weight byte, then its components) is read in place from the embedded
/// file, so only the rows texts use become resident.
pub struct Vectors {
    dims: usize,
    rows: HashMap<&'static str, &'static [u8]>,
}

/// The vectors shipped in the binary; `None` only if the embedded file is damaged, which a
/// unit test rules out.
pub fn shipped() -> Option<&'static Vectors> {
    static PARSED: OnceLock<Option<Vectors>> = OnceLock::new();
    PARSED
        .get_or_init(|| match Vectors::parse(SHIPPED) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::error!(error = %e, "the embedded semantic vectors do not parse");
                None
            }
        })
        .as_ref()
}

/// A text's words with their vectors, and the text's own (unit) vector.
pub struct TextVector {
    pub vector: Vec<f32>,
    /// Each known word of the text and its vector, still scaled by the word's rarity, so
    /// that the words that explain a match are the telling ones, not "why" or "explains".
    pub words: Vec<(String, Vec<f32>)>,
}

impl Vectors {
    pub fn parse(bytes: &'static [u8]) -> Result<Self, String> {
        let mut r = Reader::opening(bytes, b"LGSV", 1)?;
        let pieces = r.u32()? as usize;
        let dims = r.u32()? as usize;
        let mut rows = HashMap::with_capacity(pieces);
        for n in 0..pieces {
            let len = usize::from(r.take(1)?[0]);
            let piece =
                std::str::from_utf8(r.take(len)?).map_err(|_| format!("piece {n} is not UTF-8"))?;
            rows.insert(piece, r.take(1 + dims)?);
        }
        if r.at != bytes.len() {
            return Err("trailing bytes after the last piece".into());
        }
        Ok(Vectors { dims, rows })
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The weighted vector of one lower-case word (the mean of its pieces), if every piece
    /// of it is known.
    fn word(&self, word: &str) -> Option<Vec<f32>> {
        let pieces = self.pieces(word)?;
        let mut out = vec![0.0f32; self.dims];
        for row in &pieces {
            let w = f32::from(row[0]) / 255.0 / 127.0;
            for (o, &c) in out.iter_mut().zip(&row[1..]) {
                *o += w * f32::from(c as i8);
            }
        }
        let n = pieces.len() as f32;
        out.iter_mut().for_each(|o| *o /= n);
        Some(out)
    }

    /// WordPiece: the longest known prefix, then the longest known `##` continuation, and so
    /// on; a word with an unknown remainder has no pieces.
    fn pieces(&self, word: &str) -> Option<Vec<&'static [u8]>> {
        if word.len() > LONGEST_WORD {
            return None;
        }
        encoder::word_pieces(word, |piece| self.rows.get(piece).copied())
    }

    /// The vector of a text made of weighted parts (title, description …), with the vectors
    /// of its words; `None` when no word of it is known.
    pub fn text(&self, parts: &[(&str, f32)]) -> Option<TextVector> {
        let mut vector = vec![0.0f32; self.dims];
        let mut words: Vec<(String, Vec<f32>)> = Vec::new();
        let mut seen = HashSet::new();
        for (text, factor) in parts {
            // The encoder reads at most 512 pieces; a longer text's head says what it is.
            for word in words_of(text).take(LONGEST_TEXT) {
                let Some(v) = self.word(&word) else { continue };
                add(&mut vector, &v, *factor);
                if seen.insert(word.clone()) {
                    words.push((word, v));
                }
            }
        }
        Some(TextVector {
            vector: unit(vector)?,
            words,
        })
    }
}

/// Lower-case alphabetic words, filler dropped ("team's" is "team").
fn words_of(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphabetic() && c != '\'' && c != '’')
        .map(|w| {
            let w = w
                .strip_suffix("'s")
                .or_else(|| w.strip_suffix("’s"))
                .unwrap_or(w);
            w.trim_matches(|c| c == '\'' || c == '’').to_lowercase()
        })
        .filter(|w| !w.is_empty() && !FILLER.contains(&w.as_str()))
}

fn unit(mut v: Vec<f32>) -> Option<Vec<f32>> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm <= f32::EPSILON {
        return None;
    }
    v.iter_mut().for_each(|x| *x /= norm);
    Some(v)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Labelled course and talk texts (`tools/semantic/examples.py` writes them from the
/// development and validation sets): examples of the shipped framework's items by IRI, and
/// off-topic texts.
static EXAMPLES: &str = include_str!("semantic-examples.json");

#[derive(serde::Deserialize)]
struct Examples {
    items: HashMap<String, Vec<String>>,
    off_topic: Vec<String>,
}

/// The examples in both spaces: per item IRI the sum of its examples' vectors and their
/// count, and each off-topic example's vector.
struct Space {
    items: HashMap<String, (Vec<f32>, usize)>,
    off_topic: Vec<Vec<f32>>,
}

impl Space {
    fn of(examples: &Examples, vector: impl Fn(&str) -> Option<Vec<f32>>) -> Space {
        let items = examples
            .items
            .iter()
            .filter_map(|(iri, texts)| {
                let vectors: Vec<Vec<f32>> = texts.iter().filter_map(|t| vector(t)).collect();
                let mut sum = vec![0.0f32; vectors.first()?.len()];
                vectors.iter().for_each(|v| add(&mut sum, v, 1.0));
                Some((iri.clone(), (sum, vectors.len())))
            })
            .collect();
        let off_topic = examples
            .off_topic
            .iter()
            .filter_map(|t| vector(t))
            .collect();
        Space { items, off_topic }
    }

    /// The nearest prototype to `text`: its item, its vector and the cosine.
    fn nearest<'p>(
        prototypes: &'p [(usize, Vec<f32>)],
        text: &[f32],
    ) -> Option<(usize, &'p [f32], f32)> {
        prototypes
            .iter()
            .map(|(item, p)| (*item, p.as_slice(), dot(text, p)))
            .max_by(|a, b| a.2.total_cmp(&b.2).then(b.0.cmp(&a.0)))
    }

    /// The mean cosine of `text` to the `n` off-topic examples nearest it.
    fn off_topic_nearness(&self, text: &[f32], n: usize) -> f32 {
        let mut off: Vec<f32> = self.off_topic.iter().map(|o| dot(text, o)).collect();
        off.sort_by(|a, b| b.total_cmp(a));
        let nearest = &off[..off.len().min(n)];
        nearest.iter().sum::<f32>() / nearest.len().max(1) as f32
    }
}

/// The examples with static vectors (the screen) and with the encoder's.
struct ExampleVectors {
    words: Space,
    encoded: Space,
}

fn example_vectors(vectors: &Vectors, encoder: &'static Encoder) -> &'static ExampleVectors {
    static PARSED: OnceLock<ExampleVectors> = OnceLock::new();
    PARSED.get_or_init(|| {
        let examples: Examples = serde_json::from_str(EXAMPLES).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the embedded tagging examples do not parse");
            Examples {
                items: HashMap::new(),
                off_topic: Vec::new(),
            }
        });
        ExampleVectors {
            words: Space::of(&examples, |t| Some(vectors.text(&[(t, 1.0)])?.vector)),
            encoded: Space::of(&examples, |t| encoder.vector(&encoder::normalized(t))),
        }
    })
}

/// Off-topic examples the screen compares a text with (the mean of the nearest five).
const SCREEN_NEIGHBOURS: usize = 5;

/// When meaning alone makes a tag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeaningSettings {
    /// The screen before the encoder runs: by the static vectors, the text must lie at
    /// least this much nearer some item's prototype than the off-topic examples nearest it.
    /// Texts plainly about something else (forklifts, pivot tables) stop here, cheaply.
    pub screen: f32,
    /// How near (cosine of sentence vectors) the text must be to the best item's prototype.
    pub nearness: f32,
    /// By how much it must be nearer to that prototype than to the off-topic examples
    /// nearest it (the mean of `off_topic_neighbours` of them).
    pub lead: f32,
    pub off_topic_neighbours: usize,
    /// The confidence of a tag found at exactly `lead`; a wider lead gives more.
    pub confidence: f64,
}

impl Default for MeaningSettings {
    /// Chosen on the development and validation sets (each set's examples tried on the
    /// other; tests/tagging/README.md).
    fn default() -> Self {
        MeaningSettings {
            screen: 0.0,
            nearness: 0.45,
            lead: 0.15,
            off_topic_neighbours: 1,
            confidence: 0.6,
        }
    }
}

/// An item a text means, how clearly, and the text's words that lie nearest its prototype.
#[derive(Debug, Clone, PartialEq)]
pub struct MeaningEvidence {
    pub item: usize,
    pub confidence: f64,
    /// Cosine to the item's prototype.
    pub similarity: f32,
    /// Cosine to the nearest off-topic examples (their mean).
    pub off_topic: f32,
    pub words: Vec<String>,
}

/// Item prototypes, each the mean vector of the item's definition (name and description)
/// and of its labelled examples: once with static word vectors, for the screen and the
/// explanation, and once with the sentence encoder, for the decision.
pub struct MeaningMatcher {
    vectors: &'static Vectors,
    encoder: &'static Encoder,
    word_prototypes: Vec<(usize, Vec<f32>)>,
    prototypes: Vec<(usize, Vec<f32>)>,
    examples: &'static ExampleVectors,
    settings: MeaningSettings,
}

impl MeaningMatcher {
    pub fn new(
        vectors: &'static Vectors,
        encoder: &'static Encoder,
        settings: MeaningSettings,
    ) -> Self {
        MeaningMatcher {
            vectors,
            encoder,
            word_prototypes: Vec::new(),
            prototypes: Vec::new(),
            examples: example_vectors(vectors, encoder),
            settings,
        }
    }

    /// Adds item `item` (an index of the caller's) with its IRI and definition.
    pub fn add(&mut self, item: usize, iri: &str, name: &str, description: &str) {
        let definition = self
            .vectors
            .text(&[(name, 1.0), (description, 1.0)])
            .map(|d| d.vector);
        let prototype = |definition: Option<Vec<f32>>, space: &Space| {
            let mut sum = definition.unwrap_or_default();
            let mut count = usize::from(!sum.is_empty());
            if let Some((examples, n)) = space.items.get(iri) {
                sum.resize(examples.len(), 0.0);
                add(&mut sum, examples, 1.0);
                count += n;
            }
            (count > 0).then(|| unit(sum)).flatten()
        };
        if let Some(p) = prototype(definition, &self.examples.words) {
            self.word_prototypes.push((item, p));
        }
        let definition = self.encoder.vector(&encoder::entry_text(name, description));
        if let Some(p) = prototype(definition, &self.examples.encoded) {
            self.prototypes.push((item, p));
        }
    }

    /// The item the text means, if one stands out from the off-topic examples; items in
    /// `vetoed` are passed over.
    pub fn evidence(
        &self,
        title: &str,
        description: &str,
        vetoed: &[usize],
    ) -> Option<MeaningEvidence> {
        let words = self.vectors.text(&[(title, 1.0), (description, 1.0)])?;
        let (by_words, _, nearest) = Space::nearest(&self.word_prototypes, &words.vector)?;
        let screen = self
            .examples
            .words
            .off_topic_nearness(&words.vector, SCREEN_NEIGHBOURS);
        if nearest - screen < self.settings.screen {
            return None;
        }
        let text = self
            .encoder
            .vector(&encoder::entry_text(title, description))?;
        let (item, _, similarity) = Space::nearest(&self.prototypes, &text)?;
        let off_topic = self
            .examples
            .encoded
            .off_topic_nearness(&text, self.settings.off_topic_neighbours);
        let lead = similarity - off_topic;
        // Both views must name the same item: a tag by meaning is rarer but seldom wrong.
        if similarity < self.settings.nearness
            || lead < self.settings.lead
            || item != by_words
            || vetoed.contains(&item)
        {
            return None;
        }
        let confidence = self.settings.confidence + f64::from(lead - self.settings.lead).max(0.0);
        Some(MeaningEvidence {
            item,
            confidence: confidence.min(0.85),
            similarity,
            off_topic,
            words: self.telling_words(item, &words),
        })
    }

    /// The three words of the text whose static vectors lie nearest the item's prototype.
    fn telling_words(&self, item: usize, text: &TextVector) -> Vec<String> {
        let Some((_, prototype)) = self.word_prototypes.iter().find(|(i, _)| *i == item) else {
            return Vec::new();
        };
        let mut words: Vec<(f32, &str)> = text
            .words
            .iter()
            .map(|(w, v)| (dot(v, prototype), w.as_str()))
            .collect();
        words.sort_by(|a, b| b.0.total_cmp(&a.0));
        words.iter().take(3).map(|(_, w)| (*w).to_owned()).collect()
    }
}

fn add(sum: &mut [f32], v: &[f32], factor: f32) {
    for (o, x) in sum.iter_mut().zip(v) {
        *o += factor * x;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors() -> &'static Vectors {
        shipped().unwrap_or_else(|| panic!("the shipped vectors parse"))
    }

    #[test]
    fn the_shipped_vectors_parse_and_split_words_into_known_pieces() {
        let v = vectors();
        assert!(v.dims() >= 64);
        assert!(v.pieces("coaching").is_some_and(|p| p.len() == 1));
        // A word the vocabulary lacks is made of several pieces.
        assert!(v.pieces("storyboarding").is_some_and(|p| p.len() > 1));
        assert!(v.text(&[("the of and", 1.0)]).is_none());
    }

    #[test]
    fn related_words_lie_nearer_than_unrelated_ones() {
        let v = vectors();
        let vec = |t: &str| {
            v.text(&[(t, 1.0)])
                .unwrap_or_else(|| panic!("{t} has a vector"))
                .vector
        };
        let mentoring = vec("mentoring");
        assert!(dot(&mentoring, &vec("coaching")) > dot(&mentoring, &vec("plumbing")));
        let trust = vec("trust");
        assert!(dot(&trust, &vec("credibility")) > dot(&trust, &vec("spreadsheet")));
    }

    #[test]
    fn a_text_means_the_item_whose_prototype_stands_out_and_says_why() {
        let encoder = encoder::shipped().unwrap_or_else(|| panic!("the shipped encoder parses"));
        let mut m = MeaningMatcher::new(vectors(), encoder, MeaningSettings::default());
        // No examples for these IRIs: prototypes from the definitions alone.
        m.add(
            0,
            "urn:test:coaching",
            "Coaching",
            "Helping a person grow through conversations: asking questions, listening, \
             encouraging them to find their own answers, mentoring and feedback.",
        );
        m.add(
            1,
            "urn:test:spreadsheets",
            "Spreadsheets",
            "Formulas, cells, pivot tables and charts in spreadsheet software.",
        );
        let text = "Mentoring your direct reports";
        let description = "Ask better questions, listen and help each person grow.";
        let found = m
            .evidence(text, description, &[])
            .unwrap_or_else(|| panic!("a match"));
        assert_eq!(found.item, 0);
        assert!(found.confidence >= 0.6, "{found:?}");
        assert!(found.similarity > found.off_topic, "{found:?}");
        assert_eq!(found.words.len(), 3);
        assert!(m.evidence(text, description, &[0]).is_none());
        let off_topic = "A baker explains how wild yeast and bacteria make bread rise.";
        assert!(m.evidence("Sourdough at home", off_topic, &[]).is_none());
    }

    #[test]
    fn the_shipped_frameworks_definitions_need_no_encoding_at_start() {
        let framework = crate::competency::default_framework().unwrap_or_else(|e| panic!("{e}"));
        let known = encoder::known();
        for item in &framework.items {
            let text = encoder::entry_text(&item.name, item.description.as_deref().unwrap_or(""));
            assert!(
                known.contains_key(text.as_str()),
                "{text} is not in encoder-known.bin"
            );
        }
    }

    #[test]
    fn the_shipped_examples_give_every_labelled_item_vectors_and_off_topic_texts() {
        let encoder = encoder::shipped().unwrap_or_else(|| panic!("the shipped encoder parses"));
        let examples = example_vectors(vectors(), encoder);
        for space in [&examples.words, &examples.encoded] {
            assert!(space.off_topic.len() >= 50);
            assert!(space.items.len() >= 21);
            assert!(space.items.values().all(|(_, n)| *n > 0));
        }
        // Every example's sentence vector was computed when the encoder was written.
        let texts: Examples = serde_json::from_str(EXAMPLES).unwrap_or_else(|e| panic!("{e}"));
        let known = encoder::known();
        for text in texts.items.values().flatten().chain(&texts.off_topic) {
            let text = encoder::normalized(text);
            assert!(
                known.contains_key(text.as_str()),
                "{text} is not in encoder-known.bin"
            );
        }
    }
}
