//! The embedded default store: one SQLite file in WAL mode, a single group-committing
//! writer thread and a small pool of read connections; beside it, the evidence file
//! (`<file>-evidence`), derived from the main file's evidence journal by a thread of its
//! own.

mod accounts;
mod activity_map;
pub mod backup;
mod bucket_filters;
mod competency;
mod connectors;
mod documents;
mod evidence;
mod keys;
mod opportunities;
mod ops;
mod people;
mod privacy;
mod readers;
mod statements;
mod transfer;
pub mod writer;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde_json::Value;

use super::evidence::LevelScale;
use super::{ActorStore, StoreError, StoreResult, TenantId};
use bucket_filters::BucketFilters;
use evidence::EvidenceSync;
use readers::{InPlace, Readers};
use writer::{QueueGauge, Writer};

const READERS: usize = 4;

/// A database file's schema: the current version in full, which a fresh file is made
/// from, and the upgrades that bring a file of each older version to it. `PRAGMA
/// user_version` records a file's version.
struct Schema {
    current: &'static str,
    /// `upgrades[i]` takes a file from version `i + 1` to `i + 2`. Shipped upgrades never
    /// change: files of every version must keep arriving at `current`.
    upgrades: &'static [&'static str],
}

impl Schema {
    const fn version(&self) -> usize {
        self.upgrades.len() + 1
    }
}

/// The main file.
const MAIN_SCHEMA: Schema = Schema {
    current: include_str!("schema.sql"),
    upgrades: &[
        include_str!("migration-2.sql"),
        include_str!("migration-3.sql"),
        include_str!("migration-4.sql"),
        include_str!("migration-5.sql"),
        include_str!("migration-6.sql"),
        include_str!("migration-7.sql"),
        include_str!("migration-8.sql"),
        include_str!("migration-9.sql"),
        include_str!("migration-10.sql"),
        include_str!("migration-11.sql"),
        include_str!("migration-12.sql"),
        include_str!("migration-13.sql"),
        include_str!("migration-14.sql"),
    ],
};

/// The evidence file.
const EVIDENCE_SCHEMA: Schema = Schema {
    current: include_str!("evidence-schema.sql"),
    upgrades: &[
        include_str!("evidence-migration-2.sql"),
        include_str!("evidence-migration-3.sql"),
        include_str!("evidence-migration-4.sql"),
        include_str!("evidence-migration-5.sql"),
        include_str!("evidence-migration-6.sql"),
        include_str!("evidence-migration-7.sql"),
        include_str!("evidence-migration-8.sql"),
    ],
};

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Writer,
    readers: Readers,
    /// What the sealed index buckets hold, so lookups pass over the others.
    filters: Arc<BucketFilters>,
    /// For the point reads every request makes.
    in_place: InPlace,
    evidence: Arc<EvidenceSync>,
    /// The scale the evidence file's upskilling aggregates follow.
    levels: LevelScale,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.evidence.stop();
        self.filters.stop();
    }
}

fn backend(e: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Backend(e.into())
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.into())
    }
}

/// The SQLite page caches' budget when none is given, in MiB.
pub const DEFAULT_CACHE_MIB: u32 = 16;

/// The bucket filters' budget when none is given, in MiB: the agents' filters of about
/// 900 buckets (7 million statements over 100 000 people, about 9 KB each).
pub const DEFAULT_FILTER_MIB: u32 = 8;

/// Page cache per connection, in KiB, shared out of a budget: the writer's holds the hot
/// index pages of statements (half); the evidence thread's, the hot pages of the sums (a
/// fifth); readers lean on the operating system's file cache and share the rest. The
/// checkpointer and the evidence thread's view of the journal need next to none.
#[derive(Debug, Clone, Copy, PartialEq)]
struct CacheSizes {
    writer: u32,
    evidence: u32,
    reader: u32,
    reader_evidence: u32,
}

