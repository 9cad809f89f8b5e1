//! Voiding: voiding statements, what queries return for voided and voiding statements.

use crate::check::Check;

pub fn checks() -> Vec<Check> {
    Vec::new()
}
