//! From evidence rows to explained scores: what each statement contributes now, a score
//! that is exactly the sum of its proofs, levels and trends.

use serde::Serialize;

use super::weights::{EvidenceWeights, Weight};
use super::EvidenceItem;
use crate::xapi::time::format_millis;

/// How far back a trend looks.
pub const TREND_DAYS: i64 = 90;

const DAY_MILLIS: i64 = 86_400_000;

/// The sum of `values`, starting from +0.0: `Iterator::sum` of floats starts from −0.0,
/// so an empty sum would be answered as `-0.0`.
pub fn total(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(0.0, |sum, v| sum + v)
}

/// One statement's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proof {
    pub statement: String,
    /// The object activity (absent when the object is not an Activity).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub activity: String,
    pub verb: String,
    /// When it happened (timestamp, else stored).
    pub at: String,
    pub weight: Weight,
    /// 2^(−age / half-life): what is left of the weight now.
    pub decay: f64,
    /// weight.value × decay; the proofs' contributions add up to the score.
    pub contribution: f64,
    /// `instructor` or `author` for teaching evidence (absent: the person did it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
}

/// The part a person played in the statement of a proof, from its evidence verb.
pub fn role_of(verb: &str) -> Option<&'static str> {
    match verb {
        super::weights::TAUGHT => Some("instructor"),
        super::weights::AUTHORED => Some("author"),
        _ => None,
    }
}

/// The proofs not listed, summed, so that listed + rest = score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OtherProofs {
    pub count: u64,
    pub contribution: f64,
}

/// Which way a score moved over the last [`TREND_DAYS`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trend {
    pub days: i64,
    /// The score then (evidence up to then, decayed to then).
    pub then: f64,
    /// Score now − score then.
    pub change: f64,
    pub direction: &'static str,
}

/// A score with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub score: f64,
    pub level: u8,
    pub evidence: u64,
    pub first: String,
    pub last: String,
    pub trend: Trend,
    pub proofs: Vec<Proof>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_proofs: Option<OtherProofs>,
}

/// What an item's evidence is worth at `now_millis`, with its strongest `proof_limit`
/// proofs (by absolute contribution) and the rest summed. `None` without evidence.
pub fn score<'a>(
    items: impl IntoIterator<Item = &'a EvidenceItem>,
    weights: &EvidenceWeights,
    now_millis: i64,
    proof_limit: usize,
) -> Option<Scored> {
    let items: Vec<&EvidenceItem> = items.into_iter().collect();
    let first = items.iter().map(|e| e.at_millis).min()?;
    let last = items.iter().map(|e| e.at_millis).max()?;
    let mut proofs: Vec<Proof> = items
        .iter()
        .map(|e| {
            let decay = weights.decay(now_millis - e.at_millis);
            Proof {
                statement: e.statement.clone(),
                activity: e.activity.clone(),
                verb: e.verb.clone(),
                at: format_millis(e.at_millis),
                weight: e.weight,
                decay,
                contribution: e.weight.value * decay,
                role: role_of(&e.verb),
            }
        })
        .collect();
    let score = total(proofs.iter().map(|p| p.contribution));
    let trend = trend(&items, score, weights, now_millis);
    proofs.sort_by(|a, b| {
        b.contribution
            .abs()
            .total_cmp(&a.contribution.abs())
            .then_with(|| a.statement.cmp(&b.statement))
    });
    let rest = proofs.split_off(proof_limit.min(proofs.len()));
    let other_proofs = (!rest.is_empty()).then(|| OtherProofs {
        count: rest.len() as u64,
        contribution: total(rest.iter().map(|p| p.contribution)),
    });
    Some(Scored {
        score,
        level: weights.level(score),
        evidence: items.len() as u64,
        first: format_millis(first),
        last: format_millis(last),
        trend,
        proofs,
        other_proofs,
    })
}

