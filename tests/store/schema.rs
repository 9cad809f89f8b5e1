//! The SQLite schema has one source: `schema.sql` (and `evidence-schema.sql`) make a fresh
//! file, the migration files upgrade older ones. These tests hold the two paths together:
//! a file of the oldest version, opened by the store, ends up with exactly the schema a
//! fresh file gets — tables, columns, constraints, indexes and the rows a schema seeds.

use std::path::Path;

use lrsgate::store::Store;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags};

/// The main file as first shipped (schema version 1).
const MAIN_V1: &str = include_str!("../fixtures/sqlite-schema-v1.sql");
/// The evidence file as first shipped (its version 1).
const EVIDENCE_V1: &str = include_str!("../fixtures/sqlite-evidence-schema-v1.sql");

/// A statement's SQL as a comparable text: comments dropped, whitespace collapsed, none
/// around punctuation (`ALTER TABLE … ADD COLUMN` splices its text in with its own
/// spacing).
fn normalized_sql(sql: &str) -> String {
    let without_comments: String = sql
        .lines()
        .map(|line| line.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ");
    let collapsed = without_comments
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = String::new();
    for c in collapsed.chars() {
        if c == ' ' && out.ends_with(['(', ',']) {
            continue;
        }
        if matches!(c, '(' | ')' | ',') && out.ends_with(' ') {
            out.pop();
        }
        out.push(c);
    }
    out
}

fn text(v: &SqlValue) -> String {
    match v {
        SqlValue::Null => "NULL".into(),
        SqlValue::Integer(n) => n.to_string(),
        SqlValue::Real(f) => f.to_string(),
        SqlValue::Text(s) => format!("'{s}'"),
        SqlValue::Blob(b) => format!("x'{}'", hex::encode(b)),
    }
}

/// Every row a query returns, as lines of `prefix` and its columns.
fn rows(conn: &Connection, sql: &str, prefix: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    let width = stmt.column_count();
    let mut lines: Vec<String> = stmt
        .query_map([], |r| {
            let values = (0..width)
                .map(|i| r.get::<_, SqlValue>(i).map(|v| text(&v)))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(format!("{prefix} {}", values.join(" | ")))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    lines.sort();
    lines
}

/// A file's schema and seeded rows, one fact a line: its version, every object's
/// normalized SQL, every table's columns (`table_xinfo`: name, type, not-null, default,
/// key position) and foreign keys, every index's columns (`index_xinfo`: order,
/// collation, key or not) and flags, and every table's rows.
fn describe(path: &Path) -> Vec<String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut facts = rows(&conn, "PRAGMA user_version", "version");
    let objects: Vec<(String, String, String, Option<String>)> = conn
        .prepare(
            "SELECT type, name, tbl_name, sql FROM sqlite_schema
             WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (kind, name, table, sql) in &objects {
        let sql = sql.as_deref().map(normalized_sql).unwrap_or_default();
        facts.push(format!("{kind} {name} on {table}: {sql}"));
        if kind == "table" {
            let quoted = format!("\"{name}\"");
            facts.extend(rows(
                &conn,
                &format!("PRAGMA table_xinfo({quoted})"),
                &format!("column of {name}:"),
            ));
            facts.extend(rows(
                &conn,
                &format!("PRAGMA foreign_key_list({quoted})"),
                &format!("foreign key of {name}:"),
            ));
            facts.extend(rows(
                &conn,
                &format!("PRAGMA index_list({quoted})"),
                &format!("index of {name}:"),
            ));
            facts.extend(rows(
                &conn,
                &format!("SELECT * FROM {quoted}"),
                &format!("row of {name}:"),
            ));
        } else if kind == "index" {
            facts.extend(rows(
                &conn,
                &format!("PRAGMA index_xinfo(\"{name}\")"),
                &format!("key of {name}:"),
            ));
        }
    }
    facts
}

/// Fails naming the facts only one side has.
fn assert_same_schema(upgraded: &[String], fresh: &[String], file: &str) {
    let missing: Vec<&String> = fresh.iter().filter(|f| !upgraded.contains(f)).collect();
    let extra: Vec<&String> = upgraded.iter().filter(|f| !fresh.contains(f)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the {file} migrated from version 1 differs from a fresh one.\n\
         Only in the fresh file:\n  {}\nOnly in the migrated file:\n  {}",
        missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  "),
        extra
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n  "),
    );
    assert_eq!(
        upgraded, fresh,
        "the {file}: the same facts in another order"
    );
}

/// Writes a file of version 1 from its shipped schema.
fn version_1_file(path: &Path, schema: &str) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "BEGIN; {schema}; PRAGMA user_version = 1; COMMIT;"
    ))
    .unwrap();
}

