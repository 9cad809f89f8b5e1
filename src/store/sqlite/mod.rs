//! The embedded default store: one SQLite file in WAL mode, a single group-committing
//! writer thread and a small pool of read connections.

mod accounts;
mod competency;
mod documents;
mod evidence;
mod people;
mod statements;
mod transfer;
mod writer;

use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use async_trait::async_trait;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde_json::Value;
use tokio::sync::Semaphore;

use super::{ActorStore, StoreError, StoreResult, TenantId};
use writer::Writer;

const READERS: usize = 4;

/// The migrations, in order; `PRAGMA user_version` records how many have run.
const MIGRATIONS: [&str; 7] = [
    include_str!("schema.sql"),
    include_str!("migration-2.sql"),
    include_str!("migration-3.sql"),
    include_str!("migration-4.sql"),
    include_str!("migration-5.sql"),
    include_str!("migration-6.sql"),
    include_str!("migration-7.sql"),
];

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Writer,
    readers: Mutex<Vec<Connection>>,
    permits: Semaphore,
}

fn backend(e: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Backend(e.into())
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.into())
    }
}

/// Page cache per connection, in KiB: the writer's holds the hot index pages; readers
/// lean on the operating system's file cache; the checkpointer needs next to none.
const WRITER_CACHE_KIB: u32 = 32_000;
const READER_CACHE_KIB: u32 = 8_000;
const CHECKPOINT_CACHE_KIB: u32 = 1_000;

fn open_connection(path: &Path, flags: OpenFlags, cache_kib: u32) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(path, flags)
        .with_context(|| format!("opening SQLite database {}", path.display()))?;
    // FULL: a commit is on disk before the writer answers, so a 2xx survives power loss.
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA busy_timeout = 10000;
         PRAGMA cache_size = -{cache_kib};
         PRAGMA temp_store = MEMORY;"
    ))
    .context("configuring SQLite connection")?;
    Ok(conn)
}

fn migrate(conn: &Connection) -> anyhow::Result<()> {
    let done: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let script = format!("BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;", i + 1);
        conn.execute_batch(&script)
            .with_context(|| format!("applying migration {}", i + 1))?;
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and runs pending migrations.
    pub async fn open(path: &str) -> anyhow::Result<Self> {
        let path = Path::new(path).to_owned();
        tokio::task::spawn_blocking(move || Self::open_blocking(&path)).await?
    }

    fn open_blocking(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating directory {}", dir.display()))?;
        }
        let write = open_connection(path, OpenFlags::default(), WRITER_CACHE_KIB)?;
        migrate(&write)?;
        // The checkpointer thread below does this work; the writer only steps in if the
        // log grows far beyond its usual size.
        write.execute_batch("PRAGMA wal_autocheckpoint = 50000;")?;
        let readers = (0..READERS)
            .map(|_| {
                open_connection(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    READER_CACHE_KIB,
                )
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let inner = Arc::new(Inner {
            writer: Writer::start(write)?,
            readers: Mutex::new(readers),
            permits: Semaphore::new(READERS),
        });
        start_checkpointer(
            open_connection(path, OpenFlags::default(), CHECKPOINT_CACHE_KIB)?,
            Arc::downgrade(&inner),
        )?;
        Ok(SqliteStore { inner })
    }

    /// Runs a read on a pooled connection off the async threads.
    async fn read<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let _permit = self.inner.permits.acquire().await.map_err(backend)?;
        let conn = self
            .inner
            .readers
            .lock()
            .map_err(|_| backend(anyhow::anyhow!("reader pool poisoned")))?
            .pop()
            .ok_or_else(|| backend(anyhow::anyhow!("reader pool empty")))?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let result = f(&conn);
            if let Ok(mut pool) = inner.readers.lock() {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(backend)?
    }
}

/// Copies the write-ahead log into the database file on its own thread, so the writer
/// spends its time on requests. Stops when the store is dropped.
fn start_checkpointer(conn: Connection, store: std::sync::Weak<Inner>) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while store.strong_count() > 0 {
                if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE);") {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        })?;
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

    /// Schema version 2 fills `index_keys` of statements stored under version 1 from
    /// their index rows.
    #[test]
    fn migration_2_backfills_each_statements_index_keys() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!(
            "BEGIN; {}; PRAGMA user_version = 1; COMMIT;",
            MIGRATIONS[0]
        ))
        .unwrap();
        conn.execute_batch(
            "INSERT INTO statements (seq, tenant, id, stored_ms, fingerprint, body)
                 VALUES (1, 1, 'a', 1, x'00', '{}'), (2, 2, 'b', 2, x'00', '{}');
             INSERT INTO statement_index (tenant, kind, key, seq)
                 VALUES (1, 1, 'mbox:ann', 1), (1, 5, 'verb', 1), (2, 3, 'course', 2);",
        )
        .unwrap();
        migrate(&conn).unwrap();
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
        assert_eq!(version as usize, MIGRATIONS.len());
    }
}
