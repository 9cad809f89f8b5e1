//! Skill evidence on MongoDB. Collections: `evidence` (unique per tenant, statement and
//! item; by person and item), `person_items` (unique per tenant, person and item; ranked
//! by `normalized` per item), `activity_stats` (unique per tenant, item and activity) and
//! `teams` (unique per tenant and id, members embedded).
//!
//! Evidence rows are inserted before the sums they add to, and only the rows a write
//! really inserted are added, so a repeated write adds nothing twice. A person's sum is
//! recomputed from their rows whenever rows leave (voiding, retagging, links).

use std::collections::{BTreeSet, HashMap, HashSet};

use async_trait::async_trait;
use chrono::Utc;
use mongodb::bson::{doc, Bson, Document as BsonDocument};
use mongodb::IndexModel;

use super::{backend, collect, get_i64, get_str, index, is_duplicate_key, MongoStore};
use crate::store::evidence::EvidenceItem;
use crate::store::evidence::{
    outcome_bits, outcome_from, weight_from, ActivityStats, CoOccurrence, EvidenceRow,
    EvidenceStore, PersonItem, SeenTeam, Team, TeamOrigin,
};
use crate::store::people::PeopleStore;
use crate::store::{StoreResult, TenantId};

fn get_f64(d: &BsonDocument, key: &str) -> StoreResult<f64> {
    match d.get(key) {
        Some(Bson::Double(v)) => Ok(*v),
        Some(Bson::Int64(v)) => Ok(*v as f64),
        Some(Bson::Int32(v)) => Ok(f64::from(*v)),
        _ => Err(backend(anyhow::anyhow!("field `{key}` is not a number"))),
    }
}

fn get_u64(d: &BsonDocument, key: &str) -> StoreResult<u64> {
    Ok(get_i64(d, key)?.max(0) as u64)
}

fn evidence_doc(tenant: TenantId, person: &str, e: &EvidenceItem) -> BsonDocument {
    let w = &e.weight;
    doc! {
        "tenant": tenant,
        "statement": &e.statement,
        "item": &e.item,
        "identity": &e.identity,
        "person": person,
        "activity": &e.activity,
        "verb": &e.verb,
        "factors": [w.verb, w.result, w.confidence, w.trust],
        "at": e.at_millis,
        "normalized": e.normalized,
        "outcome": outcome_bits(&e.outcome),
        "scaled": e.outcome.scaled.map_or(Bson::Null, Bson::Double),
    }
}

fn evidence_row(d: &BsonDocument) -> StoreResult<EvidenceRow> {
    let factors = d.get_array("factors").map_err(backend)?;
    let factor = |i: usize| factors.get(i).and_then(Bson::as_f64).unwrap_or_default();
    Ok(EvidenceRow {
        person: get_str(d, "person")?,
        item: EvidenceItem {
            statement: get_str(d, "statement")?,
            item: get_str(d, "item")?,
            identity: get_str(d, "identity")?,
            activity: get_str(d, "activity")?,
            verb: get_str(d, "verb")?,
            weight: weight_from([factor(0), factor(1), factor(2), factor(3)]),
            at_millis: get_i64(d, "at")?,
            normalized: get_f64(d, "normalized")?,
            outcome: outcome_from(get_i64(d, "outcome")?, d.get_f64("scaled").ok()),
        },
    })
}

fn person_item(d: &BsonDocument) -> StoreResult<PersonItem> {
    Ok(PersonItem {
        person: get_str(d, "person")?,
        item: get_str(d, "item")?,
        normalized: get_f64(d, "normalized")?,
        evidence: get_u64(d, "evidence")?,
        first_millis: get_i64(d, "first")?,
        last_millis: get_i64(d, "last")?,
    })
}

fn team_of(d: &BsonDocument) -> StoreResult<Team> {
    let mut members = d
        .get_array("members")
        .map_err(backend)?
        .iter()
        .filter_map(Bson::as_document)
        .map(|m| Ok((get_str(m, "ifi")?, get_str(m, "agent")?)))
        .collect::<StoreResult<Vec<_>>>()?;
    members.sort();
    Ok(Team {
        id: get_str(d, "id")?,
        name: get_str(d, "name")?,
        origin: TeamOrigin::from_name(&get_str(d, "origin")?).unwrap_or(TeamOrigin::Api),
        group: d.get_str("group").ok().map(str::to_owned),
        members,
    })
}

fn member_docs(members: &[(String, String)]) -> Vec<BsonDocument> {
    members
        .iter()
        .map(|(ifi, agent)| doc! {"ifi": ifi, "agent": agent})
        .collect()
}

