//! Which evidence each unapplied journal entry changes, so a read waits only for the
//! entries that can change its answer: a profile waits for its person's changes, a
//! ranking for its item's, not for the whole backlog of everyone else's ingest.
//!
//! The writer thread stages the keys of the entries it appends (`stage`); the after-commit
//! hook publishes them (`Pending::publish`) before any request of the transaction is
//! answered, so a caller's own writes are always waited for. Keys are hashes: a collision
//! only makes a read wait for a change it did not need.

use std::cell::RefCell;
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

use crate::store::TenantId;

/// What a read of evidence depends on.
#[derive(Debug, Clone, Copy)]
pub(in crate::store::sqlite) enum Scope<'a> {
    /// One person's rows and sums.
    Person(&'a str),
    /// Several people's sums.
    People(&'a [String]),
    /// One item's ranking and activity counts.
    Item(&'a str),
    /// Anything of the tenant.
    Tenant,
}

/// What a journal entry changes.
#[derive(Debug, Clone, Copy)]
pub(in crate::store::sqlite) enum Touch<'a> {
    /// A row of this person for this item.
    Row { person: &'a str, item: &'a str },
    /// Rows not known before the entry is applied (withdrawals, moved identities): every
    /// read of the tenant waits for it.
    Unknown,
}

/// The most keys remembered; past it, entries are remembered only as "unknown".
const MAX_KEYS: usize = 65_536;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    Person(u64),
    Item(u64),
}

fn key_hash(tenant: TenantId, kind: u8, name: &str) -> u64 {
    let mut h = DefaultHasher::new();
    (tenant, kind, name).hash(&mut h);
    h.finish()
}

fn person_key(tenant: TenantId, person: &str) -> Key {
    Key::Person(key_hash(tenant, 0, person))
}

fn item_key(tenant: TenantId, item: &str) -> Key {
    Key::Item(key_hash(tenant, 1, item))
}

/// A journal entry appended: its id, tenant, and the person and item keys it changes
/// (`None`: not known before it is applied).
type Staged = (i64, TenantId, Option<(Key, Key)>);

thread_local! {
    /// Entries appended by this (the writer) thread's open transaction.
    static STAGED: RefCell<Vec<Staged>> = const { RefCell::new(Vec::new()) };
}

/// Notes that journal entry `id`, appended in the open transaction, makes `touch`.
pub(in crate::store::sqlite) fn stage(id: i64, tenant: TenantId, touch: Touch<'_>) {
    let keys = match touch {
        Touch::Row { person, item } => Some((person_key(tenant, person), item_key(tenant, item))),
        Touch::Unknown => None,
    };
    STAGED.with(|s| s.borrow_mut().push((id, tenant, keys)));
}

/// The newest unapplied entry changing each key, tenant and tenant-wide barrier.
#[derive(Default)]
pub(in crate::store::sqlite) struct Pending {
    latest: HashMap<Key, i64>,
    /// Keys in the order their entries were committed, for pruning.
    order: VecDeque<(i64, Key)>,
    /// The newest entry of each tenant, and its newest entry of unknown reach.
    tenants: HashMap<TenantId, (i64, i64)>,
    /// Entries up to this one hold every read: those found in the journal at start
    /// (written before this process, or by a migration), whose keys nobody staged.
    backlog: i64,
}

impl Pending {
    /// What a store opened with unapplied entries up to `head` knows of them: nothing.
    pub fn with_backlog(head: i64) -> Self {
        Pending {
            backlog: head,
            ..Pending::default()
        }
    }

    /// Publishes what this thread staged; called after its transaction committed.
    pub fn publish(&mut self) {
        STAGED.with(|s| {
            for (id, tenant, keys) in s.borrow_mut().drain(..) {
                let tenant_ids = self.tenants.entry(tenant).or_insert((0, 0));
                tenant_ids.0 = tenant_ids.0.max(id);
                match keys {
                    Some((person, item)) if self.latest.len() < MAX_KEYS => {
                        for key in [person, item] {
                            self.latest.insert(key, id);
                            self.order.push_back((id, key));
                        }
                    }
                    _ => tenant_ids.1 = tenant_ids.1.max(id),
                }
            }
        });
    }