async fn open_and_close(path: &Path) {
    let store = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    drop(store);
}

fn evidence_file(path: &Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-evidence");
    name.into()
}

/// Promise: a main file and an evidence file of the oldest version, opened by the store,
/// are migrated to exactly the schema `schema.sql` and `evidence-schema.sql` give a
/// fresh store (so the current schema can be read in one place, and an edit to it
/// without a migration fails here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_1_files_migrate_to_the_schema_of_a_fresh_store() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.db");
    version_1_file(&old, MAIN_V1);
    version_1_file(&evidence_file(&old), EVIDENCE_V1);
    open_and_close(&old).await;
    let fresh = dir.path().join("fresh.db");
    open_and_close(&fresh).await;

    let (upgraded, made) = (describe(&old), describe(&fresh));
    assert_same_schema(&upgraded, &made, "main file");
    assert!(made.contains(&"version 14".to_owned()), "{made:?}");
    assert!(
        made.iter().any(|f| f.starts_with("table evidence_journal")),
        "{made:?}"
    );
    assert!(
        !made.iter().any(|f| f.starts_with("table evidence ")),
        "evidence rows live in the evidence file"
    );
    assert!(
        made.contains(&"row of tenants: 1 | 'default' | 0".to_owned()),
        "{made:?}"
    );

    let (upgraded, made) = (
        describe(&evidence_file(&old)),
        describe(&evidence_file(&fresh)),
    );
    assert_same_schema(&upgraded, &made, "evidence file");
    assert!(made.contains(&"version 8".to_owned()), "{made:?}");
    assert!(
        made.contains(&"row of applied: 1 | 0".to_owned()),
        "{made:?}"
    );
}

/// Promise: the comparison above sees what matters — a column's default, a missing
/// index, a constraint — and not how the SQL was laid out.
#[test]
fn the_schema_description_sees_definitions_not_layout() {
    let dir = tempfile::tempdir().unwrap();
    let describe_sql = |name: &str, sql: &str| {
        let path = dir.path().join(name);
        Connection::open(&path).unwrap().execute_batch(sql).unwrap();
        describe(&path)
    };
    let base = describe_sql(
        "a.db",
        "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL DEFAULT 'x' -- note
         , c INTEGER CHECK (c > 0)); CREATE INDEX t_b ON t (b);",
    );
    let relaid = describe_sql(
        "b.db",
        "CREATE TABLE t ( a  INTEGER PRIMARY KEY ,\n b TEXT NOT NULL DEFAULT 'x',c INTEGER CHECK (c > 0) );
         CREATE INDEX t_b ON t(b);",
    );
    assert_eq!(base, relaid);
    for (name, changed) in [
        (
            "default.db",
            "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL DEFAULT 'y', c INTEGER CHECK (c > 0));
             CREATE INDEX t_b ON t (b);",
        ),
        (
            "index.db",
            "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL DEFAULT 'x', c INTEGER CHECK (c > 0));",
        ),
        (
            "check.db",
            "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL DEFAULT 'x', c INTEGER);
             CREATE INDEX t_b ON t (b);",
        ),
        (
            "row.db",
            "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT NOT NULL DEFAULT 'x', c INTEGER CHECK (c > 0));
             CREATE INDEX t_b ON t (b); INSERT INTO t (a, c) VALUES (1, 1);",
        ),
    ] {
        assert_ne!(describe_sql(name, changed), base, "{name}");
    }
}
