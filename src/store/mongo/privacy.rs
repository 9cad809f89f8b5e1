//! Privacy operations on MongoDB, which may have no multi-document transactions. An erasure
//! is planned first (the plan's counts are also what a dry run answers), then recorded in
//! `erasures` (the plan, its counts and the attachments it may orphan) before any change;
//! every step after is idempotent and finds its work again from the store, so an erasure
//! cut short is completed by the next gateway start (`resume_erasures`) or by erasing the
//! person again. The record leaves when the erasure is complete, its audit record written.
//! Collections: `erasures`, `privacy_audit` and `retention_policies`.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use async_trait::async_trait;
use chrono::Utc;
use mongodb::bson::{doc, Bson, Document as BsonDocument};
use mongodb::IndexModel;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::documents::to_document;
use super::statements::{fields_of, index_of, ARRAY_FIELDS};
use super::{backend, collect, get_i64, get_str, index, MongoStore};
use crate::store::evidence::{EvidenceStore, Team};
use crate::store::privacy::{
    actor_is, attachment_hashes, pseudonymise, pseudonymise_index, AuditRecord, EraseCounts,
    ErasePlan, HeldDocument, HeldPage, HeldStatement, PrivacyStore, RetentionCounts,
    RetentionPolicy,
};
use crate::store::{DocumentScope, StoreResult, TenantId};
use crate::xapi::IndexKey;

/// Statements deleted per step of a retention run.
const RETENTION_CHUNK: i64 = 2_000;

/// An erasure under way, as recorded before its first change.
#[derive(Serialize, Deserialize)]
struct Erasure {
    plan: ErasePlan,
    counts: EraseCounts,
    /// Attachments the removed statements declare, checked again at the end.
    hashes: Vec<String>,
}

/// A statement document as erasure needs it.
struct Found {
    id: String,
    body: Value,
    voided: bool,
    keys: Vec<IndexKey>,
}

/// Matches the statements an agent field ties to any of the IFIs, voided ones too.
fn tied_to(tenant: TenantId, ifis: &[String]) -> BsonDocument {
    doc! {"tenant": tenant, "$or": [
        {"related_agents": {"$in": ifis}},
        {"voided_keys.related_agents": {"$in": ifis}},
    ]}
}

impl MongoStore {
    pub(super) fn privacy_indexes() -> Vec<(&'static str, Vec<IndexModel>)> {
        vec![
            // Voided statements keep their keys here; erasure must find them too.
            (
                "statements",
                vec![index(
                    doc! {"tenant": 1, "voided_keys.related_agents": 1},
                    false,
                )],
            ),
            (
                "privacy_audit",
                vec![index(doc! {"tenant": 1, "id": 1}, true)],
            ),
            (
                "retention_policies",
                vec![index(doc! {"tenant": 1, "id": 1}, true)],
            ),
        ]
    }

    async fn tied_statements(&self, tenant: TenantId, ifis: &[String]) -> StoreResult<Vec<Found>> {
        let cursor = self
            .coll("statements")
            .find(tied_to(tenant, ifis))
            .sort(doc! {"seq": 1})
            .await?;
        collect(cursor)
            .await?
            .iter()
            .map(|d| {
                Ok(Found {
                    id: get_str(d, "id")?,
                    body: serde_json::from_str(&get_str(d, "statement")?).map_err(backend)?,
                    voided: d.get_bool("voided").unwrap_or(false),
                    keys: index_of(d)?,
                })
            })
            .collect()
    }

