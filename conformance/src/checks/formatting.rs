//! The data model rules of every object type: invalid inputs the LRS must reject and valid ones it must accept.

use crate::check::Check;

pub fn checks() -> Vec<Check> {
    Vec::new()
}
