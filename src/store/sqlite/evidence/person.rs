//! How the evidence file keeps a person: an id in the canonical UUID form (lowercase,
//! hyphenated), which every person derived from an identity has, as its 16 bytes; any
//! other id as its text. The rows the evidence thread writes at random (the index of a
//! person's rows, the sums and their ranking, the spans) are keyed by person, so each
//! entry is 20 bytes shorter, and a reader still gets the name back from the row itself:
//! a ranking reads thousands of people, and a lookup of each would cost it more than the
//! whole read.
//!
//! The 16 bytes of canonical UUIDs sort as their text does, so rows keep their order by
//! person among UUIDs (text sorts before any bytes in SQLite).

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, Value, ValueRef};
use uuid::Uuid;

/// A person id, bound as the evidence file keeps it.
pub(in crate::store::sqlite) struct PersonKey<'a>(pub &'a str);

impl ToSql for PersonKey<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match canonical_uuid(self.0) {
            Some(bytes) => ToSqlOutput::Owned(Value::Blob(bytes.to_vec())),
            None => ToSqlOutput::Borrowed(ValueRef::Text(self.0.as_bytes())),
        })
    }
}

/// A person id read from the evidence file.
pub(in crate::store::sqlite) struct PersonName(pub String);

impl FromSql for PersonName {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Blob(bytes) => Uuid::from_slice(bytes)
                .map(|id| PersonName(id.hyphenated().to_string()))
                .map_err(|e| FromSqlError::Other(Box::new(e))),
            ValueRef::Text(_) => String::column_result(value).map(PersonName),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

/// The bytes of `id` when it is a UUID that reads back as the same text: hyphens where
/// the hyphenated form has them and lowercase hex digits elsewhere. The shape is checked
/// first, so ids of other forms cost no parse (this runs for every row bound).
fn canonical_uuid(id: &str) -> Option<[u8; 16]> {
    let text = id.as_bytes();
    if text.len() != 36 {
        return None;
    }
    let canonical = text.iter().enumerate().all(|(i, &c)| match i {
        8 | 13 | 18 | 23 => c == b'-',
        _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
    });
    if !canonical {
        return None;
    }
    Uuid::try_parse_ascii(text).ok().map(|u| *u.as_bytes())
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    fn round_trip(conn: &Connection, id: &str) -> (String, String) {
        conn.query_row("SELECT ?1, typeof(?1)", [PersonKey(id)], |r| {
            Ok((r.get::<_, PersonName>(0)?.0, r.get(1)?))
        })
        .unwrap()
    }

    /// Every person id reads back as it was bound; only the canonical UUID form is kept
    /// as bytes (an upper-case or braced UUID would read back in another form).
    #[test]
    fn a_person_reads_back_as_it_was_bound() {
        let conn = Connection::open_in_memory().unwrap();
        let derived = crate::store::people::own_person("mbox:mailto:ann@example.com");
        for (id, kept_as) in [
            (derived.as_str(), "blob"),
            ("00000000-0000-0000-0000-000000000000", "blob"),
            ("6FA459EA-EE8A-3CA4-894E-DB77E160355E", "text"),
            ("{6fa459ea-ee8a-3ca4-894e-db77e160355e}", "text"),
            ("6fa459eaee8a3ca4894edb77e160355e", "text"),
            ("6fa459ea-ee8a-3ca4-894e-db77e160355g", "text"),
            ("ann", "text"),
            ("", "text"),
        ] {
            assert_eq!(round_trip(&conn, id), (id.to_owned(), kept_as.to_owned()));
        }
    }

    /// Canonical UUIDs keep their text's order as bytes, so keyset reads by person and
    /// rankings that tie on everything else order people as before.
    #[test]
    fn uuid_bytes_sort_as_their_text() {
        let conn = Connection::open_in_memory().unwrap();
        let mut ids: Vec<String> = (0..200)
            .map(|i| crate::store::people::own_person(&format!("mbox:mailto:p{i}@example.com")))
            .collect();
        conn.execute_batch("CREATE TABLE t (p BLOB)").unwrap();
        for id in &ids {
            conn.execute("INSERT INTO t VALUES (?1)", [PersonKey(id)])
                .unwrap();
        }
        let sorted: Vec<String> = conn
            .prepare("SELECT p FROM t ORDER BY p")
            .unwrap()
            .query_map([], |r| r.get::<_, PersonName>(0).map(|p| p.0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        ids.sort();
        assert_eq!(sorted, ids);
    }
}