    /// What erasing the person changes, counted, with the attachments it may orphan.
    async fn plan_erasure(&self, tenant: TenantId, plan: &ErasePlan) -> StoreResult<Erasure> {
        let ifis: HashSet<&str> = plan.ifis.iter().map(String::as_str).collect();
        let found = self.tied_statements(tenant, &plan.ifis).await?;
        let (doomed, kept): (Vec<&Found>, Vec<&Found>) =
            found.iter().partition(|f| actor_is(&f.body, &ifis));
        let doomed_ids: Vec<&str> = doomed.iter().map(|f| f.id.as_str()).collect();
        let hashes: BTreeSet<String> = doomed
            .iter()
            .flat_map(|f| attachment_hashes(&f.body))
            .collect();
        let mut attachments = 0;
        for hash in &hashes {
            let stored = self
                .coll("attachments")
                .count_documents(doc! {"tenant": tenant, "sha2": hash})
                .await?;
            let users = self
                .coll("statements")
                .count_documents(doc! {
                    "tenant": tenant, "statement": {"$regex": hash.as_str()},
                    "id": {"$nin": &doomed_ids},
                })
                .await?;
            attachments += u64::from(stored > 0 && users == 0);
        }
        let count = |name: &'static str, filter: BsonDocument| async move {
            self.coll(name).count_documents(filter).await
        };
        let memberships = collect(
            self.coll("teams")
                .find(doc! {"tenant": tenant, "members.ifi": {"$in": &plan.ifis}})
                .await?,
        )
        .await?
        .iter()
        .map(|t| {
            t.get_array("members")
                .map(|m| {
                    m.iter()
                        .filter_map(Bson::as_document)
                        .filter(|m| m.get_str("ifi").is_ok_and(|i| ifis.contains(i)))
                        .count() as u64
                })
                .unwrap_or(0)
        })
        .sum();
        let counts = EraseCounts {
            statements_deleted: doomed.len() as u64,
            statements_pseudonymised: kept.len() as u64,
            attachments_deleted: attachments,
            documents_deleted: count(
                "documents",
                doc! {"tenant": tenant, "kind": {"$in": [1_i64, 3_i64]}, "agent": {"$in": &plan.ifis}},
            )
            .await?,
            agent_names_deleted: count("agent_names", doc! {"tenant": tenant, "ifi": {"$in": &plan.ifis}})
                .await?,
            identities_deleted: count(
                "person_identities",
                doc! {"tenant": tenant, "ifi": {"$in": &plan.ifis}},
            )
            .await?,
            team_memberships_deleted: memberships,
            dead_letters_deleted: count(
                "dead_letters",
                doc! {"tenant": tenant, "statement_id": {"$in": &doomed_ids}},
            )
            .await?,
        };
        Ok(Erasure {
            plan: plan.clone(),
            counts,
            hashes: hashes.into_iter().collect(),
        })
    }

    /// Carries an erasure out; every step may run again.
    async fn run_erasure(&self, tenant: TenantId, erasure: &Erasure) -> StoreResult<()> {
        let plan = &erasure.plan;
        let ifis: HashSet<&str> = plan.ifis.iter().map(String::as_str).collect();
        let statements = self.coll("statements");
        let mut doomed = Vec::new();
        for f in self.tied_statements(tenant, &plan.ifis).await? {
            if actor_is(&f.body, &ifis) {
                doomed.push(f.id);
                continue;
            }
            let mut body = f.body;
            pseudonymise(&mut body, &ifis, &plan.pseudonym);
            let keys = pseudonymise_index(&f.keys, &ifis, &plan.pseudonym);
            let mut arrays: BTreeMap<&str, Vec<&str>> =
                ARRAY_FIELDS.iter().map(|f| (*f, vec![])).collect();
            for key in &keys {
                for field in fields_of(key.kind) {
                    let values = arrays.entry(field).or_default();
                    if !values.contains(&key.key.as_str()) {
                        values.push(&key.key);
                    }
                }
            }
            let mut set = doc! {"statement": body.to_string()};
            for (field, values) in arrays {
                // A voided statement keeps its keys aside (see `statements::apply_effects`).
                let path = if f.voided {
                    format!("voided_keys.{field}")
                } else {
                    field.to_owned()
                };
                set.insert(path, values);
            }
            statements
                .update_one(doc! {"tenant": tenant, "id": &f.id}, doc! {"$set": set})
                .await?;
        }
        // Evidence first: the removed statements' rows, then the person's own rows on
        // statements that stay (evidence as instructor), found by person once the
        // statements are gone.
        self.withdraw_evidence(tenant, &doomed).await?;
        self.withdraw_where(
            tenant,
            doc! {"tenant": tenant, "person": {"$in": &plan.people}},
        )
        .await?;
        self.coll("dead_letters")
            .delete_many(doc! {"tenant": tenant, "statement_id": {"$in": &doomed}})
            .await?;
        statements
            .delete_many(doc! {"tenant": tenant, "id": {"$in": &doomed}})
            .await?;
        for hash in &erasure.hashes {
            self.delete_if_orphaned(tenant, hash).await?;
        }
        let mine = doc! {"tenant": tenant, "ifi": {"$in": &plan.ifis}};
        self.coll("documents")
            .delete_many(doc! {"tenant": tenant, "kind": {"$in": [1_i64, 3_i64]}, "agent": {"$in": &plan.ifis}})
            .await?;
        self.coll("agent_names").delete_many(mine.clone()).await?;
        self.coll("person_identities").delete_many(mine).await?;
        self.coll("teams")
            .update_many(
                doc! {"tenant": tenant, "members.ifi": {"$in": &plan.ifis}},
                doc! {"$pull": {"members": {"ifi": {"$in": &plan.ifis}}}},
            )
            .await?;
        Ok(())
    }

    /// Removes an attachment no statement of the tenant declares any more; whether it did.
    async fn delete_if_orphaned(&self, tenant: TenantId, hash: &str) -> StoreResult<bool> {
        let used = self
            .coll("statements")
            .find_one(doc! {"tenant": tenant, "statement": {"$regex": hash}})
            .projection(doc! {"_id": 1})
            .await?
            .is_some();
        if used {
            return Ok(false);
        }
        let gone = self
            .coll("attachments")
            .delete_one(doc! {"tenant": tenant, "sha2": hash})
            .await?;
        Ok(gone.deleted_count > 0)
    }

    /// Completes a recorded erasure: runs it, writes its audit record, drops the record.
    async fn finish_erasure(&self, tenant: TenantId, erasure: &Erasure) -> StoreResult<()> {
        self.run_erasure(tenant, erasure).await?;
        let mut audit = erasure.plan.audit.clone();
        audit.counts = serde_json::to_value(erasure.counts).map_err(backend)?;
        self.add_audit(tenant, audit).await?;
        self.coll("erasures")
            .delete_one(doc! {"_id": &erasure.plan.audit.id})
            .await?;
        Ok(())
    }

    /// One chunk of the statements a retention policy covers, after `after` (a `seq`).
    async fn covered_chunk(
        &self,
        tenant: TenantId,
        policy: &RetentionPolicy,
        cutoff: i64,
        after: i64,
    ) -> StoreResult<(Vec<(String, Value)>, Option<i64>)> {
        let docs = collect(
            self.coll("statements")
                .find(doc! {"tenant": tenant, "stored": {"$lt": cutoff.saturating_add(1)}, "seq": {"$gt": after}})
                .sort(doc! {"seq": 1})
                .limit(RETENTION_CHUNK)
                .projection(doc! {"id": 1, "seq": 1, "statement": 1})
                .await?,
        )
        .await?;
        let next = match docs.last() {
            Some(d) if docs.len() as i64 == RETENTION_CHUNK => Some(get_i64(d, "seq")?),
            _ => None,
        };
        let mut covered = Vec::new();
        for d in &docs {
            let body: Value = serde_json::from_str(&get_str(d, "statement")?).map_err(backend)?;
            if policy.covers(&body) {
                covered.push((get_str(d, "id")?, body));
            }
        }
        Ok((covered, next))
    }
}

