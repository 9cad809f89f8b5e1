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

/// Static word-piece vectors: unit length, quantised to i8, with a weight per piece.
pub struct Vectors {
    dims: usize,
    index: HashMap<Box<str>, u32>,
    weights: Vec<f32>,
    components: Vec<i8>,
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
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4)? != b"LGSV" {
            return Err("not a semantic vector file".into());
        }
        let version = r.u32()?;
        if version != 1 {
            return Err(format!("version {version} is not known"));
        }
        let pieces = r.u32()? as usize;
        let dims = r.u32()? as usize;
        let mut index = HashMap::with_capacity(pieces);
        let mut weights = Vec::with_capacity(pieces);
        let mut components = Vec::with_capacity(pieces * dims);
        for n in 0..pieces {
            let len = usize::from(r.take(1)?[0]);
            let piece =
                std::str::from_utf8(r.take(len)?).map_err(|_| format!("piece {n} is not UTF-8"))?;
            index.insert(piece.into(), n as u32);
            weights.push(f32::from(r.take(1)?[0]) / 255.0);
            components.extend(r.take(dims)?.iter().map(|&b| b as i8));
        }
        if r.at != bytes.len() {
            return Err("trailing bytes after the last piece".into());
        }
        Ok(Vectors {
            dims,
            index,
            weights,
            components,
        })
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The weighted vector of one lower-case word (the mean of its pieces), if every piece
    /// of it is known.
    fn word(&self, word: &str) -> Option<Vec<f32>> {
        let pieces = self.pieces(word)?;
        let mut out = vec![0.0f32; self.dims];
        for &p in &pieces {
            let p = p as usize;
            let w = self.weights[p] / 127.0;
            let row = &self.components[p * self.dims..(p + 1) * self.dims];
            for (o, &c) in out.iter_mut().zip(row) {
                *o += w * f32::from(c);
            }
        }
        let n = pieces.len() as f32;
        out.iter_mut().for_each(|o| *o /= n);
        Some(out)
    }

    /// WordPiece: the longest known prefix, then the longest known `##` continuation, and so
    /// on; a word with an unknown remainder has no pieces.
    fn pieces(&self, word: &str) -> Option<Vec<u32>> {
        if word.len() > LONGEST_WORD {
            return None;
        }
        let mut out = Vec::new();
        let mut start = 0;
        let mut candidate = String::with_capacity(word.len() + 2);
        while start < word.len() {
            let mut end = word.len();
            let found = loop {
                if end <= start {
                    break None;
                }
                if word.is_char_boundary(end) {
                    candidate.clear();
                    if start > 0 {
                        candidate.push_str("##");
                    }
                    candidate.push_str(&word[start..end]);
                    if let Some(&id) = self.index.get(candidate.as_str()) {
                        break Some(id);
                    }
                }
                end -= 1;
            };
            out.push(found?);
            start = end;
        }
        Some(out)
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

struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Result<&'b [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("file ends early at byte {}", self.at))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
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

/// The examples as vectors: per item IRI the sum of its examples' vectors and their count,
/// and each off-topic example's vector.
struct ExampleVectors {
    items: HashMap<String, (Vec<f32>, usize)>,
    off_topic: Vec<Vec<f32>>,
}

fn example_vectors(vectors: &Vectors) -> &'static ExampleVectors {
    static PARSED: OnceLock<ExampleVectors> = OnceLock::new();
    PARSED.get_or_init(|| {
        let examples: Examples = serde_json::from_str(EXAMPLES).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the embedded tagging examples do not parse");
            Examples {
                items: HashMap::new(),
                off_topic: Vec::new(),
            }
        });
        let items = examples
            .items
            .into_iter()
            .map(|(iri, texts)| {
                let mut sum = vec![0.0f32; vectors.dims];
                let mut count = 0;
                for t in texts.iter().filter_map(|t| vectors.text(&[(t, 1.0)])) {
                    add(&mut sum, &t.vector, 1.0);
                    count += 1;
                }
                (iri, (sum, count))
            })
            .collect();
        let off_topic = examples
            .off_topic
            .iter()
            .filter_map(|t| Some(vectors.text(&[(t, 1.0)])?.vector))
            .collect();
        ExampleVectors { items, off_topic }
    })
}

