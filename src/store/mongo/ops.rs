//! The operator's questions to MongoDB: a `ping`, whether start-up's preparation of the
//! database completed, and closing the client's connections at shutdown. Evidence is
//! written with the statements, so it never lags.

use async_trait::async_trait;
use mongodb::bson::doc;

use super::MongoStore;
use crate::store::ops::{EvidenceLag, OperationsStore};
use crate::store::StoreResult;

#[async_trait]
impl OperationsStore for MongoStore {
    async fn ping(&self) -> StoreResult<()> {
        self.db.run_command(doc! {"ping": 1}).await?;
        Ok(())
    }

    async fn schema_current(&self) -> StoreResult<Result<(), String>> {
        // The last thing `open` seeds is the default tenant, after every index.
        let seeded = self
            .coll("tenants")
            .find_one(doc! {"_id": crate::store::DEFAULT_TENANT})
            .await?
            .is_some();
        Ok(if seeded {
            Ok(())
        } else {
            Err("the database's indexes and seed documents are missing".into())
        })
    }

    fn evidence_lag(&self) -> EvidenceLag {
        EvidenceLag::default()
    }

    async fn close(&self) -> StoreResult<()> {
        self.db.client().clone().shutdown().await;
        Ok(())
    }
}
