//! The read connections, each owned by a thread of its own. Reads queue up in one place
//! and the free thread that went idle last takes the next. A connection stays on one
//! thread for its whole life, so its page cache and statement cache are allocated and
//! freed by that thread's heap, and the number of threads that touch SQLite is fixed:
//! reads no longer come and go across the runtime's pool of blocking threads, each of
//! which kept a heap of its own.
//!
//! - A read wakes one idle thread and no other, and an idle thread sleeps (no spinning).
//! - The thread woken is the one that went idle last, not the one idle longest: while
//!   reads come one or two at a time, the same thread or two serve them, with the pages
//!   and the processor caches the last reads left warm. Handed out in turn (a channel's
//!   receivers, which also spun before sleeping), agent lookups at 1 M statements took
//!   0.47 ms at the median in `lrsgate bench`; this way (and with the newest `seq` read
//!   by a cached statement, in the same build), 0.35.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::Thread;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::store::{StoreError, StoreResult};

type Job = Box<dyn FnOnce(&Connection) + Send>;

/// The handle reads are sent through; the threads stop when it is dropped, once the reads
/// already queued are done.
pub(super) struct Readers {
    queue: Arc<Queue>,
}

/// The reads waiting for a thread, and the threads waiting for a read.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
}

#[derive(Default)]
struct QueueState {
    jobs: VecDeque<Job>,
    /// Idle threads, the one that went idle last at the end.
    idle: Vec<Thread>,
    stopped: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // A job runs outside the lock, so nothing can poison it; take the state as it is.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a job and wakes the thread that went idle last, if any is idle.
    fn push(&self, job: Job) -> bool {
        let mut state = self.lock();
        if state.stopped {
            return false;
        }
        state.jobs.push_back(job);
        let woken = state.idle.pop();
        drop(state);
        if let Some(thread) = woken {
            thread.unpark();
        }
        true
    }

    /// The next job for the calling thread, waiting for one while there is none; None once
    /// stopped and drained.
    fn next(&self) -> Option<Job> {
        let me = std::thread::current();
        let mut state = self.lock();
        loop {
            if let Some(job) = state.jobs.pop_front() {
                // Woken by chance rather than by `push`: no longer idle.
                state.idle.retain(|t| t.id() != me.id());
                return Some(job);
            }
            if state.stopped {
                return None;
            }
            if !state.idle.iter().any(|t| t.id() == me.id()) {
                state.idle.push(me.clone());
            }
            drop(state);
            // An `unpark` that comes before the park makes it return at once.
            std::thread::park();
            state = self.lock();
        }
    }

    fn stop(&self) {
        let mut state = self.lock();
        state.stopped = true;
        let idle = std::mem::take(&mut state.idle);
        drop(state);
        for thread in idle {
            thread.unpark();
        }
    }
}

impl Readers {
    /// Starts one thread per connection.
    pub fn start(connections: Vec<Connection>) -> anyhow::Result<Self> {
        let queue = Arc::new(Queue::default());
        for (i, conn) in connections.into_iter().enumerate() {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("sqlite-reader-{i}"))
                .spawn(move || serve(&conn, &queue))?;
        }
        Ok(Readers { queue })
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
        if !self.queue.push(job) {
            return Err(StoreError::Backend(anyhow::anyhow!(
                "the read threads have stopped"
            )));
        }
        answered.await.map_err(|_| {
            StoreError::Backend(anyhow::anyhow!(
                "a read failed without an answer (it panicked)"
            ))
        })?
    }
}

impl Drop for Readers {
    fn drop(&mut self) {
        self.queue.stop();
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

/// Takes reads off the queue until it stops. A read that panics loses its answer (its
/// caller gets an error), not the thread.
fn serve(conn: &Connection, queue: &Queue) {
    while let Some(job) = queue.next() {
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

    fn readers(n: usize) -> Readers {
        Readers::start(
            (0..n)
                .map(|_| Connection::open_in_memory().unwrap())
                .collect(),
        )
        .unwrap()
    }

    /// Waits until `holds` is true, for at most 10 s.
    fn wait_until(what: &str, holds: impl Fn() -> bool) {
        let started = std::time::Instant::now();
        while !holds() {
            assert!(started.elapsed().as_secs() < 10, "{what} after 10 s");
            std::thread::yield_now();
        }
    }

    fn all_idle(readers: &Readers, n: usize) {
        wait_until("not all threads idle", || {
            readers.queue.lock().idle.len() == n
        });
    }

    async fn thread_name(readers: &Readers) -> String {
        readers
            .run(|_| Ok(std::thread::current().name().unwrap_or_default().to_owned()))
            .await
            .unwrap()
    }

    /// Reads that come one at a time go to the thread that served the last one, so one
    /// page cache stays warm instead of four going a quarter as warm.
    #[tokio::test]
    async fn the_thread_idle_last_takes_the_next_read() {
        let readers = readers(4);
        all_idle(&readers, 4);
        let first = thread_name(&readers).await;
        for _ in 0..20 {
            all_idle(&readers, 4);
            assert_eq!(thread_name(&readers).await, first);
        }
    }

    /// Every read is answered, however many come at once and however the threads race
    /// for them, and each runs in a read transaction of its own.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_read_of_a_burst_is_answered() {
        let readers = Arc::new(readers(3));
        let reads = (0..500i64).map(|i| {
            let readers = readers.clone();
            tokio::spawn(async move {
                readers
                    .run(move |conn| {
                        assert!(!conn.is_autocommit());
                        Ok(conn.query_row("SELECT ?1 * 2", [i], |r| r.get::<_, i64>(0))?)
                    })
                    .await
            })
        });
        for (i, read) in reads.collect::<Vec<_>>().into_iter().enumerate() {
            assert_eq!(read.await.unwrap().unwrap(), i as i64 * 2);
        }
    }

    /// A read that panics loses its answer, not its thread: the next reads are answered.
    #[tokio::test]
    async fn a_panicking_read_leaves_the_threads_serving() {
        let readers = readers(1);
        let failed = readers.run::<i64, _>(|_| panic!("a read went wrong")).await;
        assert!(matches!(failed, Err(StoreError::Backend(_))));
        assert_eq!(readers.run(|conn| Ok(one(conn)?)).await.unwrap(), 1);
    }

    /// Dropping the handle stops every thread once the reads queued are done.
    #[test]
    fn the_threads_stop_when_the_handle_is_dropped() {
        let readers = readers(2);
        all_idle(&readers, 2);
        let queue = readers.queue.clone();
        drop(readers);
        wait_until("threads still running", || Arc::strong_count(&queue) == 1);
        assert!(queue.lock().stopped);
    }
}
