//! Connectors on SQLite: `connectors` (configuration and run state as JSON text),
//! `leases` and `dead_letters`. Every write goes through the single writer; a lease is
//! taken by one conditional upsert inside the writer's transaction, so two gateways on
//! one file cannot both hold it.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use super::{backend, SqliteStore};
use crate::store::connectors::{lease_prefix, ConnectorRecord, ConnectorStore, DeadLetter};
use crate::store::{StoreError, StoreResult, TenantId};

fn record_of(id: String, config: &str, updated_millis: i64) -> StoreResult<ConnectorRecord> {
    Ok(ConnectorRecord {
        id,
        config: serde_json::from_str(config).map_err(backend)?,
        updated_millis,
    })
}

fn connectors_where(
    conn: &Connection,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> StoreResult<Vec<(TenantId, ConnectorRecord)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT tenant, id, config, updated_ms FROM connectors {filter} ORDER BY tenant, id"
    ))?;
    let rows: Vec<(TenantId, String, String, i64)> = stmt
        .query_map(args, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(tenant, id, config, updated)| Ok((tenant, record_of(id, &config, updated)?)))
        .collect()
}

#[async_trait]
impl ConnectorStore for SqliteStore {
    async fn connectors(&self, tenant: TenantId) -> StoreResult<Vec<ConnectorRecord>> {
        self.read(move |conn| {
            let all = connectors_where(conn, "WHERE tenant = ?1", &[&tenant])?;
            Ok(all.into_iter().map(|(_, r)| r).collect())
        })
        .await
    }

    async fn all_connectors(&self) -> StoreResult<Vec<(TenantId, ConnectorRecord)>> {
        self.read(|conn| connectors_where(conn, "", &[])).await
    }

    async fn connector(&self, tenant: TenantId, id: &str) -> StoreResult<Option<ConnectorRecord>> {
        let id = id.to_owned();
        self.read(move |conn| {
            let all = connectors_where(conn, "WHERE tenant = ?1 AND id = ?2", &[&tenant, &id])?;
            Ok(all.into_iter().next().map(|(_, r)| r))
        })
        .await
    }

    async fn put_connector(&self, tenant: TenantId, record: ConnectorRecord) -> StoreResult<bool> {
        let config = record.config.to_string();
        self.inner
            .writer
            .write(move |ctx| {
                let existed: Option<i64> = ctx
                    .conn
                    .query_row(
                        "SELECT 1 FROM connectors WHERE tenant = ?1 AND id = ?2",
                        params![tenant, record.id],
                        |r| r.get(0),
                    )
                    .optional()?;
                ctx.conn.execute(
                    "INSERT INTO connectors (tenant, id, config, state, updated_ms)
                     VALUES (?1, ?2, ?3, NULL, ?4)
                     ON CONFLICT (tenant, id) DO UPDATE SET config = excluded.config,
                         updated_ms = excluded.updated_ms",
                    params![tenant, record.id, config, record.updated_millis],
                )?;
                Ok(existed.is_none())
            })
            .await
    }

    async fn delete_connector(&self, tenant: TenantId, id: &str) -> StoreResult<bool> {
        let id = id.to_owned();
        self.inner
            .writer
            .write(move |ctx| {
                let n = ctx.conn.execute(
                    "DELETE FROM connectors WHERE tenant = ?1 AND id = ?2",
                    params![tenant, id],
                )?;
                ctx.conn.execute(
                    "DELETE FROM dead_letters WHERE tenant = ?1 AND connector = ?2",
                    params![tenant, id],
                )?;
                let lease = lease_prefix(tenant, &id);
                ctx.conn.execute(
                    "DELETE FROM leases WHERE name = ?1
                         OR substr(name, 1, length(?1) + 1) = ?1 || ':'",
                    params![lease],
                )?;
                Ok(n > 0)
            })
            .await
    }

    async fn connector_state(&self, tenant: TenantId, id: &str) -> StoreResult<Option<Value>> {
        let id = id.to_owned();
        self.read(move |conn| {
            let text: Option<Option<String>> = conn
                .query_row(
                    "SELECT state FROM connectors WHERE tenant = ?1 AND id = ?2",
                    params![tenant, id],
                    |r| r.get(0),
                )
                .optional()?;
            text.flatten()
                .map(|t| serde_json::from_str(&t).map_err(backend))
                .transpose()
        })
        .await
    }

