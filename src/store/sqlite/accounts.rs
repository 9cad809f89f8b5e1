//! Tenants and credentials on SQLite.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{backend, SqliteStore};
use crate::store::{
    Credential, CredentialStore, SigningKey, StoreError, StoreResult, Tenant, TenantId, TenantStore,
};

const CREDENTIAL_COLUMNS: &str = "tenant, key, secret_hash, name, authority, scopes";

fn credential_of(r: &Row<'_>) -> rusqlite::Result<(Credential, String)> {
    Ok((
        Credential {
            tenant: r.get(0)?,
            key: r.get(1)?,
            secret_hash: r.get(2)?,
            name: r.get(3)?,
            authority: serde_json::Value::Null,
            scopes: r.get(5)?,
        },
        r.get(4)?,
    ))
}

fn credential_row(conn: &Connection, key: &str) -> rusqlite::Result<Option<(Credential, String)>> {
    conn.prepare_cached(&format!(
        "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE key = ?1"
    ))?
    .query_row(params![key], credential_of)
    .optional()
}

/// Parses the stored authority text into the credential.
fn with_authority((mut c, authority): (Credential, String)) -> StoreResult<Credential> {
    c.authority = serde_json::from_str(&authority).map_err(backend)?;
    Ok(c)
}

#[async_trait]
impl CredentialStore for SqliteStore {
    /// Every request reads its credential: a point read, in place.
    async fn credential(&self, key: &str) -> StoreResult<Option<Credential>> {
        let key = key.to_owned();
        self.read_point(move |conn| credential_row(conn, &key))
            .await?
            .map(with_authority)
            .transpose()
    }

    async fn save_credential(&self, c: Credential) -> StoreResult<()> {
        self.inner
            .writer
            .write(move |ctx| {
                ctx.conn.execute(
                    "INSERT INTO credentials (key, tenant, secret_hash, name, authority, scopes, created_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (key) DO UPDATE SET tenant = excluded.tenant, secret_hash = excluded.secret_hash,
                         name = excluded.name, authority = excluded.authority, scopes = excluded.scopes",
                    params![c.key, c.tenant, c.secret_hash, c.name, c.authority.to_string(), c.scopes, ctx.now.timestamp_millis()],
                )?;
                Ok(())
            })
            .await
    }

    async fn credential_count(&self) -> StoreResult<u64> {
        self.read(|conn| Ok(conn.query_row("SELECT count(*) FROM credentials", [], |r| r.get(0))?))
            .await
    }

    async fn credentials(&self, tenant: TenantId) -> StoreResult<Vec<Credential>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE tenant = ?1 ORDER BY key"
            ))?;
            let rows = stmt
                .query_map(params![tenant], credential_of)?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter().map(with_authority).collect()
        })
        .await
    }

    async fn delete_credential(&self, tenant: TenantId, key: &str) -> StoreResult<bool> {
        let key = key.to_owned();
        self.inner
            .writer
            .write(move |ctx| {
                let n = ctx.conn.execute(
                    "DELETE FROM credentials WHERE tenant = ?1 AND key = ?2",
                    params![tenant, key],
                )?;
                Ok(n > 0)
            })
            .await
    }

    async fn signing_keys(&self) -> StoreResult<Vec<SigningKey>> {
        self.read(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT kid, secret, created_ms FROM signing_keys ORDER BY created_ms, kid",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(SigningKey {
                        kid: r.get(0)?,
                        secret: r.get(1)?,
                        created_millis: r.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn add_signing_key(&self, key: SigningKey) -> StoreResult<()> {
        self.inner
            .writer
            .write(move |ctx| {
                ctx.conn.execute(
                    "INSERT INTO signing_keys (kid, secret, created_ms) VALUES (?1, ?2, ?3)",
                    params![key.kid, key.secret, key.created_millis],
                )?;
                Ok(())
            })
            .await
    }
}

fn tenant_of(r: &Row<'_>) -> rusqlite::Result<Tenant> {
    Ok(Tenant {
        id: r.get(0)?,
        name: r.get(1)?,
        created_millis: r.get(2)?,
    })
}

#[async_trait]
impl TenantStore for SqliteStore {
    async fn create_tenant(&self, name: &str) -> StoreResult<Tenant> {
        let name = name.to_owned();
        self.inner
            .writer
            .write(move |ctx| {
                let created = ctx.now.timestamp_millis();
                let inserted = ctx.conn.execute(
                    "INSERT INTO tenants (name, created_ms) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                    params![name, created],
                )?;
                if inserted == 0 {
                    return Err(StoreError::Conflict(format!(
                        "a tenant named `{name}` exists already"
                    )));
                }
                Ok(Tenant {
                    id: ctx.conn.last_insert_rowid(),
                    name,
                    created_millis: created,
                })
            })
            .await
    }

    async fn tenant(&self, id: TenantId) -> StoreResult<Option<Tenant>> {
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT id, name, created_ms FROM tenants WHERE id = ?1",
                    params![id],
                    tenant_of,
                )
                .optional()?)
        })
        .await
    }

    async fn tenant_named(&self, name: &str) -> StoreResult<Option<Tenant>> {
        let name = name.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT id, name, created_ms FROM tenants WHERE name = ?1",
                    params![name],
                    tenant_of,
                )
                .optional()?)
        })
        .await
    }

    async fn tenants(&self) -> StoreResult<Vec<Tenant>> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare_cached("SELECT id, name, created_ms FROM tenants ORDER BY id")?;
            let rows = stmt.query_map([], tenant_of)?.collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }
}