const CHECKPOINT_CACHE_KIB: u32 = 1_000;
/// The bucket filters' thread reads each bucket's keys once, in order.
const FILTER_BUILD_CACHE_KIB: u32 = 500;
/// Credentials and the like: a few pages.
const IN_PLACE_CACHE_KIB: u32 = 200;
const JOURNAL_CACHE_KIB: u32 = 500;

impl CacheSizes {
    fn of_budget(mib: u32) -> Self {
        let kib = mib.max(1).saturating_mul(1024);
        let readers = kib * 3 / 10 / READERS as u32;
        CacheSizes {
            writer: kib / 2,
            evidence: kib / 5,
            reader: readers * 7 / 10,
            reader_evidence: readers * 3 / 10,
        }
    }
}

fn open_connection(path: &Path, flags: OpenFlags, cache_kib: u32) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(path, flags)
        .with_context(|| format!("opening SQLite database {}", path.display()))?;
    // FULL: a commit is on disk before the writer answers, so a 2xx survives power loss.
    // The size limit cuts a log that restarts back to its usual size on disk.
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA busy_timeout = 10000;
         PRAGMA cache_size = -{cache_kib};
         PRAGMA journal_size_limit = {wal_limit};
         PRAGMA temp_store = MEMORY;",
        wal_limit = WAL_RESTART_FRAMES * 4096
    ))
    .context("configuring SQLite connection")?;
    // Room for every statement a connection runs: past the default 16, reads of varied
    // kinds evict each other's and are parsed again on every call.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 128;

