//! Authentication: requests without or with bad credentials.

use crate::check::Check;

pub fn checks() -> Vec<Check> {
    Vec::new()
}