    /// Forgets entries up to `applied`.
    pub fn prune(&mut self, applied: i64) {
        while let Some(&(id, key)) = self.order.front().filter(|(id, _)| *id <= applied) {
            self.order.pop_front();
            if self.latest.get(&key) == Some(&id) {
                self.latest.remove(&key);
            }
        }
        self.tenants.retain(|_, (newest, _)| *newest > applied);
        if self.backlog <= applied {
            self.backlog = 0;
        }
    }

    /// The newest entry a read of `scope` must see applied (0: none pending).
    pub fn target(&self, tenant: TenantId, scope: Scope<'_>) -> i64 {
        let Some(&(newest, unknown)) = self.tenants.get(&tenant) else {
            return self.backlog;
        };
        let unknown = unknown.max(self.backlog);
        let of = |key: Key| self.latest.get(&key).copied().unwrap_or(0);
        let keyed = match scope {
            Scope::Tenant => return newest.max(unknown),
            Scope::Person(person) => of(person_key(tenant, person)),
            Scope::People(people) => people
                .iter()
                .map(|p| of(person_key(tenant, p)))
                .max()
                .unwrap_or(0),
            Scope::Item(item) => of(item_key(tenant, item)),
        };
        keyed.max(unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(entries: &[(i64, TenantId, Touch<'_>)]) -> Pending {
        let mut pending = Pending::default();
        for &(id, tenant, touch) in entries {
            stage(id, tenant, touch);
        }
        pending.publish();
        pending
    }

    #[test]
    fn a_read_waits_only_for_the_changes_of_its_person_or_item() {
        let row = |person, item| Touch::Row { person, item };
        let pending = published(&[
            (1, 1, row("ann", "agile")),
            (2, 1, row("bob", "sql")),
            (3, 2, row("ann", "agile")),
        ]);
        assert_eq!(pending.target(1, Scope::Person("ann")), 1);
        assert_eq!(pending.target(1, Scope::Person("cy")), 0);
        assert_eq!(pending.target(1, Scope::Item("sql")), 2);
        let people = ["cy".to_owned(), "bob".to_owned()];
        assert_eq!(pending.target(1, Scope::People(&people)), 2);
        assert_eq!(pending.target(1, Scope::Tenant), 2);
        assert_eq!(pending.target(2, Scope::Item("agile")), 3);
        assert_eq!(pending.target(3, Scope::Tenant), 0);
    }

    #[test]
    fn a_change_of_unknown_reach_holds_every_read_of_its_tenant() {
        let pending = published(&[
            (
                4,
                1,
                Touch::Row {
                    person: "ann",
                    item: "agile",
                },
            ),
            (5, 1, Touch::Unknown),
        ]);
        assert_eq!(pending.target(1, Scope::Person("cy")), 5);
        assert_eq!(pending.target(1, Scope::Item("agile")), 5);
        assert_eq!(pending.target(2, Scope::Person("cy")), 0);
    }

    #[test]
    fn a_backlog_found_at_start_holds_every_read_until_applied() {
        let mut pending = Pending::with_backlog(7);
        assert_eq!(pending.target(1, Scope::Person("ann")), 7);
        assert_eq!(pending.target(2, Scope::Tenant), 7);
        pending.prune(7);
        assert_eq!(pending.target(1, Scope::Person("ann")), 0);
    }

    #[test]
    fn applied_entries_are_forgotten() {
        let mut pending = published(&[
            (
                1,
                1,
                Touch::Row {
                    person: "ann",
                    item: "agile",
                },
            ),
            (
                2,
                1,
                Touch::Row {
                    person: "ann",
                    item: "sql",
                },
            ),
        ]);
        pending.prune(1);
        assert_eq!(pending.target(1, Scope::Item("agile")), 0);
        assert_eq!(pending.target(1, Scope::Person("ann")), 2);
        pending.prune(2);
        assert_eq!(pending.target(1, Scope::Tenant), 0);
        assert!(pending.latest.is_empty() && pending.order.is_empty());
    }
}
