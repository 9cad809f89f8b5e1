//! A sentence encoder run on the CPU: all-MiniLM-L6-v2 (a 6-layer BERT) with int8 weights.
//!
//! `encoder.bin` is written by `tools/semantic/encoder.py` from the model's own weights: the
//! word-piece vocabulary, named tensors (every matrix quantised to int8 with one f32 scale
//! per row, biases and layer norms in f32), then the matrices' data, so that reading the
//! file's head at start maps none of the weights. A text's vector is the mean of the last
//! layer's states over its pieces, scaled to unit length: the model's sentence embedding.
//! Matrices stay int8 in the binary and are widened one at a time while a text is encoded,
//! so the encoder adds about 11 MB of touched weights to the process, not 42.
//!
//! `encoder-known.bin` holds the vectors of texts every gateway would otherwise encode at
//! each start (the labelled examples and the shipped framework's definitions).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use ndarray::{Array1, Array2, ArrayView2, Axis, Slice};
use unicode_normalization::UnicodeNormalization;

static SHIPPED: &[u8] = include_bytes!("encoder.bin");
static KNOWN: &[u8] = include_bytes!("encoder-known.bin");

/// Word pieces a text is cut to, [CLS] and [SEP] included: titles and the head of a
/// description say what an activity is about, and the cost of a text stays bounded.
const MAX_PIECES: usize = 128;

/// Words longer than this are one unknown piece (BERT's own rule).
const LONGEST_WORD: usize = 100;

const LAYER_NORM_EPSILON: f32 = 1e-12;

/// Weights widened to f32 at once (256 KiB): big enough for the matrix products to run at
/// full speed, small enough that encoding leaves no sizeable memory behind.
const WIDENED_BLOCK: usize = 64 * 1024;

enum Tensor {
    Vector(Vec<f32>),
    Matrix {
        rows: usize,
        cols: usize,
        scales: Vec<f32>,
        data: &'static [u8],
    },
}

pub struct Encoder {
    vocab: HashMap<&'static str, u32>,
    hidden: usize,
    layers: usize,
    heads: usize,
    max_positions: usize,
    tensors: HashMap<String, Tensor>,
    unknown: u32,
    start: u32,
    end: u32,
    cache: Mutex<HashMap<String, Option<Vec<f32>>>>,
}

/// The encoder shipped in the binary; `None` only if the embedded file is damaged, which a
/// unit test rules out.
pub fn shipped() -> Option<&'static Encoder> {
    static PARSED: OnceLock<Option<Encoder>> = OnceLock::new();
    PARSED
        .get_or_init(|| match Encoder::parse(SHIPPED) {
            Ok(e) => Some(e),
            Err(e) => {
                tracing::error!(error = %e, "the embedded sentence encoder does not parse");
                None
            }
        })
        .as_ref()
}

/// Vectors of texts computed when the encoder was written, by exact text.
pub fn known() -> &'static HashMap<Box<str>, Vec<f32>> {
    static PARSED: OnceLock<HashMap<Box<str>, Vec<f32>>> = OnceLock::new();
    PARSED.get_or_init(|| {
        parse_known(KNOWN).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the embedded known text vectors do not parse");
            HashMap::new()
        })
    })
}

/// The text an activity's title and description make for the encoder (the generator's
/// `entry_text` does the same): joined, with digits dropped. Numbers rarely say what a
/// course is about, and the numbered parts, modules and editions of one series ("Part 3",
/// "Module 12", "2024") then share one text and are encoded once.
pub fn entry_text(title: &str, description: &str) -> String {
    let joined = if description.is_empty() {
        title.to_owned()
    } else {
        format!("{title}. {description}")
    };
    normalized(&joined)
}