/// A key of evidence that makes a learner of an activity: (person, item, activity).
type LearnerKey = (String, String, String);

impl MongoStore {
    pub(super) fn evidence_indexes() -> Vec<(&'static str, Vec<IndexModel>)> {
        vec![
            (
                "evidence",
                vec![
                    index(
                        doc! {"tenant": 1, "statement": 1, "item": 1, "identity": 1},
                        true,
                    ),
                    index(doc! {"tenant": 1, "person": 1, "item": 1}, false),
                ],
            ),
            (
                "person_items",
                vec![
                    index(doc! {"tenant": 1, "person": 1, "item": 1}, true),
                    index(doc! {"tenant": 1, "item": 1, "normalized": -1}, false),
                ],
            ),
            (
                "activity_stats",
                vec![index(doc! {"tenant": 1, "item": 1, "activity": 1}, true)],
            ),
            ("teams", vec![index(doc! {"tenant": 1, "id": 1}, true)]),
        ]
    }

    /// Drops the evidence key of databases made before a statement could be evidence for
    /// one item for two people (its actor and an instructor it names): unique per
    /// statement and item only. Absent, nothing happens.
    pub(super) async fn drop_superseded_evidence_index(&self) -> StoreResult<()> {
        const INDEX_NOT_FOUND: i32 = 27;
        const NAMESPACE_NOT_FOUND: i32 = 26;
        match self
            .coll("evidence")
            .drop_index("tenant_1_statement_1_item_1")
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => match e.kind.as_ref() {
                mongodb::error::ErrorKind::Command(c)
                    if c.code == INDEX_NOT_FOUND || c.code == NAMESPACE_NOT_FOUND =>
                {
                    Ok(())
                }
                _ => Err(e.into()),
            },
        }
    }

    /// How many `person_items` matching `filter` each item has.
    async fn people_per_item(&self, filter: BsonDocument) -> StoreResult<Vec<(String, u64)>> {
        let cursor = self
            .coll("person_items")
            .aggregate([
                doc! {"$match": filter},
                doc! {"$group": {"_id": "$item", "n": {"$sum": 1_i64}}},
            ])
            .await?;
        collect(cursor)
            .await?
            .iter()
            .map(|d| Ok((get_str(d, "_id")?, get_u64(d, "n")?)))
            .collect()
    }

    /// Which of these (person, item, activity) keys have evidence.
    async fn learner_keys(
        &self,
        tenant: TenantId,
        people: &BTreeSet<String>,
    ) -> StoreResult<HashSet<LearnerKey>> {
        if people.is_empty() {
            return Ok(HashSet::new());
        }
        let people: Vec<&String> = people.iter().collect();
        let cursor = self
            .coll("evidence")
            .find(doc! {"tenant": tenant, "person": {"$in": people}})
            .projection(doc! {"person": 1, "item": 1, "activity": 1})
            .await?;
        collect(cursor)
            .await?
            .iter()
            .map(|d| {
                Ok((
                    get_str(d, "person")?,
                    get_str(d, "item")?,
                    get_str(d, "activity")?,
                ))
            })
            .collect()
    }

    /// Records evidence and adds what was inserted to the sums and activity counts.
    pub(super) async fn record_evidence(
        &self,
        tenant: TenantId,
        items: &[EvidenceItem],
    ) -> StoreResult<()> {
        if items.is_empty() {
            return Ok(());
        }
        let ifis: Vec<String> = items
            .iter()
            .map(|e| e.identity.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let people = self.people_of(tenant, &ifis).await?;
        let person = |e: &EvidenceItem| people.get(&e.identity).cloned().unwrap_or_default();
        let mut known = self
            .learner_keys(tenant, &people.values().cloned().collect())
            .await?;
        let docs: Vec<BsonDocument> = items
            .iter()
            .map(|e| evidence_doc(tenant, &person(e), e))
            .collect();
        let mut inserted: Vec<bool> = vec![true; items.len()];
        if let Err(e) = self.coll("evidence").insert_many(docs).ordered(false).await {
            if !is_duplicate_key(&e) {
                return Err(e.into());
            }
            if let mongodb::error::ErrorKind::InsertMany(m) = e.kind.as_ref() {
                for w in m.write_errors.iter().flatten() {
                    inserted[w.index] = false;
                }
            }
        }
        let mut sums: HashMap<(String, String), (f64, i64, i64, i64)> = HashMap::new();
        let mut stats: HashMap<(String, String), ActivityStats> = HashMap::new();
        for (e, _) in items.iter().zip(&inserted).filter(|(_, i)| **i) {
            let who = person(e);
            let sum =
                sums.entry((who.clone(), e.item.clone()))
                    .or_insert((0.0, 0, i64::MAX, i64::MIN));
            sum.0 += e.normalized;
            sum.1 += 1;
            sum.2 = sum.2.min(e.at_millis);
            sum.3 = sum.3.max(e.at_millis);
            if e.activity.is_empty() {
                continue;
            }
            let learner = known.insert((who, e.item.clone(), e.activity.clone()));
            let s = stats
                .entry((e.item.clone(), e.activity.clone()))
                .or_default();
            count(s, e, learner);
        }
        for ((who, item), (normalized, n, first, last)) in sums {
            self.upsert(
                "person_items",
                doc! {"tenant": tenant, "person": who, "item": item},
                doc! {
                    "$inc": {"normalized": normalized, "evidence": n},
                    "$min": {"first": first},
                    "$max": {"last": last},
                },
            )
            .await?;
        }
        for ((item, activity), s) in stats {
            self.add_activity_stats(tenant, &item, &activity, &s, 1)
                .await?;
        }
        Ok(())
    }

    async fn add_activity_stats(
        &self,
        tenant: TenantId,
        item: &str,
        activity: &str,
        s: &ActivityStats,
        sign: i64,
    ) -> StoreResult<()> {
        let n = |v: u64| sign * v as i64;
        self.upsert(
            "activity_stats",
            doc! {"tenant": tenant, "item": item, "activity": activity},
            doc! {"$inc": {
                "statements": n(s.statements),
                "learners": n(s.learners),
                "completions": n(s.completions),
                "successes": n(s.successes),
                "failures": n(s.failures),
                "score_sum": sign as f64 * s.score_sum,
                "scored": n(s.scored),
            }},
        )
        .await?;
        if sign < 0 {
            self.coll("activity_stats")
                .delete_one(doc! {
                    "tenant": tenant, "item": item, "activity": activity,
                    "statements": {"$lte": 0_i64},
                })
                .await?;
        }
        Ok(())
    }

    /// Takes the evidence of statements out (voided, or being retagged).
    pub(super) async fn withdraw_evidence(
        &self,
        tenant: TenantId,
        statements: &[String],
    ) -> StoreResult<()> {
        if statements.is_empty() {
            return Ok(());
        }
        let filter = doc! {"tenant": tenant, "statement": {"$in": statements}};
        self.withdraw_where(tenant, filter).await
    }

    /// Takes out the evidence rows `filter` matches (every row of some statements, or a
    /// person's rows on statements that stay), recounting what they were in.
    pub(super) async fn withdraw_where(
        &self,
        tenant: TenantId,
        filter: BsonDocument,
    ) -> StoreResult<()> {
        let rows = collect(self.coll("evidence").find(filter.clone()).await?)
            .await?
            .iter()
            .map(evidence_row)
            .collect::<StoreResult<Vec<_>>>()?;
        if rows.is_empty() {
            return Ok(());
        }
        self.coll("evidence").delete_many(filter).await?;
        let people: BTreeSet<String> = rows.iter().map(|r| r.person.clone()).collect();
        let remaining = self.learner_keys(tenant, &people).await?;
        let mut gone: HashSet<LearnerKey> = HashSet::new();
        let mut stats: HashMap<(String, String), ActivityStats> = HashMap::new();
        let mut touched = BTreeSet::new();
        for row in &rows {
            let e = &row.item;
            touched.insert((row.person.clone(), e.item.clone()));
            if e.activity.is_empty() {
                continue;
            }
            let key = (row.person.clone(), e.item.clone(), e.activity.clone());
            let last = !remaining.contains(&key) && gone.insert(key);
            let s = stats
                .entry((e.item.clone(), e.activity.clone()))
                .or_default();
            count(s, e, last);
        }
        for ((item, activity), s) in stats {
            self.add_activity_stats(tenant, &item, &activity, &s, -1)
                .await?;
        }
        for (person, item) in touched {
            self.refresh(tenant, &person, &item).await?;
        }
        Ok(())
    }

    /// Recomputes a person's sum for an item from their evidence rows.
    async fn refresh(&self, tenant: TenantId, person: &str, item: &str) -> StoreResult<()> {
        let key = doc! {"tenant": tenant, "person": person, "item": item};
        let rows = collect(
            self.coll("evidence")
                .find(key.clone())
                .projection(doc! {"normalized": 1, "at": 1})
                .await?,
        )
        .await?;
        if rows.is_empty() {
            self.coll("person_items").delete_one(key).await?;
            return Ok(());
        }
        let (mut normalized, mut first, mut last) = (0.0, i64::MAX, i64::MIN);
        for d in &rows {
            normalized += get_f64(d, "normalized")?;
            let at = get_i64(d, "at")?;
            first = first.min(at);
            last = last.max(at);
        }
        let set = doc! {"$set": {
            "normalized": normalized,
            "evidence": rows.len() as i64,
            "first": first,
            "last": last,
        }};
        self.upsert("person_items", key, set).await?;
        Ok(())
    }

    /// Moves an identity's evidence from one person to another.
    pub(super) async fn move_identity(
        &self,
        tenant: TenantId,
        ifi: &str,
        from: &str,
        to: &str,
    ) -> StoreResult<()> {
        if from == to {
            return Ok(());
        }
        let filter = doc! {"tenant": tenant, "person": from, "identity": ifi};
        let moved: BTreeSet<(String, String)> = collect(
            self.coll("evidence")
                .find(filter.clone())
                .projection(doc! {"item": 1, "activity": 1})
                .await?,
        )
        .await?
        .iter()
        .map(|d| Ok((get_str(d, "item")?, get_str(d, "activity")?)))
        .collect::<StoreResult<_>>()?;
        // An activity's learners are the people with a row of it: the receiving person may
        // become one, the giving person may stop being one.
        let activities: Vec<&(String, String)> =
            moved.iter().filter(|(_, a)| !a.is_empty()).collect();
        let mut joins = Vec::with_capacity(activities.len());
        for (item, activity) in &activities {
            joins.push(!self.has_activity_row(tenant, to, item, activity).await?);
        }
        self.coll("evidence")
            .update_many(filter, doc! {"$set": {"person": to}})
            .await?;
        for ((item, activity), joins) in activities.into_iter().zip(joins) {
            let leaves = !self.has_activity_row(tenant, from, item, activity).await?;
            let d = i64::from(joins) - i64::from(leaves);
            if d != 0 {
                self.coll("activity_stats")
                    .update_one(
                        doc! {"tenant": tenant, "item": item, "activity": activity},
                        doc! {"$inc": {"learners": d}},
                    )
                    .await?;
            }
        }
        let items: BTreeSet<&String> = moved.iter().map(|(item, _)| item).collect();
        for item in items {
            self.refresh(tenant, from, item).await?;
            self.refresh(tenant, to, item).await?;
        }
        Ok(())
    }

    /// Whether a person has an evidence row of an activity for an item.
    async fn has_activity_row(
        &self,
        tenant: TenantId,
        person: &str,
        item: &str,
        activity: &str,
    ) -> StoreResult<bool> {
        let row = doc! {"tenant": tenant, "person": person, "item": item, "activity": activity};
        Ok(self.coll("evidence").find_one(row).await?.is_some())
    }

    /// Keeps the identified Groups statements name as teams, adding members as they appear.
    pub(super) async fn keep_teams(
        &self,
        tenant: TenantId,
        teams: &[&SeenTeam],
    ) -> StoreResult<()> {
        let now = Utc::now().timestamp_millis();
        for team in teams {
            self.upsert(
                "teams",
                doc! {"tenant": tenant, "id": &team.id},
                doc! {
                    "$setOnInsert": {
                        "name": &team.name, "origin": TeamOrigin::Statements.name(),
                        "group": &team.group, "updated": now,
                    },
                    "$addToSet": {"members": {"$each": member_docs(&team.members)}},
                },
            )
            .await?;
        }
        Ok(())
    }
}