#[async_trait]
impl PrivacyStore for MongoStore {
    async fn person_statements(
        &self,
        tenant: TenantId,
        ifis: &[String],
        after: Option<i64>,
        limit: usize,
    ) -> StoreResult<HeldPage> {
        let mut filter = tied_to(tenant, ifis);
        filter.insert("seq", doc! {"$gt": after.unwrap_or(0)});
        let docs = collect(
            self.coll("statements")
                .find(filter)
                .sort(doc! {"seq": 1})
                .limit(limit as i64)
                .await?,
        )
        .await?;
        let next = match docs.last() {
            Some(d) if docs.len() == limit => Some(get_i64(d, "seq")?),
            _ => None,
        };
        let statements = docs
            .iter()
            .map(|d| {
                Ok(HeldStatement {
                    body: serde_json::from_str(&get_str(d, "statement")?).map_err(backend)?,
                    voided: d.get_bool("voided").unwrap_or(false),
                    stored_millis: get_i64(d, "stored")?,
                    tags: d
                        .get_str("tags")
                        .ok()
                        .map(serde_json::from_str)
                        .transpose()
                        .map_err(backend)?,
                })
            })
            .collect::<StoreResult<_>>()?;
        Ok(HeldPage { statements, next })
    }

    async fn person_documents(
        &self,
        tenant: TenantId,
        ifis: &[String],
    ) -> StoreResult<Vec<HeldDocument>> {
        let docs = collect(
            self.coll("documents")
                .find(doc! {"tenant": tenant, "kind": {"$in": [1_i64, 3_i64]}, "agent": {"$in": ifis}})
                .await?,
        )
        .await?;
        let mut out = Vec::new();
        for d in &docs {
            let scope = DocumentScope::from_key(
                get_i64(d, "kind")?,
                &get_str(d, "activity_id")?,
                &get_str(d, "agent")?,
                &get_str(d, "registration")?,
            );
            if let Some(scope) = scope {
                out.push(HeldDocument {
                    scope,
                    id: get_str(d, "doc_id")?,
                    document: to_document(d)?,
                });
            }
        }
        Ok(out)
    }

