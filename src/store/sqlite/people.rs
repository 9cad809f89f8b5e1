//! Linked identities on SQLite.

use std::collections::HashMap;

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};

use super::{evidence, SqliteStore};
use crate::store::people::{own_person, LinkedIdentity, PeopleStore};
use crate::store::{StoreResult, TenantId};

/// The most identities looked up in place (see `SqliteStore::read_point`): one person's
/// few; a team's fifty would hold the caller's thread for too long.
const POINT_READ_KEYS: usize = 4;

#[async_trait]
impl PeopleStore for SqliteStore {
    async fn linked_people(
        &self,
        tenant: TenantId,
        ifis: &[String],
    ) -> StoreResult<HashMap<String, String>> {
        let one_person = ifis.len() <= POINT_READ_KEYS;
        let ifis = ifis.to_vec();
        let lookup = move |conn: &Connection| {
            let mut stmt = conn.prepare_cached(
                "SELECT person FROM person_identities WHERE tenant = ?1 AND ifi = ?2",
            )?;
            let mut out = HashMap::new();
            for ifi in &ifis {
                let person: Option<String> = stmt
                    .query_row(params![tenant, ifi], |r| r.get(0))
                    .optional()?;
                if let Some(person) = person {
                    out.insert(ifi.clone(), person);
                }
            }
            Ok(out)
        };
        // A person's lookup is a point read; a team's goes to a read thread.
        if one_person {
            self.read_point(lookup).await
        } else {
            self.read(move |conn| Ok(lookup(conn)?)).await
        }
    }

    async fn person_identities(
        &self,
        tenant: TenantId,
        person: &str,
    ) -> StoreResult<Vec<LinkedIdentity>> {
        let person = person.to_owned();
        self.read_point(move |conn| {
            conn.prepare_cached(
                "SELECT ifi, person, agent FROM person_identities
                 WHERE tenant = ?1 AND person = ?2 ORDER BY ifi",
            )?
            .query_map(params![tenant, person], |r| {
                Ok(LinkedIdentity {
                    ifi: r.get(0)?,
                    person: r.get(1)?,
                    agent: r.get(2)?,
                })
            })?
            .collect()
        })
        .await
    }

    async fn link_identities(
        &self,
        tenant: TenantId,
        identities: Vec<LinkedIdentity>,
    ) -> StoreResult<()> {
        self.inner
            .writer
            .write(move |ctx| {
                let mut put = ctx.conn.prepare_cached(
                    "INSERT INTO person_identities (tenant, ifi, person, agent, updated_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (tenant, ifi) DO UPDATE SET person = excluded.person,
                         agent = excluded.agent, updated_ms = excluded.updated_ms",
                )?;
                for i in identities {
                    let from = evidence::person_of(ctx.conn, tenant, &i.ifi)?;
                    put.execute(params![
                        tenant,
                        i.ifi,
                        i.person,
                        i.agent,
                        ctx.now.timestamp_millis()
                    ])?;
                    evidence::move_identity(ctx.conn, tenant, &i.ifi, &from, &i.person)?;
                }
                Ok(())
            })
            .await
    }

    async fn unlink_identity(&self, tenant: TenantId, ifi: &str) -> StoreResult<bool> {
        let ifi = ifi.to_owned();
        self.inner
            .writer
            .write(move |ctx| {
                let from = evidence::person_of(ctx.conn, tenant, &ifi)?;
                let n = ctx.conn.execute(
                    "DELETE FROM person_identities WHERE tenant = ?1 AND ifi = ?2",
                    params![tenant, ifi],
                )?;
                evidence::move_identity(ctx.conn, tenant, &ifi, &from, &own_person(&ifi))?;
                Ok(n > 0)
            })
            .await
    }
}
