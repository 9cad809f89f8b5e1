//! The operator's questions to the embedded store: a read through the pool, the schema
//! versions of both files, the evidence journal's lag, and a close that applies the
//! journal before the process exits.

use std::time::Duration;

use async_trait::async_trait;

use super::{SqliteStore, EVIDENCE_SCHEMA, MAIN_SCHEMA};
use crate::store::ops::{EvidenceLag, OperationsStore};
use crate::store::StoreResult;

/// How often `close` looks whether the writer's queue has drained.
const DRAIN_POLL: Duration = Duration::from_millis(10);
/// The longest `close` waits for the queue (the caller's deadline usually cuts it first).
const DRAIN_ROUNDS: u32 = 6_000;

#[async_trait]
impl OperationsStore for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|conn| Ok(conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
            .await
            .map(drop)
    }

    async fn schema_current(&self) -> StoreResult<Result<(), String>> {
        let (main, evidence): (usize, usize) = self
            .read(|conn| {
                let main = conn.query_row("PRAGMA main.user_version", [], |r| r.get(0))?;
                let evidence = conn.query_row("PRAGMA derived.user_version", [], |r| r.get(0))?;
                Ok((main, evidence))
            })
            .await?;
        let (want_main, want_evidence) = (MAIN_SCHEMA.version(), EVIDENCE_SCHEMA.version());
        Ok(if main < want_main {
            Err(format!(
                "the database file is at schema version {main}, this build needs {want_main}"
            ))
        } else if evidence < want_evidence {
            Err(format!(
                "the evidence file is at schema version {evidence}, this build needs {want_evidence}"
            ))
        } else {
            Ok(())
        })
    }

    fn evidence_lag(&self) -> EvidenceLag {
        let (entries, age) = self.inner.evidence.lag();
        EvidenceLag {
            entries,
            seconds: age.as_secs_f64(),
        }
    }

    async fn close(&self) -> StoreResult<()> {
        // Every acknowledged write is committed; what remains is evidence to apply and
        // background writes (journal trims) in the queue.
        self.inner.evidence.settled().await;
        self.inner.evidence.stop();
        for _ in 0..DRAIN_ROUNDS {
            if self.inner.writer.queue_depth() == 0 {
                break;
            }
            tokio::time::sleep(DRAIN_POLL).await;
        }
        Ok(())
    }
}