    async fn person_teams(&self, tenant: TenantId, ifis: &[String]) -> StoreResult<Vec<Team>> {
        let ids: BTreeSet<String> = collect(
            self.coll("teams")
                .find(doc! {"tenant": tenant, "members.ifi": {"$in": ifis}})
                .projection(doc! {"id": 1})
                .await?,
        )
        .await?
        .iter()
        .map(|d| get_str(d, "id"))
        .collect::<StoreResult<_>>()?;
        let mut teams = Vec::new();
        for id in ids {
            teams.extend(self.team(tenant, &id).await?);
        }
        Ok(teams)
    }

    async fn erase_person(
        &self,
        tenant: TenantId,
        plan: ErasePlan,
        dry_run: bool,
    ) -> StoreResult<EraseCounts> {
        let erasure = self.plan_erasure(tenant, &plan).await?;
        if dry_run {
            return Ok(erasure.counts);
        }
        let text = serde_json::to_string(&erasure).map_err(backend)?;
        self.coll("erasures")
            .insert_one(doc! {
                "_id": &plan.audit.id, "tenant": tenant, "erasure": text,
                "started": Utc::now().timestamp_millis(),
            })
            .await?;
        self.finish_erasure(tenant, &erasure).await?;
        Ok(erasure.counts)
    }

    async fn resume_erasures(&self) -> StoreResult<u64> {
        let pending = collect(self.coll("erasures").find(doc! {}).await?).await?;
        let mut done = 0;
        for d in &pending {
            let tenant = get_i64(d, "tenant")?;
            let erasure: Erasure =
                serde_json::from_str(&get_str(d, "erasure")?).map_err(backend)?;
            self.finish_erasure(tenant, &erasure).await?;
            done += 1;
        }
        Ok(done)
    }

