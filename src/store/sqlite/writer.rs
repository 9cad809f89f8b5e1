//! The single writer of an SQLite database. Requests queue up on a channel; the writer
//! thread runs whatever is queued in one transaction (each request in its own savepoint,
//! so one failure spoils nothing else) and answers every request only after COMMIT:
//! an answer means the write is durable, and fsyncs are shared by concurrent requests.
//!
//! The queue is bounded: at most `capacity` requests are admitted (queued or being
//! written) at once, and one more is refused at once with `StoreError::Busy` rather than
//! held in memory; so is a transaction that cannot begin because another process holds
//! the database's write lock past the busy timeout. The HTTP layer answers both with 503
//! and `Retry-After`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

use anyhow::anyhow;
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::store::{StoreError, StoreResult};

/// The most requests folded into one transaction.
const MAX_GROUP: usize = 256;

/// Requests admitted at once when the store is opened without a capacity.
pub const DEFAULT_CAPACITY: usize = 1024;

/// What a write request sees: the connection (inside a savepoint) and the batch's clock.
pub struct WriteCtx<'c> {
    pub conn: &'c Connection,
    /// The `stored` time of everything written in this transaction; never goes backwards.
    pub now: DateTime<Utc>,
}

type Deliver = Box<dyn FnOnce(StoreResult<()>) + Send>;
/// Runs the request in the transaction (or, given none, skips it) and says whether it
/// succeeded; the `Deliver` answers it once the transaction's fate is known.
type Job = Box<dyn FnOnce(Option<&WriteCtx<'_>>) -> (bool, Deliver) + Send>;
/// Runs after every commit, before any request of it is answered.
pub type AfterCommit = Box<dyn Fn(&Connection) + Send>;

/// The handle requests are sent through; the thread stops when every handle is dropped.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::SyncSender<Job>,
    state: Arc<WriterState>,
}

struct WriterState {
    /// Requests admitted and not answered yet: queued, or in the transaction being written.
    pending: AtomicUsize,
    /// The most requests admitted at once.
    capacity: usize,
    last_commit_millis: AtomicI64,
}

/// A cheap, read-only view of a writer's queue, for metrics and health checks.
#[derive(Clone)]
pub struct QueueGauge {
    state: Arc<WriterState>,
}

impl std::fmt::Debug for QueueGauge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueueGauge")
            .field("depth", &self.depth())
            .field("capacity", &self.capacity())
            .finish()
    }
}

impl QueueGauge {
    /// Requests queued or being written now.
    pub fn depth(&self) -> usize {
        self.state.pending.load(Ordering::Relaxed)
    }

    /// The most requests admitted at once; more are refused with `StoreError::Busy`.
    pub fn capacity(&self) -> usize {
        self.state.capacity
    }
}

impl Writer {
    /// Starts the writer thread on its own connection, admitting at most `capacity`
    /// requests at once (at least one).
    pub fn start(
        conn: Connection,
        after_commit: AfterCommit,
        capacity: usize,
    ) -> anyhow::Result<Self> {
        let capacity = capacity.max(1);
        // Admission is counted in `pending`, so the channel never holds more than this.
        let (tx, rx) = mpsc::sync_channel::<Job>(capacity);
        let state = Arc::new(WriterState {
            pending: AtomicUsize::new(0),
            capacity,
            last_commit_millis: AtomicI64::new(0),
        });
        let thread_state = state.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, rx, &thread_state, &after_commit))?;
        Ok(Writer { jobs: tx, state })
    }

    /// Runs `f` in the writer's transaction and resolves once it is committed.
    pub async fn write<R, F>(&self, f: F) -> StoreResult<R>
    where
        R: Send + 'static,
        F: FnOnce(&WriteCtx<'_>) -> StoreResult<R> + Send + 'static,
    {
        self.submit(f)?
            .await
            .map_err(|_| StoreError::Backend(anyhow!("the database writer dropped a request")))?
    }

    /// Requests queued or being written now.
    pub fn queue_depth(&self) -> usize {
        self.state.pending.load(Ordering::Relaxed)
    }

    /// The most requests admitted at once.
    pub fn capacity(&self) -> usize {
        self.state.capacity
    }

    /// A read-only view of the queue that does not keep the writer running.
    pub fn gauge(&self) -> QueueGauge {
        QueueGauge {
            state: self.state.clone(),
        }
    }

    /// Queues `f` for the writer's next transaction without waiting for it (when the
    /// queue is full it is dropped with a warning: callers redo such work later).
    pub fn enqueue<F>(&self, f: F)
    where
        F: FnOnce(&WriteCtx<'_>) -> StoreResult<()> + Send + 'static,
    {
        if let Err(e) = self.submit(f) {
            tracing::warn!(error = %e, "a background write was not queued");
        }
    }

    fn submit<R, F>(&self, f: F) -> StoreResult<oneshot::Receiver<StoreResult<R>>>
    where
        R: Send + 'static,
        F: FnOnce(&WriteCtx<'_>) -> StoreResult<R> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<StoreResult<R>>();
        let job: Job = Box::new(move |ctx| {
            let outcome = match ctx {
                Some(ctx) => catch_unwind(AssertUnwindSafe(|| f(ctx))).unwrap_or_else(|_| {
                    Err(StoreError::Backend(anyhow!("a write request panicked")))
                }),
                None => Err(StoreError::Backend(anyhow!(
                    "the transaction did not begin"
                ))),
            };
            let ok = outcome.is_ok();
            let deliver: Deliver = Box::new(move |committed| {
                let _ = tx.send(committed.and(outcome));
            });
            (ok, deliver)
        });
        let capacity = self.state.capacity;
        let admitted = self
            .state
            .pending
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < capacity).then_some(n + 1)
            });
        if admitted.is_err() {
            return Err(StoreError::Busy(format!(
                "the write queue is full ({capacity} requests waiting)"
            )));
        }
        // Never blocks: admission keeps the channel's contents under its bound.
        if self.jobs.send(job).is_err() {
            self.state.pending.fetch_sub(1, Ordering::SeqCst);
            return Err(StoreError::Backend(anyhow!(
                "the database writer has stopped"
            )));
        }
        Ok(rx)
    }

    /// Unix milliseconds up to which every acknowledged write is visible.
    pub fn consistent_through(&self) -> i64 {
        if self.state.pending.load(Ordering::SeqCst) == 0 {
            Utc::now()
                .timestamp_millis()
                .max(self.state.last_commit_millis.load(Ordering::SeqCst))
        } else {
            self.state.last_commit_millis.load(Ordering::SeqCst)
        }
    }
}

