//! `lrsgate backup PATH`: a consistent online copy of a SQLite store — the main file and
//! its evidence file — while a gateway may be writing to it.
//!
//! Both files are copied with SQLite's online backup API from one read transaction, so
//! each copy is one committed state of its file. The two states must also fit each other:
//! the evidence file records the last journal entry it applied (`applied`), and the main
//! file's journal must still hold every entry after it (the evidence thread trims what it
//! applied) and no fewer than it. So the read transaction's snapshots are taken while a
//! write transaction on the evidence file holds the evidence thread back: the journal then
//! holds every entry past `applied`, because entries are trimmed only once applied and
//! committed. The lock is held for the two snapshot reads only; the copying runs beside
//! the gateway. A restored copy's gateway applies the journal's remaining entries.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::evidence_file;

/// How long the backup waits for the gateway's evidence thread to finish a transaction.
const LOCK_WAIT: Duration = Duration::from_secs(120);

/// What a backup copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub main: PathBuf,
    /// The evidence file's copy (`None` when the store had none yet).
    pub evidence: Option<PathBuf>,
    /// Pages copied, main and evidence.
    pub pages: (i32, i32),
    /// The last journal entry the evidence copy holds, and the journal's newest entry in
    /// the main copy: the restored gateway applies the entries between.
    pub applied: i64,
    pub journal_head: i64,
}

/// Copies the store at `source` to `target` (and `<target>-evidence`). Refuses to
/// overwrite existing files.
pub fn backup(source: &Path, target: &Path) -> anyhow::Result<Copied> {
    if !source.is_file() {
        bail!("no SQLite store at {}", source.display());
    }
    let evidence_source = evidence_file(source);
    let evidence_target = evidence_file(target);
    for path in [target, evidence_target.as_path()] {
        if path.exists() {
            bail!(
                "{} exists; remove it or choose another backup path",
                path.display()
            );
        }
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating directory {}", dir.display()))?;
    }
    // Never creates a file: a missing source is an error, not an empty store.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let has_evidence = evidence_source.is_file();
    let snapshot = if has_evidence {
        let conn = open(&evidence_source, flags)?;
        let file = source.to_str().context("the database path is not UTF-8")?;
        conn.execute("ATTACH DATABASE ?1 AS lrs", [file])
            .with_context(|| format!("attaching {}", source.display()))?;
        conn
    } else {
        open(source, flags)?
    };
    // The schema name the main file has on the snapshot connection.
    let main_name = if has_evidence { "lrs" } else { "main" };

    let (applied, oldest, head) = if has_evidence {
        let lock = open(&evidence_source, flags)?;
        lock.execute_batch("BEGIN IMMEDIATE")
            .context("waiting for the evidence thread's transaction")?;
        let read = snapshot_reads(&snapshot);
        lock.execute_batch("ROLLBACK")?;
        read?
    } else {
        snapshot.execute_batch("BEGIN")?;
        // The first read fixes the snapshot.
        let head: i64 = snapshot.query_row(
            "SELECT coalesce(max(id), 0) FROM evidence_journal",
            [],
            |r| r.get(0),
        )?;
        (0, 0, head)
    };
    if has_evidence && (oldest > applied + 1 || applied > head) {
        bail!(
            "the evidence file (applied through {applied}) does not fit its journal ({oldest}..={head}); \
             back up while the gateway runs, or rebuild the evidence with `lrsgate retag`"
        );
    }

    let main_pages = copy(&snapshot, main_name, target)?;
    let evidence_pages = if has_evidence {
        Some(copy(&snapshot, "main", &evidence_target)?)
    } else {
        None
    };
    snapshot.execute_batch("COMMIT")?;
    Ok(Copied {
        main: target.to_owned(),
        evidence: has_evidence.then_some(evidence_target),
        pages: (main_pages, evidence_pages.unwrap_or(0)),
        applied,
        journal_head: head,
    })
}

fn open(path: &Path, flags: OpenFlags) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(path, flags)
        .with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(LOCK_WAIT)?;
    Ok(conn)
}

/// Opens the read transaction and fixes both files' snapshots: (applied, oldest journal
/// entry, newest journal entry).
fn snapshot_reads(conn: &Connection) -> anyhow::Result<(i64, i64, i64)> {
    conn.execute_batch("BEGIN")?;
    let applied: i64 = conn.query_row("SELECT journal FROM main.applied", [], |r| r.get(0))?;
    let (oldest, head): (i64, i64) = conn.query_row(
        "SELECT coalesce(min(id), 0), coalesce(max(id), 0) FROM lrs.evidence_journal",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok((applied, oldest, head))
}

/// Copies one database of `from` (in its open read transaction) to a new file at `to`,
/// written beside it first and renamed once complete and checked; pages copied.
fn copy(from: &Connection, name: &str, to: &Path) -> anyhow::Result<i32> {
    let mut partial = to.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    let result = (|| {
        let mut dest = Connection::open(&partial)
            .with_context(|| format!("creating {}", partial.display()))?;
        let pages = {
            let backup = Backup::new_with_names(from, name, &mut dest, "main")?;
            // All pages in one step: the source's read transaction keeps its snapshot.
            match backup.step(-1)? {
                StepResult::Done => {}
                other => bail!("copying to {} stopped: {other:?}", to.display()),
            }
            backup.progress().pagecount
        };
        let check: String = dest.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if check != "ok" {
            bail!("the copy {} failed its check: {check}", to.display());
        }
        dest.close().map_err(|(_, e)| e)?;
        std::fs::rename(&partial, to)
            .with_context(|| format!("renaming {} to {}", partial.display(), to.display()))?;
        Ok(pages)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_existing_target_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("lrs.db");
        Connection::open(&source)
            .unwrap()
            .execute_batch("CREATE TABLE evidence_journal (id INTEGER PRIMARY KEY);")
            .unwrap();
        let target = dir.path().join("copy.db");
        std::fs::write(&target, b"keep").unwrap();
        let error = backup(&source, &target).unwrap_err().to_string();
        assert!(error.contains("exists"), "{error}");
        assert_eq!(std::fs::read(&target).unwrap(), b"keep");
    }

    #[test]
    fn a_missing_store_is_an_error_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("absent.db");
        assert!(backup(&source, &dir.path().join("copy.db")).is_err());
        assert!(!source.exists());
    }
}
