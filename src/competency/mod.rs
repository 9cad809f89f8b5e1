//! Competency frameworks and the tagging of statements with the competencies and Areas of
//! Expertise they are evidence for.

pub mod case;
pub mod encoder;
mod error;
pub mod model;
pub mod rules;
pub mod semantic;
pub mod service;
pub mod tagger;
pub mod text;

pub use error::{CompetencyError, CompetencyResult};
pub use model::{default_framework, Framework, FrameworkValidator, Item, ItemKind};
pub use rules::Rule;
pub use service::{object_activity_id, Competencies};
pub use tagger::{
    ActivityFacts, Alignment, KnownItem, KnownRole, Method, Tag, Tagger, TextSettings,
};
mod lookup;