    async fn apply_retention(
        &self,
        tenant: TenantId,
        policy: &RetentionPolicy,
        cutoff_millis: i64,
        dry_run: bool,
    ) -> StoreResult<RetentionCounts> {
        let mut total = RetentionCounts::default();
        let mut hashes = BTreeSet::new();
        let mut after = 0;
        loop {
            let (covered, next) = self
                .covered_chunk(tenant, policy, cutoff_millis, after)
                .await?;
            let ids: Vec<String> = covered.iter().map(|(id, _)| id.clone()).collect();
            let chunk_hashes: BTreeSet<String> = covered
                .iter()
                .flat_map(|(_, b)| attachment_hashes(b))
                .collect();
            total.statements_deleted += ids.len() as u64;
            let letters = doc! {"tenant": tenant, "statement_id": {"$in": &ids}};
            if dry_run {
                total.dead_letters_deleted +=
                    self.coll("dead_letters").count_documents(letters).await?;
                hashes.extend(chunk_hashes);
            } else if !ids.is_empty() {
                self.withdraw_evidence(tenant, &ids).await?;
                total.dead_letters_deleted += self
                    .coll("dead_letters")
                    .delete_many(letters)
                    .await?
                    .deleted_count;
                self.coll("statements")
                    .delete_many(doc! {"tenant": tenant, "id": {"$in": &ids}})
                    .await?;
                for hash in chunk_hashes {
                    total.attachments_deleted +=
                        u64::from(self.delete_if_orphaned(tenant, &hash).await?);
                }
            }
            match next {
                Some(n) => after = n,
                None => break,
            }
        }
        // A dry run: an attachment goes when every statement declaring it is covered.
        for hash in hashes {
            let stored = self
                .coll("attachments")
                .count_documents(doc! {"tenant": tenant, "sha2": &hash})
                .await?;
            if stored == 0 {
                continue;
            }
            let users = collect(
                self.coll("statements")
                    .find(doc! {"tenant": tenant, "statement": {"$regex": hash.as_str()}})
                    .projection(doc! {"stored": 1, "statement": 1})
                    .await?,
            )
            .await?;
            let mut kept = false;
            for u in &users {
                let body: Value =
                    serde_json::from_str(&get_str(u, "statement")?).map_err(backend)?;
                if get_i64(u, "stored")? > cutoff_millis || !policy.covers(&body) {
                    kept = true;
                    break;
                }
            }
            total.attachments_deleted += u64::from(!kept);
        }
        Ok(total)
    }

    async fn add_audit(&self, tenant: TenantId, record: AuditRecord) -> StoreResult<()> {
        let text = serde_json::to_string(&record).map_err(backend)?;
        self.upsert(
            "privacy_audit",
            doc! {"tenant": tenant, "id": &record.id},
            doc! {"$set": {"at": record.at_millis, "record": text}},
        )
        .await?;
        Ok(())
    }

    async fn audit_records(
        &self,
        tenant: TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<AuditRecord>> {
        let docs = collect(
            self.coll("privacy_audit")
                .find(doc! {"tenant": tenant, "id": {"$gt": after.unwrap_or_default()}})
                .sort(doc! {"id": 1})
                .limit(limit as i64)
                .await?,
        )
        .await?;
        docs.iter()
            .map(|d| serde_json::from_str(&get_str(d, "record")?).map_err(backend))
            .collect()
    }

    async fn retention_policies(&self, tenant: TenantId) -> StoreResult<Vec<RetentionPolicy>> {
        let docs = collect(
            self.coll("retention_policies")
                .find(doc! {"tenant": tenant})
                .sort(doc! {"id": 1})
                .await?,
        )
        .await?;
        docs.iter()
            .map(|d| serde_json::from_str(&get_str(d, "policy")?).map_err(backend))
            .collect()
    }

    async fn all_retention_policies(&self) -> StoreResult<Vec<(TenantId, RetentionPolicy)>> {
        let docs = collect(
            self.coll("retention_policies")
                .find(doc! {})
                .sort(doc! {"tenant": 1, "id": 1})
                .await?,
        )
        .await?;
        docs.iter()
            .map(|d| {
                Ok((
                    get_i64(d, "tenant")?,
                    serde_json::from_str(&get_str(d, "policy")?).map_err(backend)?,
                ))
            })
            .collect()
    }

    async fn put_retention_policy(
        &self,
        tenant: TenantId,
        policy: RetentionPolicy,
    ) -> StoreResult<bool> {
        let text = serde_json::to_string(&policy).map_err(backend)?;
        let result = self
            .upsert(
                "retention_policies",
                doc! {"tenant": tenant, "id": &policy.id},
                doc! {"$set": {"policy": text, "updated": Utc::now().timestamp_millis()}},
            )
            .await?;
        Ok(result.upserted_id.is_some())
    }

    async fn delete_retention_policy(&self, tenant: TenantId, id: &str) -> StoreResult<bool> {
        let gone = self
            .coll("retention_policies")
            .delete_one(doc! {"tenant": tenant, "id": id})
            .await?;
        Ok(gone.deleted_count > 0)
    }
}
