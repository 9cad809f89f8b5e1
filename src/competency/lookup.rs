//! Finding a competency item by what a client calls it: its IRI, or its code.

use super::{Competencies, CompetencyError, CompetencyResult};
use crate::store::TenantId;

impl Competencies {
    /// The IRI of the item `reference` names in an active framework: its IRI, or its code
    /// (any case).
    pub async fn item_iri(&self, tenant: TenantId, reference: &str) -> CompetencyResult<String> {
        let tagger = self.tagger(tenant).await?;
        if tagger.item(reference).is_some() {
            return Ok(reference.to_owned());
        }
        let by_code = tagger
            .items()
            .find(|i| {
                i.code
                    .as_deref()
                    .is_some_and(|c| c.eq_ignore_ascii_case(reference))
            })
            .map(|i| i.iri.clone());
        by_code.ok_or_else(|| {
                CompetencyError::NotFound(format!(
                    "no item {reference} in an active framework (give its IRI, percent-encoded, or its code)"
                ))
            })
    }
}
