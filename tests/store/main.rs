//! The store contract: every backend passes the same tests, each on a fresh store (a
//! SQLite file, or a fresh MongoDB database). What the API builds on — atomic batches,
//! immutability, voiding, index-driven queries with stable paging, document
//! preconditions under racing writers, tenant scoping — is checked here, below HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod commands;
mod contract;
mod migration;
mod schema;

#[cfg(feature = "mongodb")]
#[path = "../support/mongodb.rs"]
mod mongodb_server;

use lrsgate::store::Store;
use tempfile::TempDir;

/// A store and whatever must outlive it.
pub struct Fixture {
    pub store: Store,
    _dir: TempDir,
}

async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("lrs.db").display());
    Fixture {
        store: Store::open(&url).await.unwrap(),
        _dir: dir,
    }
}

#[cfg(feature = "mongodb")]
async fn mongodb() -> Fixture {
    let url = mongodb_server::fresh_database_url();
    Fixture {
        store: Store::open(&url).await.unwrap(),
        _dir: tempfile::tempdir().unwrap(),
    }
}

/// One test per contract function and backend.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                crate::contract::$name(&crate::sqlite().await.store).await;
            })*
        }
        #[cfg(feature = "mongodb")]
        mod mongodb {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                crate::contract::$name(&crate::mongodb().await.store).await;
            })*
        }
    };
}

on_every_backend!(
    a_batch_is_stored_and_read_back_with_stored_set,
    the_same_id_with_the_same_content_is_accepted_unchanged,
    the_same_id_with_other_content_fails_the_whole_batch,
    racing_writers_of_one_statement_id_cannot_both_win,
    voiding_hides_the_target_but_not_a_voiding_statement,
    every_filter_is_served_and_combined,
    pages_are_stable_while_statements_arrive,
    since_and_until_bound_by_stored_time,
    attachments_are_kept_by_hash,
    consistent_through_never_passes_the_present,
    activity_definitions_merge_and_agent_names_accumulate,
    documents_round_trip_list_merge_and_delete,
    document_preconditions_hold_under_racing_writers,
    credentials_are_saved_replaced_and_counted,
    signing_keys_are_listed_oldest_first,
    linked_identities_move_between_people,
    tenants_are_created_with_unique_names,
    tenants_never_see_each_other,
);
