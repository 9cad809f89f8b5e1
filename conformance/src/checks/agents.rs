//! The Agents resource: the Person object of an agent.

use crate::check::Check;

pub fn checks() -> Vec<Check> {
    Vec::new()
}