/// Counts one evidence statement into an activity's figures.
fn count(s: &mut ActivityStats, e: &EvidenceItem, learner: bool) {
    let o = &e.outcome;
    s.statements += 1;
    s.learners += u64::from(learner);
    s.completions += u64::from(o.completed);
    s.successes += u64::from(o.success == Some(true));
    s.failures += u64::from(o.success == Some(false));
    s.score_sum += o.scaled.unwrap_or(0.0);
    s.scored += u64::from(o.scaled.is_some());
}

#[async_trait]
impl EvidenceStore for MongoStore {
    async fn person_evidence(
        &self,
        tenant: TenantId,
        person: &str,
        item: Option<&str>,
    ) -> StoreResult<Vec<EvidenceRow>> {
        let mut filter = doc! {"tenant": tenant, "person": person};
        if let Some(item) = item {
            filter.insert("item", item);
        }
        let cursor = self
            .coll("evidence")
            .find(filter)
            .sort(doc! {"at": -1})
            .await?;
        collect(cursor).await?.iter().map(evidence_row).collect()
    }

    async fn people_evidence(
        &self,
        tenant: TenantId,
        people: &[String],
        items: &[String],
    ) -> StoreResult<Vec<EvidenceRow>> {
        if people.is_empty() || items.is_empty() {
            return Ok(Vec::new());
        }
        let cursor = self
            .coll("evidence")
            .find(doc! {"tenant": tenant, "person": {"$in": people}, "item": {"$in": items}})
            .sort(doc! {"at": -1})
            .await?;
        let mut rows: Vec<EvidenceRow> = collect(cursor)
            .await?
            .iter()
            .map(evidence_row)
            .collect::<StoreResult<_>>()?;
        let rank = |list: &[String], of: &str| list.iter().position(|x| x == of);
        // Stable, so each person's rows for an item stay newest first.
        rows.sort_by_key(|r| (rank(people, &r.person), rank(items, &r.item.item)));
        Ok(rows)
    }

