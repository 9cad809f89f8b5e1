//! The read connections, each owned by a thread of its own. Reads queue up on one channel
//! and whichever thread is free takes the next. A connection stays on one thread for its
//! whole life, so its page cache and statement cache are allocated and freed by that
//! thread's heap, and the number of threads that touch SQLite is fixed: reads no longer
//! come and go across the runtime's pool of blocking threads, each of which kept a heap of
//! its own.
//!
//! The queue is a multi-consumer channel, so a read wakes one idle thread and no other:
//! with one receiver behind a mutex, each read also woke the next thread in line for the
//! mutex, and a thread switch costs more than a short read.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use crossbeam_channel::{Receiver, Sender};

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::store::{StoreError, StoreResult};

type Job = Box<dyn FnOnce(&Connection) + Send>;

/// The handle reads are sent through; the threads stop when it is dropped.
pub(super) struct Readers {
    jobs: Sender<Job>,
}

impl Readers {
    /// Starts one thread per connection.
    pub fn start(connections: Vec<Connection>) -> anyhow::Result<Self> {
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        for (i, conn) in connections.into_iter().enumerate() {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("sqlite-reader-{i}"))
                .spawn(move || serve(&conn, &queue))?;
        }
        Ok(Readers { jobs })
    }

    /// Runs `f` on the next free connection and returns what it returns.
    pub async fn run<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<R> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = answer.send(f(conn));
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Backend(anyhow::anyhow!("the read threads have stopped")))?;
        answered.await.map_err(|_| {
            StoreError::Backend(anyhow::anyhow!(
                "a read failed without an answer (it panicked)"
            ))
        })?
    }
}

/// A read connection used in place, on the caller's thread, for point reads that take
/// microseconds: handing such a read to a read thread and back costs several times the
/// read itself (two thread switches each way). It never waits: while another thread uses
/// it, or the file is busy, `try_run` gives up and the caller reads through `Readers`.
pub(super) struct InPlace {
    conn: Mutex<Connection>,
}

impl InPlace {
    pub fn new(conn: Connection) -> rusqlite::Result<Self> {
        conn.busy_timeout(std::time::Duration::ZERO)?;
        Ok(InPlace {
            conn: Mutex::new(conn),
        })
    }

    /// What `f` reads, unless the connection is in use or the file busy.
    pub fn try_run<R>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> Option<R> {
        let conn = self.conn.try_lock().ok()?;
        match f(&conn) {
            Ok(read) => Some(read),
            Err(e) => {
                tracing::debug!(error = %e, "a read in place gave way to the read threads");
                None
            }
        }
    }
}

/// Takes reads off the queue until every handle is gone. A read that panics loses its
/// answer (its caller gets an error), not the thread.
fn serve(conn: &Connection, queue: &Receiver<Job>) {
    for job in queue.iter() {
        // One read transaction for the whole job: its statements share one snapshot, and
        // the file locks are taken once instead of around every statement.
        let began = run_cached(conn, "BEGIN");
        if catch_unwind(AssertUnwindSafe(|| job(conn))).is_err() {
            tracing::error!("a read panicked");
        }
        if began.is_ok() && !conn.is_autocommit() {
            if let Err(e) = run_cached(conn, "ROLLBACK") {
                tracing::error!(error = %e, "ending a read transaction failed");
            }
        }
    }
}

fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(conn: &Connection) -> rusqlite::Result<i64> {
        conn.query_row("SELECT 1", [], |r| r.get(0))
    }

    /// A read in place never waits: while another thread uses the connection, or when the
    /// read fails (a busy file among others), the caller is told to read elsewhere.
    #[test]
    fn a_read_in_place_gives_way_instead_of_waiting() {
        let in_place = InPlace::new(Connection::open_in_memory().unwrap()).unwrap();
        assert_eq!(in_place.try_run(one), Some(1));
        let held = in_place.conn.lock().unwrap();
        assert_eq!(in_place.try_run(one), None);
        drop(held);
        assert_eq!(
            in_place.try_run(|conn| conn.query_row("SELECT * FROM missing", [], |r| r.get::<_, i64>(0))),
            None
        );
        assert_eq!(in_place.try_run(one), Some(1));
    }
}