    async fn put_connector_state(
        &self,
        tenant: TenantId,
        id: &str,
        state: Value,
    ) -> StoreResult<()> {
        let id = id.to_owned();
        let text = state.to_string();
        self.inner
            .writer
            .write(move |ctx| {
                let n = ctx.conn.execute(
                    "UPDATE connectors SET state = ?3 WHERE tenant = ?1 AND id = ?2",
                    params![tenant, id, text],
                )?;
                if n == 0 {
                    return Err(StoreError::Conflict(format!(
                        "connector `{id}` does not exist (deleted while it ran?)"
                    )));
                }
                Ok(())
            })
            .await
    }

    async fn acquire_lease(
        &self,
        name: &str,
        owner: &str,
        now_millis: i64,
        ttl_millis: i64,
    ) -> StoreResult<bool> {
        let (name, owner) = (name.to_owned(), owner.to_owned());
        let expires = now_millis.saturating_add(ttl_millis);
        self.inner
            .writer
            .write(move |ctx| {
                // One statement: insert, or take over only from the same owner or an
                // expired one. A row changed means the lease is ours.
                let n = ctx.conn.execute(
                    "INSERT INTO leases (name, owner, expires_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner,
                         expires_ms = excluded.expires_ms
                     WHERE leases.owner = excluded.owner OR leases.expires_ms <= ?4",
                    params![name, owner, expires, now_millis],
                )?;
                Ok(n == 1)
            })
            .await
    }

    async fn release_lease(&self, name: &str, owner: &str) -> StoreResult<()> {
        let (name, owner) = (name.to_owned(), owner.to_owned());
        self.inner
            .writer
            .write(move |ctx| {
                ctx.conn.execute(
                    "DELETE FROM leases WHERE name = ?1 AND owner = ?2",
                    params![name, owner],
                )?;
                Ok(())
            })
            .await
    }

    async fn add_dead_letters(
        &self,
        tenant: TenantId,
        connector: &str,
        letters: Vec<DeadLetter>,
    ) -> StoreResult<()> {
        if letters.is_empty() {
            return Ok(());
        }
        let connector = connector.to_owned();
        self.inner
            .writer
            .write(move |ctx| {
                let mut put = ctx.conn.prepare_cached(
                    "INSERT INTO dead_letters
                         (tenant, connector, statement_id, error, attempts, failed_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (tenant, connector, statement_id) DO UPDATE SET
                         error = excluded.error, attempts = excluded.attempts,
                         failed_ms = excluded.failed_ms",
                )?;
                for l in letters {
                    put.execute(params![
                        tenant,
                        connector,
                        l.statement_id,
                        l.error,
                        l.attempts,
                        l.failed_millis
                    ])?;
                }
                Ok(())
            })
            .await
    }

    async fn dead_letters(
        &self,
        tenant: TenantId,
        connector: &str,
        limit: usize,
    ) -> StoreResult<Vec<DeadLetter>> {
        let connector = connector.to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT statement_id, error, attempts, failed_ms FROM dead_letters
                 WHERE tenant = ?1 AND connector = ?2
                 ORDER BY failed_ms, statement_id LIMIT ?3",
            )?;
            let rows = stmt
                .query_map(params![tenant, connector, limit], |r| {
                    Ok(DeadLetter {
                        statement_id: r.get(0)?,
                        error: r.get(1)?,
                        attempts: r.get(2)?,
                        failed_millis: r.get(3)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn remove_dead_letters(
        &self,
        tenant: TenantId,
        connector: &str,
        statement_ids: &[String],
    ) -> StoreResult<u64> {
        if statement_ids.is_empty() {
            return Ok(0);
        }
        let connector = connector.to_owned();
        let ids = statement_ids.to_vec();
        self.inner
            .writer
            .write(move |ctx| {
                let mut delete = ctx.conn.prepare_cached(
                    "DELETE FROM dead_letters
                     WHERE tenant = ?1 AND connector = ?2 AND statement_id = ?3",
                )?;
                let mut n = 0;
                for id in ids {
                    n += delete.execute(params![tenant, connector, id])? as u64;
                }
                Ok(n)
            })
            .await
    }
}
