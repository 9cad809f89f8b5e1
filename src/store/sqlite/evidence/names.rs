//! The evidence file keeps each identity, item, activity and verb once, in a table per
//! kind, and by id everywhere else: the rows the evidence thread writes at random are then
//! a fraction of their size. Readers name them back in SQL (`name_of`, `id_of`) or look
//! up the ids of the names they are asked about (`found`). People stay by name (see
//! evidence-schema.sql).

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};

/// A kind of name, kept in its own table: the few items, activities and verbs readers
/// name back share a handful of pages rather than those of 100 000 identities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store::sqlite) enum Kind {
    Item,
    Identity,
    Activity,
    Verb,
}

impl Kind {
    const ALL: usize = 4;

    const fn table(self) -> &'static str {
        match self {
            Kind::Item => "item_names",
            Kind::Identity => "identity_names",
            Kind::Activity => "activity_names",
            Kind::Verb => "verb_names",
        }
    }
}

/// The id of the empty activity name: an evidence row without an activity.
pub(super) const NO_ACTIVITY: i64 = 0;

/// Ids of names, looked up or made as a batch first meets them.
#[derive(Default)]
pub(super) struct Names {
    known: [HashMap<String, i64>; Kind::ALL],
}

impl Names {
    /// The id of `name`, made if the file has none yet.
    pub fn id(&mut self, conn: &Connection, kind: Kind, name: &str) -> rusqlite::Result<i64> {
        let known = &mut self.known[kind as usize];
        if let Some(id) = known.get(name) {
            return Ok(*id);
        }
        let table = kind.table();
        let found: Option<i64> = conn
            .prepare_cached(&format!("SELECT id FROM {table} WHERE name = ?1"))?
            .query_row([name], |r| r.get(0))
            .optional()?;
        let id = match found {
            Some(id) => id,
            None => {
                conn.prepare_cached(&format!("INSERT INTO {table} (name) VALUES (?1)"))?
                    .execute([name])?;
                conn.last_insert_rowid()
            }
        };
        known.insert(name.to_owned(), id);
        Ok(id)
    }
}

/// SQL for the name whose id is in `column`, of the evidence file attached as `db`.
pub(in crate::store::sqlite) fn name_of(db: &str, kind: Kind, column: &str) -> String {
    format!(
        "(SELECT name FROM {db}.{} WHERE id = {column})",
        kind.table()
    )
}

/// SQL for the id of the name in `param` (NULL, which matches nothing, when the file has
/// no such name).
pub(in crate::store::sqlite) fn id_of(db: &str, kind: Kind, param: &str) -> String {
    format!(
        "(SELECT id FROM {db}.{} WHERE name = {param})",
        kind.table()
    )
}

/// The id of `name` in the evidence file attached as `db` (None: no row there names it).
pub(in crate::store::sqlite) fn find(
    conn: &Connection,
    db: &str,
    kind: Kind,
    name: &str,
) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(&format!(
        "SELECT id FROM {db}.{} WHERE name = ?1",
        kind.table()
    ))?
    .query_row([name], |r| r.get(0))
    .optional()
}

/// The names of `names` that the evidence file a reader attaches as `derived` has, each
/// with its id.
pub(in crate::store::sqlite) fn found(
    conn: &Connection,
    kind: Kind,
    names: Vec<String>,
) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        if let Some(id) = find(conn, "derived", kind, &name)? {
            out.push((name, id));
        }
    }
    Ok(out)
}
