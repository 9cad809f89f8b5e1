//! The LRS operations on top of the store: what the xAPI resources do, independent of HTTP.

pub mod documents;
mod error;
pub mod mixed;
pub mod statements;

pub use error::{LrsError, LrsResult};

use std::sync::Arc;

use crate::competency::tagger::TextSettings;
use crate::competency::Competencies;
use crate::config::Settings;
use crate::evidence::{Evidence, EvidenceWeights, Feed, People};
use crate::ingest::{Derivation, Ingest};
use crate::store::Store;
use crate::xapi::Validator;

#[derive(Clone)]
pub struct Lrs {
    pub store: Store,
    pub validator: Arc<Validator>,
    /// Frameworks, rules, the catalog and tags.
    pub competencies: Arc<Competencies>,
    /// The pipeline every statement is stored through.
    pub ingest: Arc<Ingest>,
    pub people: People,
    /// Skill-evidence answers.
    pub evidence: Evidence,
    /// New evidence, for stream subscribers.
    pub feed: Feed,
}

impl Lrs {
    /// The services as the settings configure them: text-tagging threshold, tagging and
    /// evidence at ingest, evidence weights.
    pub fn from_settings(store: Store, settings: &Settings) -> anyhow::Result<Self> {
        let text = TextSettings {
            threshold: settings.tagging_text_threshold,
            ..TextSettings::default()
        };
        let competencies = Competencies::new(store.clone(), text, settings.tagging)?;
        let derivation = Derivation {
            weights: settings.evidence.clone(),
            record_evidence: settings.evidence_recording,
        };
        Ok(Self::new(
            store,
            Arc::new(Validator::new()?),
            Arc::new(competencies),
            derivation,
        ))
    }

    pub fn new(
        store: Store,
        validator: Arc<Validator>,
        competencies: Arc<Competencies>,
        derivation: Derivation,
    ) -> Self {
        let people = People::new(store.clone());
        let feed = Feed::default();
        let weights: EvidenceWeights = derivation.weights.clone();
        let ingest = Ingest::new(
            store.clone(),
            validator.clone(),
            competencies.clone(),
            derivation,
            people.clone(),
            feed.clone(),
        );
        Lrs {
            evidence: Evidence::new(store.clone(), competencies.clone(), people.clone(), weights),
            ingest: Arc::new(ingest),
            feed,
            people,
            store,
            validator,
            competencies,
        }
    }
}
pub mod queries;
