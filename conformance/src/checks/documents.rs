//! The document resources (state, activity profile, agent profile): GET/PUT/POST/DELETE, id lists and `since`.

use crate::check::Check;

pub fn checks() -> Vec<Check> {
    Vec::new()
}