fn trend(
    items: &[&EvidenceItem],
    now_score: f64,
    weights: &EvidenceWeights,
    now_millis: i64,
) -> Trend {
    let then_millis = now_millis - TREND_DAYS * DAY_MILLIS;
    let then = total(
        items
            .iter()
            .filter(|e| e.at_millis <= then_millis)
            .map(|e| e.weight.value * weights.decay(then_millis - e.at_millis)),
    );
    let change = now_score - then;
    let direction = if change > 0.01 {
        "rising"
    } else if change < -0.01 {
        "falling"
    } else {
        "steady"
    };
    Trend {
        days: TREND_DAYS,
        then,
        change,
        direction,
    }
}

/// How much more often two items go together in people's evidence than chance:
/// P(both) / (P(a) × P(b)) over `population` people.
pub fn lift(both: u64, a: u64, b: u64, population: u64) -> f64 {
    if a == 0 || b == 0 {
        return 0.0;
    }
    (both as f64 * population as f64) / (a as f64 * b as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::Outcome;

    fn item(statement: &str, value: f64, at_millis: i64) -> EvidenceItem {
        EvidenceItem {
            statement: statement.into(),
            identity: "mbox:mailto:a@example.com".into(),
            item: "urn:i".into(),
            activity: "https://a.example.com/1".into(),
            verb: "http://adlnet.gov/expapi/verbs/completed".into(),
            outcome: Outcome::default(),
            weight: Weight {
                verb: value,
                result: 1.0,
                confidence: 1.0,
                trust: 1.0,
                value,
            },
            at_millis,
            normalized: 0.0,
        }
    }

    /// Evidence newer than the trend window: the score then is zero, answered as `0`,
    /// never `-0.0`.
    #[test]
    fn a_trend_with_nothing_before_its_window_starts_at_positive_zero() {
        let w = EvidenceWeights::default();
        let now = 1_790_000_000_000;
        let s = score(&[item("s1", 0.9, now - DAY_MILLIS)], &w, now, 5).unwrap();
        let json = serde_json::to_value(&s.trend).unwrap();
        assert_eq!(json["then"].to_string(), "0.0");
        assert!(s.trend.then.is_sign_positive());
    }

    #[test]
    fn listed_proofs_and_the_rest_add_up_to_the_score() {
        let w = EvidenceWeights::default();
        let now = 1_790_000_000_000;
        let day = DAY_MILLIS;
        let items = [
            item("s1", 0.9, now - 10 * day),
            item("s2", 0.6, now - 400 * day),
            item("s3", -0.3, now - 5 * day),
            item("s4", 0.2, now - 100 * day),
        ];
        let s = score(&items, &w, now, 2).unwrap();
        assert_eq!(s.proofs.len(), 2);
        assert_eq!(s.proofs[0].statement, "s1", "strongest first");
        let listed: f64 = s.proofs.iter().map(|p| p.contribution).sum();
        let rest = s.other_proofs.unwrap();
        assert_eq!(rest.count, 2);
        assert!((listed + rest.contribution - s.score).abs() < 1e-12);
        let year_old = 0.6 * 2f64.powf(-400.0 / 365.0);
        assert_eq!(s.proofs[1].statement, "s3", "a failure counts by its size");
        let all = score(&items, &w, now, 10).unwrap();
        let s2 = all.proofs.iter().find(|p| p.statement == "s2").unwrap();
        assert!((s2.contribution - year_old).abs() < 1e-12);
        assert_eq!(s.evidence, 4);
        // 90 days ago only s2 and s4 existed.
        let then = 0.6 * 2f64.powf(-310.0 / 365.0) + 0.2 * 2f64.powf(-10.0 / 365.0);
        assert!((s.trend.then - then).abs() < 1e-9);
        assert_eq!(s.trend.direction, "rising");
    }

    #[test]
    fn lift_compares_with_chance() {
        assert_eq!(lift(10, 10, 10, 100), 10.0);
        assert_eq!(lift(1, 10, 10, 100), 1.0);
        assert_eq!(lift(0, 0, 10, 100), 0.0);
    }
}
