//! How much one tag of one statement says about its actor: the weight of an evidence item,
//! and how evidence fades with time.
//!
//! weight = verb strength × result factor × tag confidence × source trust, where
//! - the verb strength says how much the activity shows (experienced < attended <
//!   completed < passed < mastered); `failed`, or any result with `success: false`, uses
//!   the (negative) failure strength, so it counts against;
//! - the result factor is 0.5 + 0.5 × `result.score.scaled` when a score is given (a pass
//!   at 90 % counts 0.95 of a pass), else 1;
//! - the source trust is set per statement authority (a credential key or a token's
//!   issuer), default 1.
//!
//! Evidence decays with one half-life: worth w at time t, it is worth
//! w × 2^(−(now − t) / half-life) later. Because every item decays at the same rate, the
//! order of sums never changes with time, so sums are kept *normalized* to a fixed epoch
//! (w × 2^((t − epoch) / half-life)) and an index on them ranks people at any moment; the
//! score now is the normalized sum × 2^(−(now − epoch) / half-life).

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

pub use crate::store::evidence::Weight;

/// The moment normalized sums are expressed at (2020-01-01T00:00:00Z, Unix ms).
pub const EPOCH_MILLIS: i64 = 1_577_836_800_000;

const DAY_MILLIS: f64 = 86_400_000.0;

const ADL: &str = "http://adlnet.gov/expapi/verbs/";

/// The weighting of evidence; every field is configurable and shown in answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceWeights {
    /// Days after which evidence counts half.
    pub half_life_days: f64,
    /// Strength by verb IRI.
    pub verbs: HashMap<String, f64>,
    /// Strength of a verb not listed.
    pub other_verb: f64,
    /// Strength of a failure (`failed`, or `result.success: false`); negative.
    pub failure: f64,
    /// Trust by statement source (authority credential key or token issuer).
    pub trust: HashMap<String, f64>,
    /// The decayed score from which each level (2, 3, 4, 5) starts; any positive score
    /// is level 1.
    pub level_from: [f64; 4],
}

impl Default for EvidenceWeights {
    fn default() -> Self {
        let verbs = [
            ("experienced", 0.2),
            ("attended", 0.3),
            ("attempted", 0.1),
            ("progressed", 0.15),
            ("answered", 0.1),
            ("interacted", 0.1),
            ("commented", 0.1),
            ("shared", 0.2),
            ("responded", 0.1),
            ("completed", 0.6),
            ("scored", 0.5),
            ("passed", 0.9),
            ("mastered", 1.0),
            ("launched", 0.0),
            ("initialized", 0.0),
            ("terminated", 0.0),
            ("suspended", 0.0),
            ("resumed", 0.0),
            ("registered", 0.0),
            ("voided", 0.0),
        ]
        .into_iter()
        .map(|(verb, strength)| (format!("{ADL}{verb}"), strength))
        .collect();
        EvidenceWeights {
            half_life_days: 365.0,
            verbs,
            other_verb: 0.2,
            failure: -0.3,
            trust: HashMap::new(),
            level_from: [1.0, 2.5, 5.0, 8.0],
        }
    }
}