/// Makes a fresh file's schema in one step, or upgrades an older file one version at a
/// time (each in its own transaction). A file of a newer version is left as it is.
fn migrate(conn: &Connection, schema: &Schema) -> anyhow::Result<()> {
    keys::register_key_hash(conn)?;
    let found: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found == 0 {
        let script = format!(
            "BEGIN; {}; PRAGMA user_version = {}; COMMIT;",
            schema.current,
            schema.version()
        );
        return conn
            .execute_batch(&script)
            .with_context(|| format!("creating schema version {}", schema.version()));
    }
    for (i, sql) in schema.upgrades.iter().enumerate().skip(found - 1) {
        let version = i + 2;
        let script = format!("BEGIN; {sql}; PRAGMA user_version = {version}; COMMIT;");
        conn.execute_batch(&script)
            .with_context(|| format!("applying migration {version}"))?;
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and runs pending migrations.
    pub async fn open(path: &str) -> anyhow::Result<Self> {
        Self::open_with(
            path,
            writer::DEFAULT_CAPACITY,
            DEFAULT_CACHE_MIB,
            DEFAULT_FILTER_MIB,
            None,
        )
        .await
    }

    /// `open`, with the writer admitting at most `write_queue` requests at once and
    /// `cache_mib` MiB of page caches across the connections, and the upskilling
    /// aggregates kept for `levels` (None: for the scale they were built with).
    pub async fn open_with(
        path: &str,
        write_queue: usize,
        cache_mib: u32,
        filter_mib: u32,
        levels: Option<LevelScale>,
    ) -> anyhow::Result<Self> {
        let path = Path::new(path).to_owned();
        let caches = CacheSizes::of_budget(cache_mib);
        let filters = BucketFilters::new(filter_mib as usize * 1024 * 1024);
        tokio::task::spawn_blocking(move || {
            Self::open_blocking(&path, write_queue, caches, filters, levels)
        })
        .await?
    }

    /// The writer's queue: its depth and capacity.
    pub fn write_queue(&self) -> QueueGauge {
        self.inner.writer.gauge()
    }

    fn open_blocking(
        path: &Path,
        write_queue: usize,
        caches: CacheSizes,
        filters: Arc<BucketFilters>,
        levels: Option<LevelScale>,
    ) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating directory {}", dir.display()))?;
        }
        let write = open_connection(path, OpenFlags::default(), caches.writer)?;
        migrate(&write, &MAIN_SCHEMA)?;
        let evidence_path = evidence_file(path);
        let mut derived = open_connection(&evidence_path, OpenFlags::default(), caches.evidence)?;
        migrate(&derived, &EVIDENCE_SCHEMA)?;
        attach_read_only(&derived, path, "lrs")?;
        // An attached file takes the connection's cache size; the journal is only scanned.
        derived.execute_batch(&format!("PRAGMA lrs.cache_size = -{JOURNAL_CACHE_KIB};"))?;
        let sync = evidence_sync(&write, &derived)?;
        let levels = evidence::ensure_paths(&mut derived, levels)?;
        // The checkpointer thread below does this work; the writer only steps in if the
        // log grows far beyond its usual size.
        write.execute_batch("PRAGMA wal_autocheckpoint = 50000;")?;
        let readers = (0..READERS)
            .map(|_| {
                let conn = open_connection(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    caches.reader,
                )?;
                attach(&conn, &evidence_path, "derived")?;
                conn.execute_batch(&format!(
                    "PRAGMA derived.cache_size = -{};",
                    caches.reader_evidence
                ))?;
                Ok(conn)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let committed = sync.clone();
        let writer = Writer::start(
            write,
            Box::new(move |conn| match evidence::journal_head(conn) {
                Ok(head) => committed.committed(head),
                Err(e) => tracing::error!(error = %e, "reading the evidence journal's head failed"),
            }),
            write_queue,
        )?;
        evidence::start_applier(derived, sync.clone(), writer.clone(), levels)?;
        let in_place = InPlace::new(open_connection(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            IN_PLACE_CACHE_KIB,
        )?)?;
        let readers = Readers::start(readers)?;
        // Last: nothing after it can fail and leave its thread waiting for lookups.
        filters.start(open_connection(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            FILTER_BUILD_CACHE_KIB,
        )?)?;
        let inner = Arc::new(Inner {
            writer,
            readers,
            filters,
            in_place,
            evidence: sync,
            levels,
        });
        start_checkpointer(
            open_connection(path, OpenFlags::default(), CHECKPOINT_CACHE_KIB)?,
            Arc::downgrade(&inner),
        )?;
        Ok(SqliteStore { inner })
    }

    /// Runs a read on the next free read connection, off the async threads.
    async fn read<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        self.inner.readers.run(f).await
    }

    /// A point read of a few rows (a credential, a person's identities): in place, on the
    /// caller's thread, unless that would wait; then on a read thread like any other.
    async fn read_point<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: Fn(&Connection) -> rusqlite::Result<R> + Clone + Send + 'static,
    {
        if let Some(read) = self.inner.in_place.try_run(&f) {
            return Ok(read);
        }
        self.read(move |conn| Ok(f(conn)?)).await
    }

    /// A read of the evidence of `scope` in `tenant`, once every change committed before
    /// it that the read can see is applied.
    async fn read_evidence_of<R, F>(
        &self,
        tenant: TenantId,
        scope: evidence::Scope<'_>,
        f: F,
    ) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        self.inner.evidence.settled_for(tenant, scope).await;
        self.read(f).await
    }
}

/// Where the evidence file of the database at `path` lives.
fn evidence_file(path: &Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-evidence");
    name.into()
}

fn attach(conn: &Connection, path: &Path, schema: &str) -> anyhow::Result<()> {
    let file = path.to_str().context("the database path is not UTF-8")?;
    conn.execute(&format!("ATTACH DATABASE ?1 AS {schema}"), [file])
        .with_context(|| format!("attaching {}", path.display()))?;
    Ok(())
}

/// Characters a path must not carry unescaped in an SQLite URI.
const URI_RESERVED: &AsciiSet = &CONTROLS.add(b' ').add(b'%').add(b'?').add(b'#');

/// Attaches `path` read-only, so that the connection's transactions never take its
/// write lock.
fn attach_read_only(conn: &Connection, path: &Path, schema: &str) -> anyhow::Result<()> {
    let file = path.to_str().context("the database path is not UTF-8")?;
    let uri = format!("file:{}?mode=ro", utf8_percent_encode(file, URI_RESERVED));
    conn.execute(&format!("ATTACH DATABASE ?1 AS {schema}"), [uri])
        .with_context(|| format!("attaching {} read-only", path.display()))?;
    Ok(())
}

