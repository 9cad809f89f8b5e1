//! Signed statements: JWS signature attachments the LRS must accept or reject.

use crate::check::Check;

pub fn checks() -> Vec<Check> {
    Vec::new()
}
