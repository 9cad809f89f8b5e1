//! How much one tag of one statement says about its actor: the weight of an evidence item,
//! and how evidence fades with time.
//!
//! weight = verb strength × result factor × tag confidence × source trust, where
//! - the verb strength says how much the activity shows (experienced < attended <
//!   completed < passed < mastered); `failed`, or any result with `success: false`, uses
//!   the (negative) failure strength, so it counts against;
//! - the result factor is 0.5 + 0.5 × `result.score.scaled` when a score is given (a pass
//!   at 90 % counts 0.95 of a pass), else 1; for a video watched (a statement in the shape of
//!   the xAPI Video profile, `https://w3id.org/xapi/video`, whose result carries the profile's
//!   `progress` extension) it is progress^`video_progress_exponent` instead, so a talk watched
//!   to 80 % counts 16 times one left at 5 % (exponent 1);
//! - the source trust is set per statement authority (a credential key or a token's
//!   issuer), default 1.
//!
//! A video session shows something only when it ends: `played`, `paused` and `seeked` are
//! navigation (strength 0); `completed` counts with its verb strength; `terminated` below
//! the completion threshold (the profile's `completion-threshold` context extension, else 1)
//! counts with the `video_partial` strength, so a session that ends at 80 % is evidence while
//! one that ends after `completed` is not counted twice.
//!
//! Evidence decays with one half-life: worth w at time t, it is worth
//! w × 2^(−(now − t) / half-life) later. Because every item decays at the same rate, the
//! order of sums never changes with time, so sums are kept *normalized* to a fixed epoch
//! (w × 2^((t − epoch) / half-life)) and an index on them ranks people at any moment; the
//! score now is the normalized sum × 2^(−(now − epoch) / half-life).

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::xapi::json::at;

pub use crate::store::evidence::Weight;

pub use crate::store::evidence::{LevelScale, EPOCH_MILLIS};

const DAY_MILLIS: f64 = 86_400_000.0;

const ADL: &str = "http://adlnet.gov/expapi/verbs/";

/// The xAPI Video profile's verbs and extensions (https://w3id.org/xapi/video).
pub const VIDEO_VERBS: &str = "https://w3id.org/xapi/video/verbs/";
pub const VIDEO_PROGRESS: &str = "https://w3id.org/xapi/video/extensions/progress";
pub const VIDEO_COMPLETION_THRESHOLD: &str =
    "https://w3id.org/xapi/video/extensions/completion-threshold";

/// The verb of the evidence a statement gives the person named in its `context.instructor`
/// (never a statement's verb: it marks teaching evidence, shown with `"role": "instructor"`).
pub const TAUGHT: &str = "https://w3id.org/lrsgate/verbs/taught";
/// The verb of the evidence an activity's author gets when others complete it (`"role":
/// "author"`).
pub const AUTHORED: &str = "https://w3id.org/lrsgate/verbs/authored";
/// Where a statement names the author of its object activity: this extension, an Agent, in
/// the statement's `context.extensions` or the activity definition's `extensions`.
pub const AUTHOR_EXTENSION: &str = "https://w3id.org/lrsgate/extensions/author";
/// The shipped framework's "Delivering training" item, which teaching is evidence for.
pub const DELIVERING_TRAINING: &str =
    "https://w3id.org/lrsgate/frameworks/wlp/aoe/delivering-training";

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
    /// A watched video's result factor is its progress (0–1) to this power: 1 weighs in
    /// proportion to what was watched, more than 1 favours watching to the end.
    pub video_progress_exponent: f64,
    /// Strength of a video session that ended (`terminated`) short of completion.
    pub video_partial: f64,
    /// Strength of the evidence an instructor (or author) gets from a learner's statement
    /// that is evidence for the learner.
    pub teaching: f64,
    /// The item teaching is always evidence for (besides the items taught).
    pub teaching_item: String,
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
        .chain(
            // Moving about in a video shows nothing by itself.
            ["played", "paused", "seeked"]
                .into_iter()
                .map(|verb| (format!("{VIDEO_VERBS}{verb}"), 0.0)),
        )
        .collect();
        EvidenceWeights {
            half_life_days: 365.0,
            verbs,
            other_verb: 0.2,
            failure: -0.3,
            trust: HashMap::new(),
            level_from: [1.0, 2.5, 5.0, 8.0],
            video_progress_exponent: 1.0,
            video_partial: 0.6,
            teaching: 0.5,
            teaching_item: DELIVERING_TRAINING.to_owned(),
        }
    }
}