/// `text` without ASCII digits, its whitespace runs made single spaces, cut to its first
/// `MAX_PIECES` words (each gives at least one piece, so the rest is never read) and
/// `MAX_CHARS` characters: a huge description costs and keeps what a short one does.
pub fn normalized(text: &str) -> String {
    let mut out = String::new();
    let words = text
        .split(|c: char| c.is_whitespace() || c.is_ascii_digit())
        .filter(|w| !w.is_empty());
    for word in words.take(MAX_PIECES) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    match out.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => out[..end].to_owned(),
        None => out,
    }
}

/// Characters of a text the encoder is given at most.
const MAX_CHARS: usize = 4096;

/// Texts encoded lately, by text: each new one costs a forward pass (milliseconds).
const CACHE_SIZE: usize = 4096;

impl Encoder {
    fn parse(bytes: &'static [u8]) -> Result<Self, String> {
        let mut r = Reader::opening(bytes, b"LGME", 2)?;
        let [pieces, hidden, layers, heads, _intermediate, max_positions] =
            [r.u32()?, r.u32()?, r.u32()?, r.u32()?, r.u32()?, r.u32()?].map(|n| n as usize);
        if heads == 0 || hidden % heads != 0 {
            return Err(format!(
                "{hidden} dimensions do not split into {heads} heads"
            ));
        }
        let mut vocab = HashMap::with_capacity(pieces);
        for n in 0..pieces {
            let len = usize::from(r.take(1)?[0]);
            let piece =
                std::str::from_utf8(r.take(len)?).map_err(|_| format!("piece {n} is not UTF-8"))?;
            vocab.insert(piece, n as u32);
        }
        let count = r.u32()? as usize;
        // Names, shapes, scales and vectors first; the matrices' data follows, in order.
        let mut headers = Vec::with_capacity(count);
        for _ in 0..count {
            let len = usize::from(r.take(1)?[0]);
            let name = std::str::from_utf8(r.take(len)?)
                .map_err(|_| "a tensor name is not UTF-8".to_owned())?
                .to_owned();
            let header = match r.take(1)?[0] {
                0 => {
                    let len = r.u32()? as usize;
                    (name, Err(r.f32s(len)?))
                }
                1 => {
                    let (rows, cols) = (r.u32()? as usize, r.u32()? as usize);
                    (name, Ok((rows, cols, r.f32s(rows)?)))
                }
                kind => return Err(format!("tensor {name} has unknown kind {kind}")),
            };
            headers.push(header);
        }
        let mut tensors = HashMap::with_capacity(count);
        for (name, header) in headers {
            let tensor = match header {
                Err(values) => Tensor::Vector(values),
                Ok((rows, cols, scales)) => Tensor::Matrix {
                    rows,
                    cols,
                    scales,
                    data: r.take(rows.checked_mul(cols).ok_or("a matrix is too large")?)?,
                },
            };
            tensors.insert(name, tensor);
        }
        if r.at != bytes.len() {
            return Err("trailing bytes after the last tensor".into());
        }
        let id = |piece: &str| {
            vocab
                .get(piece)
                .copied()
                .ok_or_else(|| format!("the vocabulary lacks {piece}"))
        };
        let encoder = Encoder {
            unknown: id("[UNK]")?,
            start: id("[CLS]")?,
            end: id("[SEP]")?,
            vocab,
            hidden,
            layers,
            heads,
            max_positions,
            tensors,
            cache: Mutex::new(HashMap::new()),
        };
        encoder.check()?;
        Ok(encoder)
    }