impl EvidenceWeights {
    /// The weight of a statement as evidence for an item it is tagged with at `confidence`;
    /// `source` is the statement's authority (credential key or token issuer).
    pub fn weigh(&self, statement: &Value, confidence: f64, source: &str) -> Weight {
        let verb_id = statement
            .pointer("/verb/id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let failed = verb_id == format!("{ADL}failed")
            || statement.pointer("/result/success") == Some(&Value::Bool(false));
        let verb = if failed {
            self.failure
        } else {
            self.verbs.get(verb_id).copied().unwrap_or(self.other_verb)
        };
        let result = statement
            .pointer("/result/score/scaled")
            .and_then(Value::as_f64)
            .filter(|_| !failed)
            .map_or(1.0, |s| 0.5 + 0.5 * s.clamp(-1.0, 1.0));
        let trust = self.trust.get(source).copied().unwrap_or(1.0);
        Weight {
            verb,
            result,
            confidence,
            trust,
            value: verb * result * confidence * trust,
        }
    }

    fn half_lives_since_epoch(&self, millis: i64) -> f64 {
        (millis - EPOCH_MILLIS) as f64 / DAY_MILLIS / self.half_life_days
    }

    /// What is left of a weight after `age_millis`: 2^(−age / half-life).
    pub fn decay(&self, age_millis: i64) -> f64 {
        (-(age_millis as f64) / DAY_MILLIS / self.half_life_days).exp2()
    }

    /// A weight at `at_millis` expressed at the epoch, for sums that rank without decaying.
    pub fn normalized(&self, value: f64, at_millis: i64) -> f64 {
        value * self.half_lives_since_epoch(at_millis).exp2()
    }

    /// What a normalized sum is worth at `now_millis`.
    pub fn score_at(&self, normalized: f64, now_millis: i64) -> f64 {
        normalized * (-self.half_lives_since_epoch(now_millis)).exp2()
    }

    /// The score a level (1–5) starts at; level 1 is any positive score.
    pub fn level_start(&self, level: u8) -> f64 {
        match level {
            0 | 1 => 0.0,
            l => self.level_from[usize::from(l.min(5)) - 2],
        }
    }

    /// The level (0–5) a decayed score reaches.
    pub fn level(&self, score: f64) -> u8 {
        if score <= 0.0 {
            return 0;
        }
        1 + self
            .level_from
            .iter()
            .filter(|from| score >= **from)
            .count() as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn statement(verb: &str, result: Value) -> Value {
        json!({ "verb": { "id": format!("{ADL}{verb}") }, "result": result })
    }

    #[test]
    fn stronger_verbs_weigh_more_and_failures_count_against() {
        let w = EvidenceWeights::default();
        let weigh = |verb, result| w.weigh(&statement(verb, result), 1.0, "lms").value;
        assert!(weigh("experienced", json!({})) < weigh("attended", json!({})));
        assert!(weigh("attended", json!({})) < weigh("completed", json!({})));
        assert!(weigh("completed", json!({})) < weigh("passed", json!({})));
        assert!(weigh("passed", json!({})) < weigh("mastered", json!({})));
        assert!(weigh("failed", json!({})) < 0.0);
        assert!(weigh("completed", json!({ "success": false })) < 0.0);
        assert_eq!(weigh("launched", json!({})), 0.0);
    }

    #[test]
    fn a_weight_is_the_product_of_its_shown_factors() {
        let mut w = EvidenceWeights::default();
        w.trust.insert("linkedin".into(), 0.8);
        let s = statement(
            "passed",
            json!({ "success": true, "score": { "scaled": 0.8 } }),
        );
        let weight = w.weigh(&s, 0.75, "linkedin");
        assert_eq!((weight.verb, weight.result, weight.trust), (0.9, 0.9, 0.8));
        let product = weight.verb * weight.result * weight.confidence * weight.trust;
        assert!((weight.value - product).abs() < 1e-12);
        assert!((weight.value - 0.486).abs() < 1e-12);
    }

    #[test]
    fn evidence_halves_every_half_life_and_normalized_sums_keep_their_order() {
        let w = EvidenceWeights::default();
        let day = DAY_MILLIS as i64;
        let then = EPOCH_MILLIS + 1000 * day;
        let year_later = then + 365 * day;
        let n = w.normalized(1.0, then);
        assert!((w.score_at(n, then) - 1.0).abs() < 1e-9);
        assert!((w.score_at(n, year_later) - 0.5).abs() < 1e-9);
        // Old strong evidence against recent weak evidence: the order of the normalized
        // sums is the order of the scores, at any time.
        let (old, recent) = (w.normalized(1.0, then), w.normalized(0.6, year_later));
        for now in [year_later, year_later + 3650 * day] {
            assert_eq!(old < recent, w.score_at(old, now) < w.score_at(recent, now));
        }
        assert!(old < recent);
    }

    #[test]
    fn levels_follow_the_thresholds() {
        let w = EvidenceWeights::default();
        let levels: Vec<u8> = [-1.0, 0.0, 0.1, 1.0, 3.0, 5.0, 20.0]
            .iter()
            .map(|s| w.level(*s))
            .collect();
        assert_eq!(levels, [0, 0, 1, 2, 3, 4, 5]);
    }
}