/// When meaning alone makes a tag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeaningSettings {
    /// How near (cosine) the text must be to the best item's prototype.
    pub nearness: f32,
    /// By how much it must be nearer to that prototype than to the off-topic examples
    /// nearest it (the mean of `off_topic_neighbours` of them).
    pub lead: f32,
    pub off_topic_neighbours: usize,
    /// The weight of the description's words against the title's.
    pub description: f32,
    /// The confidence of a tag found at exactly `lead`; a wider lead gives more.
    pub confidence: f64,
}

impl Default for MeaningSettings {
    /// Chosen on the development and validation sets (each set's examples tried on the
    /// other; tests/tagging/README.md).
    fn default() -> Self {
        MeaningSettings {
            nearness: 0.3,
            lead: 0.2,
            off_topic_neighbours: 5,
            description: 1.0,
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

/// Item prototypes: each the mean of the vectors of the item's definition (name and
/// description) and of its labelled examples, where the item has any.
pub struct MeaningMatcher {
    vectors: &'static Vectors,
    prototypes: Vec<(usize, Vec<f32>)>,
    off_topic: &'static [Vec<f32>],
    examples: &'static ExampleVectors,
    settings: MeaningSettings,
}

impl MeaningMatcher {
    pub fn new(vectors: &'static Vectors, settings: MeaningSettings) -> Self {
        let examples = example_vectors(vectors);
        MeaningMatcher {
            vectors,
            prototypes: Vec::new(),
            off_topic: &examples.off_topic,
            examples,
            settings,
        }
    }

    /// Adds item `item` (an index of the caller's) with its IRI and definition.
    pub fn add(&mut self, item: usize, iri: &str, name: &str, description: &str) {
        let mut sum = vec![0.0f32; self.vectors.dims];
        let mut count = 0;
        if let Some(d) = self.vectors.text(&[(name, 1.0), (description, 1.0)]) {
            add(&mut sum, &d.vector, 1.0);
            count += 1;
        }
        if let Some((examples, n)) = self.examples.items.get(iri) {
            add(&mut sum, examples, 1.0);
            count += n;
        }
        if count > 0 {
            if let Some(prototype) = unit(sum) {
                self.prototypes.push((item, prototype));
            }
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
        let text = self
            .vectors
            .text(&[(title, 1.0), (description, self.settings.description)])?;
        let (item, prototype, similarity) = self
            .prototypes
            .iter()
            .map(|(item, p)| (*item, p, dot(&text.vector, p)))
            .max_by(|a, b| a.2.total_cmp(&b.2).then(b.0.cmp(&a.0)))?;
        let mut off: Vec<f32> = self
            .off_topic
            .iter()
            .map(|o| dot(&text.vector, o))
            .collect();
        off.sort_by(|a, b| b.total_cmp(a));
        let nearest = &off[..off.len().min(self.settings.off_topic_neighbours)];
        let off_topic = nearest.iter().sum::<f32>() / nearest.len().max(1) as f32;
        let lead = similarity - off_topic;
        if similarity < self.settings.nearness
            || lead < self.settings.lead
            || vetoed.contains(&item)
        {
            return None;
        }
        let mut words: Vec<(f32, &str)> = text
            .words
            .iter()
            .map(|(w, v)| (dot(v, prototype), w.as_str()))
            .collect();
        words.sort_by(|a, b| b.0.total_cmp(&a.0));
        let confidence = self.settings.confidence + f64::from(lead - self.settings.lead).max(0.0);
        Some(MeaningEvidence {
            item,
            confidence: confidence.min(0.85),
            similarity,
            off_topic,
            words: words.iter().take(3).map(|(_, w)| (*w).to_owned()).collect(),
        })
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
        let mut m = MeaningMatcher::new(vectors(), MeaningSettings::default());
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
    fn the_shipped_examples_give_every_labelled_item_vectors_and_off_topic_texts() {
        let examples = example_vectors(vectors());
        assert!(examples.off_topic.len() >= 50);
        assert!(examples.items.len() >= 21);
        assert!(examples.items.values().all(|(_, n)| *n > 0));
    }
}