    /// Every tensor a forward pass reads is there with the right shape.
    fn check(&self) -> Result<(), String> {
        let h = self.hidden;
        let mut want: Vec<(String, usize, Option<usize>)> = vec![
            (
                "embeddings.word_embeddings.weight".into(),
                self.vocab.len(),
                Some(h),
            ),
            (
                "embeddings.position_embeddings.weight".into(),
                self.max_positions,
                Some(h),
            ),
            ("embeddings.token_type_embeddings.0".into(), h, None),
            ("embeddings.LayerNorm.weight".into(), h, None),
            ("embeddings.LayerNorm.bias".into(), h, None),
        ];
        for layer in 0..self.layers {
            let p = format!("encoder.layer.{layer}.");
            for dense in [
                "attention.self.query",
                "attention.self.key",
                "attention.self.value",
                "attention.output.dense",
                "intermediate.dense",
                "output.dense",
            ] {
                let (rows, cols) = match self.tensors.get(&format!("{p}{dense}.weight")) {
                    Some(Tensor::Matrix { rows, cols, .. }) => (*rows, *cols),
                    _ => return Err(format!("{p}{dense}.weight is missing")),
                };
                if dense == "intermediate.dense" && cols != h
                    || dense == "output.dense" && rows != h
                    || !dense.ends_with("dense") && (rows, cols) != (h, h)
                {
                    return Err(format!("{p}{dense}.weight is {rows}×{cols}"));
                }
                want.push((format!("{p}{dense}.bias"), rows, None));
            }
            for norm in ["attention.output.LayerNorm", "output.LayerNorm"] {
                want.push((format!("{p}{norm}.weight"), h, None));
                want.push((format!("{p}{norm}.bias"), h, None));
            }
        }
        for (name, len, cols) in want {
            let ok = match (self.tensors.get(&name), cols) {
                (Some(Tensor::Vector(v)), None) => v.len() == len,
                (Some(Tensor::Matrix { rows, cols: c, .. }), Some(cols)) => {
                    *rows == len && *c == cols
                }
                _ => false,
            };
            if !ok {
                return Err(format!("{name} is missing or has the wrong shape"));
            }
        }
        Ok(())
    }