impl EvidenceWeights {
    /// The weight of a statement as evidence for an item it is tagged with at `confidence`;
    /// `source` is the statement's authority (credential key or token issuer).
    pub fn weigh(&self, statement: &Value, confidence: f64, source: &str) -> Weight {
        let verb_id = at(statement, "/verb/id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let failed = verb_id.strip_prefix(ADL) == Some("failed")
            || at(statement, "/result/success") == Some(&Value::Bool(false));
        let progress = video_progress(statement);
        let verb = if failed {
            self.failure
        } else if progress.is_some_and(|p| {
            verb_id.strip_prefix(ADL) == Some("terminated")
                && p < video_completion_threshold(statement)
        }) {
            self.video_partial
        } else {
            self.verbs.get(verb_id).copied().unwrap_or(self.other_verb)
        };
        let result = match progress {
            Some(p) if !failed => p.powf(self.video_progress_exponent),
            _ => at(statement, "/result/score/scaled")
                .and_then(Value::as_f64)
                .filter(|_| !failed)
                .map_or(1.0, |s| 0.5 + 0.5 * s.clamp(-1.0, 1.0)),
        };
        let trust = self.trust.get(source).copied().unwrap_or(1.0);
        Weight {
            verb,
            result,
            confidence,
            trust,
            value: verb * result * confidence * trust,
        }
    }

    /// The weight of teaching evidence for an item tagged at `confidence`.
    pub fn teaching_weight(&self, confidence: f64, source: &str) -> Weight {
        let trust = self.trust.get(source).copied().unwrap_or(1.0);
        Weight {
            verb: self.teaching,
            result: 1.0,
            confidence,
            trust,
            value: self.teaching * confidence * trust,
        }
    }

    /// The result factor a video watched to `progress` (0–1) gets.
    pub fn video_factor(&self, progress: f64) -> f64 {
        progress.clamp(0.0, 1.0).powf(self.video_progress_exponent)
    }

    /// The half-life and level thresholds, whose arithmetic the store shares.
    pub fn scale(&self) -> LevelScale {
        LevelScale {
            half_life_days: self.half_life_days,
            level_from: self.level_from,
        }
    }

    /// What is left of a weight after `age_millis`: 2^(−age / half-life).
    pub fn decay(&self, age_millis: i64) -> f64 {
        (-(age_millis as f64) / DAY_MILLIS / self.half_life_days).exp2()
    }

    /// A weight at `at_millis` expressed at the epoch, for sums that rank without decaying.
    pub fn normalized(&self, value: f64, at_millis: i64) -> f64 {
        self.scale().normalized(value, at_millis)
    }

    /// What a normalized sum is worth at `now_millis`.
    pub fn score_at(&self, normalized: f64, now_millis: i64) -> f64 {
        self.scale().score_at(normalized, now_millis)
    }

    /// The score a level (1–5) starts at; level 1 is any positive score.
    pub fn level_start(&self, level: u8) -> f64 {
        self.scale().level_start(level)
    }

    /// The level (0–5) a decayed score reaches.
    pub fn level(&self, score: f64) -> u8 {
        self.scale().level(score)
    }
}

/// The watched fraction (0–1) of a statement in the Video profile's shape: its result's
/// `progress` extension (a number, or a numeric string as some players send it).
fn video_progress(statement: &Value) -> Option<f64> {
    let value = at(statement, "/result/extensions")?.get(VIDEO_PROGRESS)?;
    let progress = match value {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    progress.is_finite().then(|| progress.clamp(0.0, 1.0))
}

/// The progress at which the player counts the video completed (1 when not given).
fn video_completion_threshold(statement: &Value) -> f64 {
    at(statement, "/context/extensions")
        .and_then(|e| e.get(VIDEO_COMPLETION_THRESHOLD))
        .and_then(Value::as_f64)
        .filter(|t| t.is_finite() && *t > 0.0)
        .map_or(1.0, |t| t.min(1.0))
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

    fn watched(verb: &str, progress: Value, threshold: Option<f64>) -> Value {
        let verb = if verb == "terminated" || verb == "completed" {
            format!("{ADL}{verb}")
        } else {
            format!("{VIDEO_VERBS}{verb}")
        };
        let mut context = json!({ "contextActivities": { "category": [{ "id": "https://w3id.org/xapi/video" }] } });
        if let Some(t) = threshold {
            context["extensions"] = json!({ VIDEO_COMPLETION_THRESHOLD: t });
        }
        json!({
            "verb": { "id": verb },
            "result": { "extensions": { VIDEO_PROGRESS: progress, "https://w3id.org/xapi/video/extensions/played-segments": "0[.]12.5" } },
            "context": context,
        })
    }

    /// xAPI Video profile (https://w3id.org/xapi/video): `progress` is the watched fraction
    /// 0–1, sent with every event; a session ends with `terminated`.
    #[test]
    fn a_video_watched_to_80_percent_counts_16_times_one_left_at_5_percent() {
        let w = EvidenceWeights::default();
        let weigh = |s: &Value| w.weigh(s, 1.0, "player");
        let far = weigh(&watched("terminated", json!(0.8), None));
        let barely = weigh(&watched("terminated", json!(0.05), None));
        assert_eq!((far.verb, far.result), (0.6, 0.8));
        assert!((far.value / barely.value - 16.0).abs() < 1e-9);
        // Numeric strings, as some players send them, read the same.
        assert_eq!(weigh(&watched("terminated", json!("0.8"), None)), far);
    }

    #[test]
    fn navigation_shows_nothing_and_a_completed_video_is_not_counted_twice() {
        let w = EvidenceWeights::default();
        let weigh = |s: &Value| w.weigh(s, 1.0, "player").value;
        for verb in ["played", "paused", "seeked"] {
            assert_eq!(weigh(&watched(verb, json!(0.7), None)), 0.0, "{verb}");
        }
        assert!((weigh(&watched("completed", json!(1.0), None)) - 0.6).abs() < 1e-12);
        // `terminated` after reaching the threshold: `completed` already counted it.
        assert_eq!(weigh(&watched("terminated", json!(1.0), None)), 0.0);
        assert_eq!(weigh(&watched("terminated", json!(0.95), Some(0.9))), 0.0);
        assert!(weigh(&watched("terminated", json!(0.85), Some(0.9))) > 0.0);
    }

    #[test]
    fn the_progress_exponent_sets_how_much_watching_to_the_end_counts() {
        let w = EvidenceWeights {
            video_progress_exponent: 2.0,
            ..EvidenceWeights::default()
        };
        let ratio = w
            .weigh(&watched("terminated", json!(0.8), None), 1.0, "p")
            .value
            / w.weigh(&watched("terminated", json!(0.05), None), 1.0, "p")
                .value;
        assert!((ratio - 256.0).abs() < 1e-6);
        assert!((w.video_factor(0.5) - 0.25).abs() < 1e-12);
        // Statements outside the profile keep the score factor.
        let s = statement("passed", json!({ "score": { "scaled": 0.8 } }));
        assert_eq!(w.weigh(&s, 1.0, "lms").result, 0.9);
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
