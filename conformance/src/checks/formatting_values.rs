//! Formatting of a statement's values: result and score, context, timestamps and durations,
//! language maps, IRIs, UUIDs, extensions, version and attachment objects — the invalid
//! values an LRS must reject and the valid ones it must accept. (`formatting` holds the
//! actor, verb and object rules.)

use crate::check::Check;

pub fn checks() -> Vec<Check> {
    Vec::new()
}