    /// The sentence vector of `text` (made by `entry_text` or `normalized`): the one computed
    /// when the encoder was written, one encoded lately, or a new one.
    pub fn vector(&self, text: &str) -> Option<Vec<f32>> {
        if let Some(v) = known().get(text) {
            return Some(v.clone());
        }
        if let Some(v) = self.cache.lock().ok().and_then(|c| c.get(text).cloned()) {
            return v;
        }
        let v = self.encode(text);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_SIZE {
                cache.clear();
            }
            cache.insert(text.to_owned(), v.clone());
        }
        v
    }

    /// The text's sentence vector (unit length), or `None` when it has no word at all.
    pub fn encode(&self, text: &str) -> Option<Vec<f32>> {
        let ids = self.pieces(text);
        if ids.len() <= 2 {
            return None;
        }
        let states = self.forward(&ids);
        let pooled = states.mean_axis(Axis(0))?;
        let norm = pooled.dot(&pooled).sqrt();
        (norm > f32::EPSILON).then(|| pooled.iter().map(|x| x / norm).collect())
    }

    /// [CLS], the text's word pieces (cut to `MAX_PIECES` in all), [SEP].
    fn pieces(&self, text: &str) -> Vec<u32> {
        let mut out = vec![self.start];
        for word in basic_words(text) {
            if out.len() >= MAX_PIECES - 1 {
                break;
            }
            self.word_pieces(&word, &mut out);
        }
        out.truncate(MAX_PIECES - 1);
        out.push(self.end);
        out
    }

    /// A word's pieces, or one [UNK] when part of it is unknown (or it is too long).
    fn word_pieces(&self, word: &str, out: &mut Vec<u32>) {
        let pieces = (word.chars().count() <= LONGEST_WORD)
            .then(|| word_pieces(word, |piece| self.vocab.get(piece).copied()))
            .flatten();
        match pieces {
            Some(pieces) => out.extend(pieces),
            None => out.push(self.unknown),
        }
    }

    fn parameters(&self, name: &str) -> &[f32] {
        match self.tensors.get(name) {
            Some(Tensor::Vector(v)) => v,
            // `check` ran at parse time: every name asked for is a vector.
            _ => &[],
        }
    }

    /// Row `row` of an int8 matrix, widened.
    fn row(&self, name: &str, row: usize) -> Vec<f32> {
        match self.tensors.get(name) {
            Some(Tensor::Matrix {
                cols, scales, data, ..
            }) => {
                let scale = scales[row];
                data[row * cols..(row + 1) * cols]
                    .iter()
                    .map(|&b| f32::from(b as i8) * scale)
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// `x · Wᵀ + b` for the dense layer `name` (W is out × in, int8 with row scales).
    fn dense(&self, x: ArrayView2<f32>, name: &str) -> Array2<f32> {
        let Some(Tensor::Matrix {
            rows,
            cols,
            scales,
            data,
        }) = self.tensors.get(&format!("{name}.weight"))
        else {
            return Array2::zeros((x.nrows(), 0));
        };
        // Widened without scales: x·(q·s)ᵀ = (x·qᵀ)·diag(s), so the scales join the bias.
        // A block of rows at a time, so a pass never holds a whole widened matrix.
        let mut out = Array2::<f32>::zeros((x.nrows(), *rows));
        let block = (WIDENED_BLOCK / cols.max(&1)).max(1);
        for first in (0..*rows).step_by(block) {
            let last = (first + block).min(*rows);
            let widened = Array2::from_shape_vec(
                (last - first, *cols),
                data[first * cols..last * cols]
                    .iter()
                    .map(|&b| f32::from(b as i8))
                    .collect(),
            )
            .unwrap_or_else(|_| Array2::zeros((last - first, *cols)));
            out.slice_axis_mut(Axis(1), Slice::from(first..last))
                .assign(&x.dot(&widened.t()));
        }
        let bias = self.parameters(&format!("{name}.bias"));
        for mut row in out.rows_mut() {
            for ((o, s), b) in row.iter_mut().zip(scales).zip(bias) {
                *o = *o * s + b;
            }
        }
        out
    }

    fn layer_norm(&self, x: &mut Array2<f32>, name: &str) {
        let (weight, bias) = (
            self.parameters(&format!("{name}.weight")),
            self.parameters(&format!("{name}.bias")),
        );
        for mut row in x.rows_mut() {
            let n = row.len() as f32;
            let mean = row.sum() / n;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
            let inv = 1.0 / (var + LAYER_NORM_EPSILON).sqrt();
            for ((v, w), b) in row.iter_mut().zip(weight).zip(bias) {
                *v = (*v - mean) * inv * w + b;
            }
        }
    }

    /// The last layer's states, one row per piece.
    fn forward(&self, ids: &[u32]) -> Array2<f32> {
        let (t, h) = (ids.len().min(self.max_positions), self.hidden);
        let token_type = self.parameters("embeddings.token_type_embeddings.0");
        let mut x = Array2::<f32>::zeros((t, h));
        for (i, &id) in ids.iter().take(t).enumerate() {
            let word = self.row("embeddings.word_embeddings.weight", id as usize);
            let position = self.row("embeddings.position_embeddings.weight", i);
            for (j, v) in x.row_mut(i).iter_mut().enumerate() {
                *v = word[j] + position[j] + token_type[j];
            }
        }
        self.layer_norm(&mut x, "embeddings.LayerNorm");
        let d = h / self.heads;
        let scale = 1.0 / (d as f32).sqrt();
        for layer in 0..self.layers {
            let p = format!("encoder.layer.{layer}.");
            let q = self.dense(x.view(), &format!("{p}attention.self.query"));
            let k = self.dense(x.view(), &format!("{p}attention.self.key"));
            let v = self.dense(x.view(), &format!("{p}attention.self.value"));
            let mut context = Array2::<f32>::zeros((t, h));
            for head in 0..self.heads {
                let cols = Slice::from(head * d..(head + 1) * d);
                let mut scores = q
                    .slice_axis(Axis(1), cols)
                    .dot(&k.slice_axis(Axis(1), cols).t())
                    * scale;
                for mut row in scores.rows_mut() {
                    let max = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
                    row.mapv_inplace(|v| (v - max).exp());
                    let sum = row.sum();
                    row.mapv_inplace(|v| v / sum);
                }
                context
                    .slice_axis_mut(Axis(1), cols)
                    .assign(&scores.dot(&v.slice_axis(Axis(1), cols)));
            }
            let mut attended = self.dense(context.view(), &format!("{p}attention.output.dense"));
            attended += &x;
            self.layer_norm(&mut attended, &format!("{p}attention.output.LayerNorm"));
            let mut inner = self.dense(attended.view(), &format!("{p}intermediate.dense"));
            inner.mapv_inplace(gelu);
            x = self.dense(inner.view(), &format!("{p}output.dense"));
            x += &attended;
            self.layer_norm(&mut x, &format!("{p}output.LayerNorm"));
        }
        x
    }
}

/// WordPiece: the longest known prefix, then the longest known `##` continuation, and so on;
/// `None` when some remainder of the word is unknown. `lookup` finds a piece's entry.
pub(super) fn word_pieces<T>(word: &str, lookup: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut candidate = String::with_capacity(word.len() + 2);
    while start < word.len() {
        let (end, found) = word[start..]
            .char_indices()
            .map(|(i, c)| start + i + c.len_utf8())
            .rev()
            .find_map(|end| {
                candidate.clear();
                if start > 0 {
                    candidate.push_str("##");
                }
                candidate.push_str(&word[start..end]);
                Some((end, lookup(&candidate)?))
            })?;
        out.push(found);
        start = end;
    }
    Some(out)
}

/// BERT's uncased basic tokenizer: lower case, accents and control characters dropped,
/// punctuation and CJK characters each a word of their own.
fn basic_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, words: &mut Vec<String>| {
        if !word.is_empty() {
            words.push(std::mem::take(word));
        }
    };
    for c in text.to_lowercase().nfd() {
        if c == '\0' || c == '\u{fffd}' || is_mark_or_control(c) {
            continue;
        }
        if c.is_whitespace() {
            flush(&mut word, &mut words);
        } else if is_punctuation(c) || is_cjk(c) {
            flush(&mut word, &mut words);
            words.push(c.to_string());
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut words);
    words
}

fn is_mark_or_control(c: char) -> bool {
    use unicode_normalization::char::is_combining_mark;
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || is_combining_mark(c)
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation() || (!c.is_ascii() && !c.is_alphanumeric() && !c.is_whitespace())
}

fn is_cjk(c: char) -> bool {
    matches!(u32::from(c),
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B820..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

/// GELU with erf by Abramowitz & Stegun 7.1.26 (absolute error under 1.5e-7).
fn gelu(x: f32) -> f32 {
    let z = (x / std::f32::consts::SQRT_2).abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_7 + t * (1.421_413_8 + t * (-1.453_152 + t * 1.061_405_4))));
    let erf = (1.0 - poly * (-z * z).exp()).copysign(x);
    0.5 * x * (1.0 + erf)
}

fn parse_known(bytes: &[u8]) -> Result<HashMap<Box<str>, Vec<f32>>, String> {
    let mut r = Reader::opening(bytes, b"LGMK", 1)?;
    let (count, dims) = (r.u32()? as usize, r.u32()? as usize);
    let mut out = HashMap::with_capacity(count);
    for _ in 0..count {
        let b = r.take(2)?;
        let len = usize::from(u16::from_le_bytes([b[0], b[1]]));
        let text = std::str::from_utf8(r.take(len)?).map_err(|_| "a text is not UTF-8")?;
        let v: Array1<f32> = r.take(dims)?.iter().map(|&b| f32::from(b as i8)).collect();
        let norm = v.dot(&v).sqrt().max(f32::EPSILON);
        out.insert(text.into(), v.iter().map(|x| x / norm).collect());
    }
    if r.at != bytes.len() {
        return Err("trailing bytes after the last text".into());
    }
    Ok(out)
}

/// Reads the embedded files' little-endian fields in order (also the static vectors').
pub(super) struct Reader<'b> {
    bytes: &'b [u8],
    pub(super) at: usize,
}

impl<'b> Reader<'b> {
    /// A reader past the file's magic bytes and version, which must be `version`.
    pub(super) fn opening(bytes: &'b [u8], magic: &[u8; 4], version: u32) -> Result<Self, String> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4)? != magic {
            return Err(format!("not a {} file", String::from_utf8_lossy(magic)));
        }
        match r.u32()? {
            v if v == version => Ok(r),
            v => Err(format!("version {v} is not known")),
        }
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'b [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("file ends early at byte {}", self.at))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    pub(super) fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f32s(&mut self, n: usize) -> Result<Vec<f32>, String> {
        let bytes = self.take(n.checked_mul(4).ok_or("a tensor is too long")?)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoder() -> &'static Encoder {
        shipped().unwrap_or_else(|| panic!("the shipped encoder parses"))
    }

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn text_is_split_the_way_bert_splits_it() {
        assert_eq!(
            basic_words("Café Leaders' ROI: 3x!"),
            ["cafe", "leaders", "'", "roi", ":", "3x", "!"]
        );
        let e = encoder();
        let ids = e.pieces("storyboarding");
        // [CLS], more than one piece for a word the vocabulary lacks, [SEP].
        assert!(ids.len() > 3, "{ids:?}");
        assert_eq!((ids[0], ids[ids.len() - 1]), (e.start, e.end));
        let long = "word ".repeat(500);
        assert_eq!(e.pieces(&long).len(), MAX_PIECES);
    }

    #[test]
    fn the_encoder_gives_the_vectors_the_generator_computed() {
        let e = encoder();
        let known = known();
        assert!(known.len() > 300, "{}", known.len());
        // The generator ran the same int8 weights; only float order and the known
        // vectors' own int8 rounding differ.
        let mut texts: Vec<&Box<str>> = known.keys().collect();
        texts.sort();
        for text in texts.iter().step_by(97).take(4) {
            let v = e
                .encode(text)
                .unwrap_or_else(|| panic!("{text} has a vector"));
            let c = cosine(&v, &known[*text]);
            assert!(c > 0.995, "{text}: cosine {c}");
        }
    }

    #[test]
    fn numbered_parts_of_a_series_share_one_text_and_are_encoded_once() {
        assert_eq!(
            entry_text("Negotiation  (Part 3)", "Module 12 of 40."),
            entry_text("Negotiation (Part 14)", "Module 7 of 40.")
        );
        assert_eq!(entry_text("Giving Feedback", ""), "Giving Feedback");
        let long = normalized(&"word ".repeat(10_000));
        assert_eq!(long.split(' ').count(), MAX_PIECES);
        assert!(normalized(&"x".repeat(100_000)).chars().count() == MAX_CHARS);
        let e = encoder();
        let text = entry_text(
            "Giving feedback that lands (part 2)",
            "Module 7 of the series.",
        );
        let first = e.vector(&text);
        assert!(first.is_some());
        let cached = e.cache.lock().ok().and_then(|c| c.get(&text).cloned());
        assert_eq!(cached, Some(first.clone()));
        assert_eq!(e.vector(&text), first);
    }

    #[test]
    fn related_texts_lie_nearer_than_unrelated_ones() {
        let e = encoder();
        let v = |t: &str| e.encode(t).unwrap_or_else(|| panic!("{t} has a vector"));
        let mentoring = v("Mentoring new managers through their first year");
        let coaching = v("Coaching conversations that help people grow");
        let plumbing = v("Fixing a leaking pipe under the kitchen sink");
        assert!(cosine(&mentoring, &coaching) > cosine(&mentoring, &plumbing) + 0.2);
        assert!(e.encode("").is_none());
        assert!(e.encode("   ").is_none());
    }
}