fn run(
    conn: Connection,
    jobs: mpsc::Receiver<Job>,
    state: &WriterState,
    after_commit: &AfterCommit,
) {
    // Continues after the newest `stored` on file, which a copied store or a clock set back
    // since the last run may put ahead of this clock.
    let mut last_millis = conn
        .query_row(
            "SELECT coalesce(max(stored_ms), 0) FROM statements",
            [],
            |r| r.get(0),
        )
        .unwrap_or(0i64);
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let now_millis = Utc::now().timestamp_millis().max(last_millis);
        last_millis = now_millis;
        let now = Utc
            .timestamp_millis_opt(now_millis)
            .single()
            .unwrap_or_else(Utc::now);
        let ctx = WriteCtx { conn: &conn, now };
        let count = group.len();
        let delivered = run_group(&ctx, group);
        after_commit(&conn);
        // Published before answering, so a reader told "acknowledged" also sees it.
        state.last_commit_millis.store(now_millis, Ordering::SeqCst);
        for (deliver, result) in delivered {
            deliver(result);
        }
        state.pending.fetch_sub(count, Ordering::SeqCst);
    }
}

fn run_group(ctx: &WriteCtx<'_>, group: Vec<Job>) -> Vec<(Deliver, StoreResult<()>)> {
    if let Err(e) = ctx.conn.execute_batch("BEGIN IMMEDIATE") {
        // Another process holding the write lock past the busy timeout is overload, not a
        // fault: the client may retry.
        let busy = e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy);
        let msg = e.to_string();
        return group
            .into_iter()
            .map(|job| {
                let (_, deliver) = job(None);
                let err = if busy {
                    StoreError::Busy(format!("the database is locked by another writer: {msg}"))
                } else {
                    StoreError::Backend(anyhow!("cannot begin a transaction: {msg}"))
                };
                (deliver, Err(err))
            })
            .collect();
    }
    let mut delivers = Vec::with_capacity(group.len());
    for job in group {
        let savepoint = ctx.conn.execute_batch("SAVEPOINT request");
        let (ok, deliver) = job(Some(ctx));
        let closed = if ok && savepoint.is_ok() {
            ctx.conn.execute_batch("RELEASE request")
        } else {
            ctx.conn
                .execute_batch("ROLLBACK TO request; RELEASE request")
        };
        if let Err(e) = closed {
            tracing::error!(error = %e, "closing a savepoint failed");
        }
        delivers.push(deliver);
    }
    let committed = ctx.conn.execute_batch("COMMIT").map_err(|e| e.to_string());
    if committed.is_err() {
        let _ = ctx.conn.execute_batch("ROLLBACK");
    }
    delivers
        .into_iter()
        .map(|d| {
            let result = committed
                .clone()
                .map_err(|msg| StoreError::Backend(anyhow!("commit failed: {msg}")));
            (d, result)
        })
        .collect()
}