    async fn person_items(
        &self,
        tenant: TenantId,
        people: &[String],
    ) -> StoreResult<Vec<PersonItem>> {
        if people.is_empty() {
            return Ok(Vec::new());
        }
        let cursor = self
            .coll("person_items")
            .find(doc! {"tenant": tenant, "person": {"$in": people}})
            .await?;
        collect(cursor).await?.iter().map(person_item).collect()
    }

    async fn ranked(
        &self,
        tenant: TenantId,
        item: &str,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<PersonItem>> {
        let cursor = self
            .coll("person_items")
            .find(doc! {"tenant": tenant, "item": item})
            .sort(doc! {"normalized": -1})
            .skip(offset)
            .limit(limit as i64)
            .await?;
        collect(cursor).await?.iter().map(person_item).collect()
    }

    async fn co_occurrence(&self, tenant: TenantId, item: &str) -> StoreResult<CoOccurrence> {
        let coll = self.coll("person_items");
        let people = coll
            .distinct("person", doc! {"tenant": tenant})
            .await?
            .len() as u64;
        let per_item = self.people_per_item(doc! {"tenant": tenant}).await?;
        let holders: Vec<Bson> = coll
            .distinct("person", doc! {"tenant": tenant, "item": item})
            .await?;
        let with_item = self
            .people_per_item(
                doc! {"tenant": tenant, "person": {"$in": holders}, "item": {"$ne": item}},
            )
            .await?;
        Ok(CoOccurrence {
            people,
            per_item,
            with_item,
        })
    }

    async fn activity_stats(
        &self,
        tenant: TenantId,
        item: &str,
    ) -> StoreResult<Vec<ActivityStats>> {
        let cursor = self
            .coll("activity_stats")
            .find(doc! {"tenant": tenant, "item": item})
            .await?;
        collect(cursor)
            .await?
            .iter()
            .map(|d| {
                Ok(ActivityStats {
                    activity: get_str(d, "activity")?,
                    statements: get_u64(d, "statements")?,
                    learners: get_u64(d, "learners")?,
                    completions: get_u64(d, "completions")?,
                    successes: get_u64(d, "successes")?,
                    failures: get_u64(d, "failures")?,
                    score_sum: get_f64(d, "score_sum")?,
                    scored: get_u64(d, "scored")?,
                })
            })
            .collect()
    }

    async fn teams(
        &self,
        tenant: TenantId,
        after: Option<&str>,
        limit: u64,
    ) -> StoreResult<Vec<Team>> {
        let cursor = self
            .coll("teams")
            .find(doc! {"tenant": tenant, "id": {"$gt": after.unwrap_or_default()}})
            .sort(doc! {"id": 1})
            .limit(limit as i64)
            .await?;
        collect(cursor).await?.iter().map(team_of).collect()
    }

    async fn team(&self, tenant: TenantId, id: &str) -> StoreResult<Option<Team>> {
        self.coll("teams")
            .find_one(doc! {"tenant": tenant, "id": id})
            .await?
            .as_ref()
            .map(team_of)
            .transpose()
    }

    async fn put_team(&self, tenant: TenantId, team: Team) -> StoreResult<bool> {
        let set = doc! {"$set": {
            "name": &team.name,
            "origin": team.origin.name(),
            "group": team.group.as_deref().map_or(Bson::Null, |g| Bson::String(g.to_owned())),
            "members": member_docs(&team.members),
            "updated": Utc::now().timestamp_millis(),
        }};
        let result = self
            .upsert("teams", doc! {"tenant": tenant, "id": &team.id}, set)
            .await?;
        Ok(result.upserted_id.is_some())
    }

    async fn delete_team(&self, tenant: TenantId, id: &str) -> StoreResult<bool> {
        let deleted = self
            .coll("teams")
            .delete_one(doc! {"tenant": tenant, "id": id})
            .await?;
        Ok(deleted.deleted_count > 0)
    }
}
