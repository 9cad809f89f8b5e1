//! Attachments: multipart/mixed statements with attachment parts, fileUrl attachments, and attachments in answers.

use crate::check::Check;

pub fn checks() -> Vec<Check> {
    Vec::new()
}