/// Where the journal and the evidence file stand. An evidence file ahead of its journal
/// belongs to another state of the database (a restored backup): it starts afresh.
fn evidence_sync(main: &Connection, derived: &Connection) -> anyhow::Result<Arc<EvidenceSync>> {
    let head = evidence::journal_head(main)?;
    let mut applied: i64 = derived.query_row("SELECT journal FROM applied", [], |r| r.get(0))?;
    let oldest: i64 = main.query_row(
        "SELECT coalesce(min(id), 0) FROM evidence_journal",
        [],
        |r| r.get(0),
    )?;
    if applied > head {
        tracing::warn!(
            applied,
            head,
            "the evidence file is ahead of its database; starting it afresh (`lrsgate retag` rebuilds it)"
        );
        derived.execute_batch(
            "BEGIN; DELETE FROM evidence; DELETE FROM person_items; DELETE FROM person_ranks;
             DELETE FROM activity_stats;
             DELETE FROM level_scale; DELETE FROM item_names; DELETE FROM identity_names;
             DELETE FROM activity_names WHERE id > 0; DELETE FROM verb_names;
             UPDATE applied SET journal = 0; COMMIT;",
        )?;
        applied = 0;
    }
    if oldest > applied + 1 {
        tracing::warn!(
            applied,
            oldest,
            "evidence changes before the journal's oldest entry are missing from the evidence file; `lrsgate retag` rebuilds it"
        );
    }
    Ok(EvidenceSync::new(head, applied))
}

/// Write-ahead log frames past which the checkpointer waits for a moment when no reader
/// uses the log, so that it starts again from its beginning (about 64 MiB of 4 KiB pages).
/// Passive checkpoints copy frames but never restart a log that readers keep using, and
/// under steady reads and writes it would grow without end.
const WAL_RESTART_FRAMES: i64 = 16_384;

/// How long a restarting checkpoint may hold back writers while readers leave the log.
const WAL_RESTART_WAIT_MS: u32 = 200;

/// Copies the database's write-ahead log into its file on a thread of its own, so the
/// writer spends its time on requests, and keeps the log bounded. (The evidence file's
/// log is kept by the evidence thread, its only writer: a restart from here would hold
/// that thread's write back and fail its batch.) Stops when the store is dropped.
fn start_checkpointer(conn: Connection, store: std::sync::Weak<Inner>) -> anyhow::Result<()> {
    conn.execute_batch(&format!("PRAGMA busy_timeout = {WAL_RESTART_WAIT_MS};"))?;
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while store.strong_count() > 0 {
                if let Err(e) = checkpoint(&conn) {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        })?;
    Ok(())
}

/// A passive checkpoint of the connection's main file's log, and a restarting one when
/// the log has grown past `WAL_RESTART_FRAMES`. A restart that finds readers still in the
/// log after its wait is tried again on a later round.
pub(in crate::store::sqlite) fn checkpoint(conn: &Connection) -> rusqlite::Result<()> {
    // `main.`: without a schema the pragma checkpoints every attached file too, and the
    // evidence thread's connection has the database attached read-only (an I/O error).
    let frames: i64 = conn.query_row("PRAGMA main.wal_checkpoint(PASSIVE)", [], |r| r.get(1))?;
    if frames > WAL_RESTART_FRAMES {
        conn.query_row("PRAGMA main.wal_checkpoint(RESTART)", [], |_| Ok(()))?;
    }
    Ok(())
}

#[async_trait]
impl ActorStore for SqliteStore {
    async fn activity_definition(
        &self,
        tenant: TenantId,
        activity_id: &str,
    ) -> StoreResult<Option<Value>> {
        let id = activity_id.to_owned();
        self.read(move |conn| {
            let text: Option<String> = conn
                .query_row(
                    "SELECT definition FROM activities WHERE tenant = ?1 AND id = ?2",
                    params![tenant, id],
                    |r| r.get(0),
                )
                .optional()?;
            text.map(|t| serde_json::from_str(&t).map_err(backend))
                .transpose()
        })
        .await
    }

