//! The equivalence stage: an activity id with a row in the tenant's activity-equivalence
//! table counts as its canonical id for tagging, evidence and activity statistics, so the
//! same course seen in an LMS (`https://lms.example.com/courses/agile`) and on LinkedIn
//! Learning (`urn:li:lyndaCourse:…`) is one activity. Statements are stored as sent: the
//! stage rewrites the ids in place for the tag and derive stages and undoes that before
//! the prepare stage reads the body ([`Rewrites`]).
//!
//! Each gateway keeps each tenant's table in memory when it is small (the common case:
//! a tenant maps tens or hundreds of courses), so a batch costs no store read at all and
//! an empty table costs nothing; a large table is asked once per batch for the batch's
//! distinct ids (`canonical_ids`). Writes made here take effect at once; writes made
//! through another gateway within [`FRESH`].
//!
//! Chains are refused rather than resolved: an alias whose canonical id is itself an
//! alias, or an alias that other rows use as their canonical id, is a 400 naming the
//! field, so the table always maps in one step and deleting a row never changes what
//! another row means.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::store::activity_map::Equivalence;
use crate::store::{Store, StoreResult, TenantId};
use crate::xapi::json::at;
use crate::xapi::rules::is_iri;
use crate::xapi::Violation;

/// How stale a gateway's copy of a small table may be (changes through another gateway).
pub const FRESH: Duration = Duration::from_secs(1);
/// How long a gateway goes on asking the store batch by batch before it looks whether a
/// large table has become small.
const LARGE_RECHECK: Duration = Duration::from_secs(300);
/// Tables up to this many rows are kept in memory.
const SMALL_ROWS: usize = 10_000;

/// The context-activity slots, whose ids tagging reads besides the object's.
const CONTEXT_SLOTS: [&str; 4] = ["parent", "grouping", "category", "other"];

/// Who sets rows through the API.
pub const MANUAL: &str = "manual";

enum Table {
    /// Every row, alias → canonical (empty for an empty table).
    Small(Arc<HashMap<String, String>>),
    /// Too many rows to keep: ask the store for each batch's ids.
    Large,
}

struct Cached {
    table: Table,
    checked: Instant,
}

/// The tenants' activity-equivalence tables: lookups for the ingest pipeline, and the
/// checked writes the API and connectors make.
pub struct ActivityMap {
    store: Store,
    cache: RwLock<HashMap<TenantId, Cached>>,
}

/// The ids a batch had rewritten, to be put back: (statement, JSON pointer, id as sent).
#[derive(Debug, Default)]
#[must_use = "undo the rewrites before the statements are prepared"]
pub struct Rewrites(Vec<(usize, String, String)>);

