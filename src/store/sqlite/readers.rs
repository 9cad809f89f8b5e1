//! The read connections, each owned by a thread of its own. Reads queue up on one channel
//! and whichever thread is free takes the next. A connection stays on one thread for its
//! whole life, so its page cache and statement cache are allocated and freed by that
//! thread's heap, and the number of threads that touch SQLite is fixed: reads no longer
//! come and go across the runtime's pool of blocking threads, each of which kept a heap of
//! its own.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::store::{StoreError, StoreResult};

type Job = Box<dyn FnOnce(&Connection) + Send>;

/// The handle reads are sent through; the threads stop when it is dropped.
pub(super) struct Readers {
    jobs: mpsc::Sender<Job>,
}

impl Readers {
    /// Starts one thread per connection.
    pub fn start(connections: Vec<Connection>) -> anyhow::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
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

/// Takes reads off the queue until every handle is gone. A read that panics loses its
/// answer (its caller gets an error), not the thread.
fn serve(conn: &Connection, queue: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for the next job, so the free threads take
        // turns at the queue.
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        // One read transaction for the whole job: its statements share one snapshot, and
        // the file locks are taken once instead of around every statement.
        let began = conn.execute_batch("BEGIN");
        if catch_unwind(AssertUnwindSafe(|| job(conn))).is_err() {
            tracing::error!("a read panicked");
        }
        if began.is_ok() && !conn.is_autocommit() {
            if let Err(e) = conn.execute_batch("ROLLBACK") {
                tracing::error!(error = %e, "ending a read transaction failed");
            }
        }
    }
}