    async fn agent_names(&self, tenant: TenantId, ifi_key: &str) -> StoreResult<Vec<String>> {
        let key = ifi_key.to_owned();
        self.read(move |conn| {
            let mut stmt =
                conn.prepare_cached("SELECT name FROM agent_names WHERE tenant = ?1 AND ifi = ?2")?;
            let names = stmt
                .query_map(params![tenant, key], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(names)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Version 1 of the main file as first shipped (kept for the store tests).
    const SCHEMA_V1: &str = include_str!("../../../tests/fixtures/sqlite-schema-v1.sql");

    /// Makes `conn` a main file of an old `version`: version 1 as shipped, upgraded that
    /// far.
    fn at_version(conn: &Connection, version: usize) {
        schema_at_version(conn, (SCHEMA_V1, &MAIN_SCHEMA), version);
    }

    /// Makes `conn` a file of `schema` at an old `version`, from its version 1 (`v1`).
    fn schema_at_version(conn: &Connection, (v1, schema): (&str, &Schema), version: usize) {
        conn.execute_batch(&format!("BEGIN; {v1}; PRAGMA user_version = 1; COMMIT;"))
            .unwrap();
        for (i, sql) in schema.upgrades[..version - 1].iter().enumerate() {
            let script = format!("BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;", i + 2);
            conn.execute_batch(&script).unwrap();
        }
    }

    /// Evidence recorded under schema version 7 (in the main file) is journaled by
    /// migration 8 and applied to the evidence file when the store opens; applied entries
    /// then leave the journal, all but the newest.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn version_7_evidence_reaches_the_evidence_file_and_leaves_the_journal() {
        use crate::store::evidence::EvidenceStore;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lrs.db");
        {
            let conn = Connection::open(&path).unwrap();
            at_version(&conn, 7);
            conn.execute_batch(
                "INSERT INTO evidence (tenant, seq, statement, item, identity, person, activity,
                     verb, verb_w, result_w, confidence, trust, at_ms, normalized, outcome, scaled)
                 VALUES (1, 1, 's1', 'agile', 'mbox:ann', 'ann', 'course', 'passed',
                         1.0, 0.75, 1.0, 1.0, 10, 0.75, 3, 0.8),
                        (1, 2, 's2', 'agile', 'mbox:ann', 'ann', 'talk', 'attended',
                         0.25, 1.0, 1.0, 1.0, 20, 0.25, 0, NULL),
                        (1, 2, 's2', 'scrum', 'mbox:ann', 'ann', 'talk', 'attended',
                         0.25, 1.0, 0.5, 1.0, 20, 0.125, 0, NULL);",
            )
            .unwrap();
        }
        let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();

        let mut sums = store.person_items(1, &["ann".to_owned()]).await.unwrap();
        sums.sort_by(|a, b| a.item.cmp(&b.item));
        let summary: Vec<_> = sums
            .iter()
            .map(|s| {
                (
                    s.item.as_str(),
                    s.normalized,
                    s.evidence,
                    s.first_millis,
                    s.last_millis,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [("agile", 1.0, 2, 10, 20), ("scrum", 0.125, 1, 20, 20)]
        );
        let rows = store
            .person_evidence(1, "ann", Some("agile"))
            .await
            .unwrap();
        let statements: Vec<_> = rows.iter().map(|r| r.item.statement.as_str()).collect();
        assert_eq!(statements, ["s2", "s1"]);
        assert_eq!(rows[1].item.weight.result, 0.75);
        let course = store.activity_stats(1, "agile").await.unwrap();
        let course = course.iter().find(|a| a.activity == "course").unwrap();
        assert_eq!(
            (
                course.learners,
                course.completions,
                course.successes,
                course.score_sum
            ),
            (1, 1, 1, 0.8)
        );

        let mut journal = 0;
        for _ in 0..100 {
            journal = store
                .read(|conn| {
                    Ok(
                        conn.query_row("SELECT count(*) FROM evidence_journal", [], |r| {
                            r.get::<_, i64>(0)
                        })?,
                    )
                })
                .await
                .unwrap();
            if journal == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(
            journal, 1,
            "applied entries are removed, all but the newest"
        );
    }

    /// Each connection's page cache is its own: the bundled SQLite is built without
    /// SQLITE_ENABLE_MEMORY_MANAGEMENT (`.cargo/config.toml`), which would put every
    /// cache behind one mutex that the writer, the evidence thread and the readers share.
    #[test]
    fn connections_keep_page_caches_of_their_own() {
        let conn = Connection::open_in_memory().unwrap();
        let options: Vec<String> = conn
            .prepare("PRAGMA compile_options")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(options.contains(&"THREADSAFE=1".to_owned()), "{options:?}");
        assert!(
            !options.contains(&"ENABLE_MEMORY_MANAGEMENT".to_owned()),
            "{options:?}"
        );
    }

    /// Evidence file version 7 keeps a person that is a canonical UUID as its 16 bytes,
    /// any other as text: the rows and sums of a version 6 file read back under the same
    /// people, and the aggregates by person are rebuilt.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn evidence_migration_7_keeps_rows_and_sums_under_the_same_people() {
        use crate::store::evidence::EvidenceStore;
        use crate::store::opportunities::OpportunityStore;
        const EVIDENCE_V1: &str =
            include_str!("../../../tests/fixtures/sqlite-evidence-schema-v1.sql");
        const BOB: &str = "6fa459ea-ee8a-3ca4-894e-db77e160355e";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lrs.db");
        {
            let conn = Connection::open(evidence_file(&path)).unwrap();
            schema_at_version(&conn, (EVIDENCE_V1, &EVIDENCE_SCHEMA), 6);
            conn.execute_batch(&format!(
                "INSERT INTO item_names (id, name) VALUES (1, 'agile');
                 INSERT INTO identity_names (id, name) VALUES (1, 'mbox:ann'), (2, 'mbox:bob');
                 INSERT INTO activity_names (id, name) VALUES (1, 'course');
                 INSERT INTO verb_names (id, name) VALUES (1, 'passed');
                 INSERT INTO evidence (tenant, seq, statement, item, identity, person, activity,
                     verb, verb_w, result_w, confidence, trust, at_ms, normalized, outcome, scaled)
                 VALUES (1, 1, 's1', 1, 1, 'ann', 1, 1, 1.0, 1.0, 1.0, 1.0, 10, 0.75, 3, NULL),
                        (1, 2, 's2', 1, 1, 'ann', 0, 1, 1.0, 1.0, 1.0, 1.0, 20, 0.25, 1, NULL),
                        (1, 3, 's3', 1, 2, '{BOB}', 1, 1, 1.0, 1.0, 1.0, 1.0, 30, 0.1, 1, NULL);
                 INSERT INTO person_items (tenant, person, item, normalized, evidence,
                     first_ms, last_ms)
                 VALUES (1, 'ann', 1, 1.0, 2, 10, 20), (1, '{BOB}', 1, 0.1, 1, 30, 30);
                 INSERT INTO path_people (tenant, person, items) VALUES (1, 'ann', 1);
                 INSERT INTO path_population (tenant, people) VALUES (1, 1);"
            ))
            .unwrap();
        }
        let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();

        let read = |rows: Vec<crate::store::evidence::EvidenceRow>| -> Vec<_> {
            rows.into_iter()
                .map(|r| (r.person, r.item.statement, r.item.activity))
                .collect()
        };
        assert_eq!(
            read(store.person_evidence(1, "ann", None).await.unwrap()),
            [
                ("ann".into(), "s2".into(), String::new()),
                ("ann".into(), "s1".into(), "course".into())
            ]
        );
        assert_eq!(
            read(store.person_evidence(1, BOB, None).await.unwrap()),
            [(BOB.into(), "s3".into(), "course".into())]
        );
        let ranked: Vec<_> = store
            .ranked(1, "agile", 0, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.person, s.evidence))
            .collect();
        assert_eq!(ranked, [("ann".into(), 2), (BOB.into(), 1)]);
        // Rebuilt from the sums, not carried over from the stale count above.
        assert_eq!(store.evidence_people(1).await.unwrap(), 2);
        drop(store);
        let conn = Connection::open(evidence_file(&path)).unwrap();
        let kept: Vec<(String, i64)> = conn
            .prepare(
                "SELECT typeof(person), length(person) FROM evidence
                 UNION ALL SELECT typeof(person), length(person) FROM person_items
                 UNION ALL SELECT typeof(person), length(person) FROM item_reach
                 ORDER BY 1, 2",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(kept.contains(&("blob".into(), 16)), "{kept:?}");
        assert!(kept.contains(&("text".into(), 3)), "{kept:?}");
        assert!(
            kept.iter()
                .all(|k| *k == ("blob".into(), 16) || *k == ("text".into(), 3)),
            "{kept:?}"
        );
    }

    /// Evidence file version 6 keeps names once, by id: the rows and sums of a version 5
    /// file read back as they were, and the aggregates are rebuilt from them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn evidence_migration_6_keeps_rows_and_sums_under_their_names() {
        use crate::store::evidence::EvidenceStore;
        use crate::store::opportunities::OpportunityStore;
        const EVIDENCE_V1: &str =
            include_str!("../../../tests/fixtures/sqlite-evidence-schema-v1.sql");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lrs.db");
        {
            let conn = Connection::open(evidence_file(&path)).unwrap();
            schema_at_version(&conn, (EVIDENCE_V1, &EVIDENCE_SCHEMA), 5);
            conn.execute_batch(
                "INSERT INTO evidence (tenant, seq, statement, item, identity, person, activity,
                     verb, verb_w, result_w, confidence, trust, at_ms, normalized, outcome, scaled)
                 VALUES (1, 1, 's1', 'agile', 'mbox:ann', 'ann', 'course', 'passed',
                         1.0, 0.75, 1.0, 1.0, 10, 0.75, 3, 0.8),
                        (1, 2, 's2', 'agile', 'mbox:ann', 'ann', '', 'attended',
                         0.25, 1.0, 1.0, 1.0, 20, 0.25, 0, NULL),
                        (1, 3, 's3', 'agile', 'mbox:bob', 'bob', 'course', 'failed',
                         1.0, 0.1, 1.0, 1.0, 30, 0.1, 5, 0.1);
                 INSERT INTO person_items (tenant, person, item, normalized, evidence,
                     first_ms, last_ms)
                 VALUES (1, 'ann', 'agile', 1.0, 2, 10, 20), (1, 'bob', 'agile', 0.1, 1, 30, 30);
                 INSERT INTO activity_stats (tenant, item, activity, statements, learners,
                     completions, successes, failures, score_sum, scored)
                 VALUES (1, 'agile', 'course', 2, 2, 2, 1, 1, 0.9, 2);",
            )
            .unwrap();
        }
        let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();

        let rows = store.person_evidence(1, "ann", None).await.unwrap();
        let read: Vec<_> = rows
            .iter()
            .map(|r| {
                let e = &r.item;
                (
                    r.person.as_str(),
                    e.statement.as_str(),
                    e.item.as_str(),
                    e.identity.as_str(),
                )
            })
            .collect();
        assert_eq!(
            read,
            [
                ("ann", "s2", "agile", "mbox:ann"),
                ("ann", "s1", "agile", "mbox:ann")
            ]
        );
        assert_eq!(
            (
                rows[0].item.activity.as_str(),
                rows[1].item.activity.as_str()
            ),
            ("", "course")
        );
        assert_eq!(rows[1].item.verb, "passed");
        let ranked: Vec<_> = store
            .ranked(1, "agile", 0, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.person, s.normalized, s.evidence))
            .collect();
        assert_eq!(ranked, [("ann".into(), 1.0, 2), ("bob".into(), 0.1, 1)]);
        let course = store.activity_stats(1, "agile").await.unwrap();
        assert_eq!(
            course
                .iter()
                .map(|a| (a.activity.as_str(), a.learners))
                .collect::<Vec<_>>(),
            [("course", 2)]
        );
        assert_eq!(store.evidence_people(1).await.unwrap(), 2);
        assert!(store
            .person_evidence(1, "carol", None)
            .await
            .unwrap()
            .is_empty());
    }

    /// Schema version 2 fills `index_keys` of statements stored under version 1 from
    /// their index rows.
    #[test]
    fn migration_2_backfills_each_statements_index_keys() {
        let conn = Connection::open_in_memory().unwrap();
        at_version(&conn, 1);
        conn.execute_batch(
            "INSERT INTO statements (seq, tenant, id, stored_ms, fingerprint, body)
                 VALUES (1, 1, 'a', 1, x'00', '{}'), (2, 2, 'b', 2, x'00', '{}');
             INSERT INTO statement_index (tenant, kind, key, seq)
                 VALUES (1, 1, 'mbox:ann', 1), (1, 5, 'verb', 1), (2, 3, 'course', 2);",
        )
        .unwrap();
        migrate(&conn, &MAIN_SCHEMA).unwrap();
        let keys = |seq: i64| -> String {
            conn.query_row(
                "SELECT index_keys FROM statements WHERE seq = ?1",
                [seq],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(keys(1), r#"[[1,"mbox:ann"],[5,"verb"]]"#);
        assert_eq!(keys(2), r#"[[3,"course"]]"#);
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version as usize, MAIN_SCHEMA.version());
    }

    /// Schema version 11 keeps every index row, with its key's hash in place of its text.
    #[test]
    fn migration_11_keeps_each_index_row_under_its_keys_hash() {
        let conn = Connection::open_in_memory().unwrap();
        at_version(&conn, 1);
        conn.execute_batch(
            "INSERT INTO statement_index (tenant, kind, key, seq)
                 VALUES (1, 1, 'mbox:ann', 1), (1, 5, 'verb', 1), (2, 3, 'course', 2);",
        )
        .unwrap();
        migrate(&conn, &MAIN_SCHEMA).unwrap();
        let rows: Vec<(i64, i64, i64, i64)> = conn
            .prepare("SELECT tenant, kind, key_hash, seq FROM statement_keys ORDER BY seq, kind")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![
                (1, 1, keys::key_hash("mbox:ann"), 1),
                (1, 5, keys::key_hash("verb"), 1),
                (2, 3, keys::key_hash("course"), 2),
            ]
        );
    }

    /// Schema versions 12 and 14 move every index row to the bucket of its statement, as
    /// the store now counts them.
    #[test]
    fn migrations_put_each_index_row_in_its_statements_bucket() {
        let conn = Connection::open_in_memory().unwrap();
        keys::register_key_hash(&conn).unwrap();
        at_version(&conn, 11);
        conn.execute_batch(
            "INSERT INTO statement_keys (tenant, kind, bucket, key_hash, seq)
                 VALUES (1, 1, 0, 7, 1), (1, 1, 0, 7, 40000), (1, 5, 0, 9, 65535),
                        (2, 3, 1, 7, 65536), (2, 3, 1, 7, 100000);",
        )
        .unwrap();
        migrate(&conn, &MAIN_SCHEMA).unwrap();
        let rows: Vec<(i64, i64, i64, i64, i64)> = conn
            .prepare("SELECT tenant, kind, bucket, key_hash, seq FROM statement_keys ORDER BY seq")
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let expected: Vec<_> = [
            (1, 1, 7, 1),
            (1, 1, 7, 40000),
            (1, 5, 9, 65535),
            (2, 3, 7, 65536),
            (2, 3, 7, 100000),
        ]
        .into_iter()
        .map(|(tenant, kind, hash, seq)| (tenant, kind, keys::bucket_of(seq), hash, seq))
        .collect();
        assert_eq!(rows, expected);
        assert_eq!(
            rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            vec![0, 4, 7, 8, 12]
        );
    }
}