impl Rewrites {
    /// Puts every rewritten id back as it was sent.
    pub fn undo(self, bodies: &mut [Value]) {
        for (i, pointer, original) in self.0 {
            if let Some(slot) = bodies.get_mut(i).and_then(|b| b.pointer_mut(&pointer)) {
                *slot = Value::String(original);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Where a statement names activities whose ids tagging and evidence read: the object
/// (when an Activity) and the context activities (an array, or in 1.0.x a single object).
fn activity_id_pointers(statement: &Value) -> Vec<String> {
    let mut pointers = Vec::new();
    let object = statement.get("object");
    let is_activity = object
        .and_then(|o| o.get("objectType"))
        .and_then(Value::as_str)
        .is_none_or(|t| t == "Activity");
    if is_activity
        && object
            .and_then(|o| o.get("id"))
            .is_some_and(Value::is_string)
    {
        pointers.push("/object/id".to_owned());
    }
    if let Some(slots) = at(statement, "/context/contextActivities") {
        for slot in CONTEXT_SLOTS {
            match slots.get(slot) {
                Some(Value::Array(list)) => {
                    for (i, a) in list.iter().enumerate() {
                        if a.get("id").is_some_and(Value::is_string) {
                            pointers.push(format!("/context/contextActivities/{slot}/{i}/id"));
                        }
                    }
                }
                Some(single) if single.get("id").is_some_and(Value::is_string) => {
                    pointers.push(format!("/context/contextActivities/{slot}/id"));
                }
                _ => {}
            }
        }
    }
    pointers
}

/// Rewrites, in place, every activity id of `bodies` that `map` has to its canonical id.
pub fn rewrite(bodies: &mut [Value], map: &HashMap<String, String>) -> Rewrites {
    let mut done = Vec::new();
    if map.is_empty() {
        return Rewrites(done);
    }
    for (i, body) in bodies.iter_mut().enumerate() {
        for pointer in activity_id_pointers(body) {
            let Some(slot) = body.pointer_mut(&pointer) else {
                continue;
            };
            let Some(canonical) = slot.as_str().and_then(|id| map.get(id)) else {
                continue;
            };
            let original = std::mem::replace(slot, Value::String(canonical.clone()));
            if let Value::String(original) = original {
                done.push((i, pointer, original));
            }
        }
    }
    Rewrites(done)
}

/// The distinct activity ids of a batch that tagging and evidence read.
fn distinct_ids(bodies: &[Value]) -> Vec<String> {
    let mut ids: HashSet<&str> = HashSet::new();
    for body in bodies {
        for pointer in activity_id_pointers(body) {
            if let Some(id) = body.pointer(&pointer).and_then(Value::as_str) {
                ids.insert(id);
            }
        }
    }
    ids.into_iter().map(str::to_owned).collect()
}

impl ActivityMap {
    pub fn new(store: Store) -> Self {
        ActivityMap {
            store,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// The equivalence stage of a batch: rewrites its activity ids to their canonical ids
    /// in place (one lookup at most); the caller undoes it before the bodies are stored.
    pub async fn canonicalize(
        &self,
        tenant: TenantId,
        bodies: &mut [Value],
    ) -> StoreResult<Rewrites> {
        let map = match self.table(tenant).await? {
            Some(small) if small.is_empty() => return Ok(Rewrites::default()),
            Some(small) => {
                // Only what the batch names, so rewriting reads a small map.
                let ids = distinct_ids(bodies);
                let found: HashMap<String, String> = ids
                    .into_iter()
                    .filter_map(|id| small.get(&id).map(|c| (id, c.clone())))
                    .collect();
                found
            }
            None => {
                let ids = distinct_ids(bodies);
                self.store
                    .activity_map
                    .canonical_ids(tenant, &ids)
                    .await?
                    .into_iter()
                    .collect()
            }
        };
        Ok(rewrite(bodies, &map))
    }

    /// The tenant's whole table when it is small (from memory while fresh), `None` when it
    /// is large.
    async fn table(&self, tenant: TenantId) -> StoreResult<Option<Arc<HashMap<String, String>>>> {
        if let Ok(cache) = self.cache.read() {
            if let Some(c) = cache.get(&tenant) {
                match &c.table {
                    Table::Small(map) if c.checked.elapsed() < FRESH => {
                        return Ok(Some(map.clone()))
                    }
                    Table::Large if c.checked.elapsed() < LARGE_RECHECK => return Ok(None),
                    _ => {}
                }
            }
        }
        let rows = self.store.activity_map.equivalences(tenant).await?;
        let table = if rows.len() > SMALL_ROWS {
            Table::Large
        } else {
            Table::Small(Arc::new(
                rows.into_iter().map(|r| (r.alias, r.canonical)).collect(),
            ))
        };
        let answer = match &table {
            Table::Small(map) => Some(map.clone()),
            Table::Large => None,
        };
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(
                tenant,
                Cached {
                    table,
                    checked: Instant::now(),
                },
            );
        }
        Ok(answer)
    }

    /// Forgets the tenant's table after a write made here.
    fn invalidate(&self, tenant: TenantId) {
        if let Ok(mut cache) = self.cache.write() {
            cache.remove(&tenant);
        }
    }

    /// A page of the tenant's table, by alias, after `after`.
    pub async fn list(
        &self,
        tenant: TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Equivalence>> {
        let rows = self.store.activity_map.equivalences(tenant).await?;
        Ok(rows
            .into_iter()
            .filter(|r| after.is_none_or(|a| r.alias.as_str() > a))
            .take(limit)
            .collect())
    }

    /// Checks and stores rows (created or replaced by alias). `pointer` prefixes the JSON
    /// pointers of violations (`/2` for the third row of a list, empty for one row).
    pub async fn put(
        &self,
        tenant: TenantId,
        rows: Vec<(String, Equivalence)>,
    ) -> Result<Vec<Equivalence>, PutError> {
        let existing = self.store.activity_map.equivalences(tenant).await?;
        let rows = check(&existing, rows)?;
        self.store
            .activity_map
            .put_equivalences(tenant, rows.clone())
            .await?;
        self.invalidate(tenant);
        Ok(rows)
    }

    /// Removes the row of `alias`; whether it existed.
    pub async fn delete(&self, tenant: TenantId, alias: &str) -> StoreResult<bool> {
        let deleted = self
            .store
            .activity_map
            .delete_equivalence(tenant, alias)
            .await?;
        self.invalidate(tenant);
        Ok(deleted)
    }
}

/// Why rows were not stored.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    #[error("{0}")]
    Invalid(#[from] Violation),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The rules of a write, against the table as it is: both ids absolute IRIs, an alias
/// different from its canonical id, one canonical id per alias in a request, and no chains
/// (see the module's comment). Each row comes with the pointer of its place in the request.
fn check(
    existing: &[Equivalence],
    rows: Vec<(String, Equivalence)>,
) -> Result<Vec<Equivalence>, Violation> {
    let mut after: HashMap<&str, &str> = existing
        .iter()
        .map(|r| (r.alias.as_str(), r.canonical.as_str()))
        .collect();
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for (at, row) in &rows {
        for (field, value) in [("alias", &row.alias), ("canonical", &row.canonical)] {
            if !is_iri(value) {
                return Err(Violation::new(
                    format!("{at}/{field}"),
                    "iri",
                    format!("`{value}` is not an absolute IRI"),
                ));
            }
        }
        if row.alias == row.canonical {
            return Err(Violation::new(
                format!("{at}/canonical"),
                "distinct-canonical",
                format!("`{}` cannot be an alias of itself", row.alias),
            ));
        }
        if let Some(earlier) = seen.insert(&row.alias, &row.canonical) {
            if earlier != row.canonical {
                return Err(Violation::new(
                    format!("{at}/alias"),
                    "unique-alias",
                    format!(
                        "`{}` is given two canonical ids in one request (`{earlier}` and `{}`)",
                        row.alias, row.canonical
                    ),
                ));
            }
        }
        after.insert(&row.alias, &row.canonical);
    }
    // The table as it would be: no canonical id may be an alias.
    for (at, row) in &rows {
        if let Some(next) = after.get(row.canonical.as_str()) {
            return Err(Violation::new(
                format!("{at}/canonical"),
                "no-chain",
                format!(
                    "`{}` is itself an alias (of `{next}`): chains are refused, map `{}` to `{next}` instead",
                    row.canonical, row.alias
                ),
            ));
        }
        if let Some((other, _)) = after.iter().find(|(_, c)| **c == row.alias.as_str()) {
            return Err(Violation::new(
                format!("{at}/alias"),
                "no-chain",
                format!(
                    "`{}` is the canonical id of `{other}`: chains are refused, so it cannot become an alias (map `{other}` elsewhere first)",
                    row.alias
                ),
            ));
        }
    }
    Ok(rows.into_iter().map(|(_, r)| r).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eq(alias: &str, canonical: &str) -> Equivalence {
        Equivalence {
            alias: alias.into(),
            canonical: canonical.into(),
            source: MANUAL.into(),
        }
    }

    #[test]
    fn object_and_context_ids_are_rewritten_and_put_back() {
        let sent = json!({
            "actor": {"mbox": "mailto:a@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": "urn:li:lyndaCourse:1", "definition": {"name": {"en-US": "X"}}},
            "context": {"contextActivities": {
                "parent": [{"id": "urn:li:lyndaLearningPath:9"}, {"id": "https://kept.example"}],
                "grouping": {"id": "urn:li:lyndaLearningPath:9"},
            }},
        });
        let map: HashMap<String, String> = [
            ("urn:li:lyndaCourse:1", "https://lms.example/c/1"),
            ("urn:li:lyndaLearningPath:9", "https://lms.example/p/9"),
        ]
        .into_iter()
        .map(|(a, c)| (a.to_owned(), c.to_owned()))
        .collect();
        let mut bodies = vec![
            sent.clone(),
            json!({"object": {"objectType": "Agent", "id": "urn:li:lyndaCourse:1"}}),
        ];
        let rewrites = rewrite(&mut bodies, &map);
        assert_eq!(bodies[0]["object"]["id"], "https://lms.example/c/1");
        assert_eq!(
            bodies[0]["context"]["contextActivities"]["parent"][0]["id"],
            "https://lms.example/p/9"
        );
        assert_eq!(
            bodies[0]["context"]["contextActivities"]["parent"][1]["id"],
            "https://kept.example"
        );
        assert_eq!(
            bodies[0]["context"]["contextActivities"]["grouping"]["id"],
            "https://lms.example/p/9"
        );
        // Not an Activity: not an activity id.
        assert_eq!(bodies[1]["object"]["id"], "urn:li:lyndaCourse:1");
        rewrites.undo(&mut bodies);
        assert_eq!(bodies[0], sent);
    }

    #[test]
    fn an_empty_map_rewrites_nothing() {
        let mut bodies = vec![json!({"object": {"id": "urn:li:lyndaCourse:1"}})];
        assert!(rewrite(&mut bodies, &HashMap::new()).is_empty());
    }

    fn at(i: usize, row: Equivalence) -> (String, Equivalence) {
        (format!("/{i}"), row)
    }

    #[test]
    fn writes_are_checked_and_name_the_field() {
        let table = vec![eq("urn:li:lyndaCourse:1", "https://lms.example/c/1")];
        let rule = |rows| check(&table, rows).unwrap_err();
        let v = rule(vec![at(0, eq("not an iri", "https://lms.example/c/2"))]);
        assert_eq!((v.pointer.as_str(), v.rule), ("/0/alias", "iri"));
        let v = rule(vec![at(0, eq("urn:x:1", "urn:x:1"))]);
        assert_eq!(
            (v.pointer.as_str(), v.rule),
            ("/0/canonical", "distinct-canonical")
        );
        // Canonical id that is an alias (stored or in the same request).
        let v = rule(vec![at(
            0,
            eq("urn:li:lyndaCourse:2", "urn:li:lyndaCourse:1"),
        )]);
        assert_eq!((v.pointer.as_str(), v.rule), ("/0/canonical", "no-chain"));
        let v = rule(vec![
            at(0, eq("urn:x:a", "urn:x:b")),
            at(1, eq("urn:x:b", "urn:x:c")),
        ]);
        assert_eq!(v.rule, "no-chain");
        // An alias that is another row's canonical id.
        let v = rule(vec![at(3, eq("https://lms.example/c/1", "urn:x:c"))]);
        assert_eq!((v.pointer.as_str(), v.rule), ("/3/alias", "no-chain"));
        let v = rule(vec![
            at(0, eq("urn:x:a", "urn:x:b")),
            at(1, eq("urn:x:a", "urn:x:c")),
        ]);
        assert_eq!((v.pointer.as_str(), v.rule), ("/1/alias", "unique-alias"));
        // Replacing a row, and re-pointing one at a new canonical id, are fine.
        assert!(check(
            &table,
            vec![at(0, eq("urn:li:lyndaCourse:1", "https://lms.example/c/9"))]
        )
        .is_ok());
    }
}
