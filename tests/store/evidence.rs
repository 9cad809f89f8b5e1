//! The evidence store contract (`EvidenceStore`, and what `PeopleStore` and
//! `CompetencyStore` writes do to evidence): evidence rows and per-person sums kept at
//! every write — insert, void, retag, link, unlink — and read back with every
//! acknowledged write in them (SQLite applies evidence on a thread of its own and makes
//! reads wait for it); experts, activity figures, co-occurrence and teams. Run on every
//! backend by `main.rs`.

use lrsgate::evidence::Outcome;
use lrsgate::store::competency::Retagged;
use lrsgate::store::evidence::{
    ActivityStats, EvidenceRow, PersonItem, SeenTeam, Team, TeamOrigin,
};
use lrsgate::store::people::{own_person, LinkedIdentity};
use lrsgate::store::{Store, DEFAULT_TENANT};
use lrsgate::xapi::agent::ifi_key;
use serde_json::{json, Value};

use crate::contract::{activity, agent, agent_key, id_of, statement};
use crate::records::{evidence, insert, item, outcome, person, stored, tag, tagged};

const T: i64 = DEFAULT_TENANT;
const OTHER: i64 = 2;

fn done() -> Outcome {
    outcome(true, None, None)
}

fn voiding(target: &Value) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "actor": agent("admin"),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": id_of(target)},
    })
}

async fn void(store: &Store, tenant: i64, target: &Value) {
    let v = stored(voiding(target), Vec::new(), Vec::new(), Vec::new());
    insert(store, tenant, vec![v]).await.unwrap();
}

/// A person's sums as (item name, normalized, evidence, first, last), by item.
async fn sums(store: &Store, tenant: i64, who: &str) -> Vec<(String, f64, u64, i64, i64)> {
    let mut found = store
        .evidence
        .person_items(tenant, &[who.to_owned()])
        .await
        .unwrap();
    found.sort_by(|a, b| a.item.cmp(&b.item));
    found
        .into_iter()
        .map(|p| {
            assert_eq!(p.person, who);
            let name = p.item.rsplit('/').next().unwrap().to_owned();
            (
                name,
                p.normalized,
                p.evidence,
                p.first_millis,
                p.last_millis,
            )
        })
        .collect()
}

fn sum(
    name: &str,
    normalized: f64,
    evidence: u64,
    first: i64,
    last: i64,
) -> (String, f64, u64, i64, i64) {
    (name.to_owned(), normalized, evidence, first, last)
}

/// Which statements a person's evidence comes from, newest first.
async fn evidence_statements(store: &Store, who: &str, name: Option<&str>) -> Vec<String> {
    store
        .evidence
        .person_evidence(T, who, name.map(item).as_deref())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.item.statement)
        .collect()
}

/// Promise: a stored statement's evidence is read back at once, as given, for the person
/// its actor is — rows newest first (all items, or one), and the sums per item (total
/// normalized weight, count, first and last time) — and only in its tenant.
pub async fn a_statements_evidence_is_read_back_at_once_for_its_person(store: &Store) {
    let first = statement("ann", "completed", "course-1");
    let second = statement("ann", "passed", "course-2");
    let passed = outcome(true, Some(true), Some(0.8));
    insert(
        store,
        T,
        vec![tagged(
            &first,
            &[("agile", 0.5), ("scrum", 0.25)],
            1_000,
            done(),
        )],
    )
    .await
    .unwrap();
    insert(
        store,
        T,
        vec![tagged(&second, &[("agile", 1.0)], 3_000, passed)],
    )
    .await
    .unwrap();

    let ann = person("ann");
    let rows = store
        .evidence
        .person_evidence(T, &ann, Some(&item("agile")))
        .await
        .unwrap();
    let expected = vec![
        EvidenceRow {
            person: ann.clone(),
            item: evidence(&second, "agile", 1.0, 3_000, passed),
        },
        EvidenceRow {
            person: ann.clone(),
            item: evidence(&first, "agile", 0.5, 1_000, done()),
        },
    ];
    assert_eq!(rows, expected);
    let all = evidence_statements(store, &ann, None).await;
    assert_eq!(all.len(), 3);
    assert_eq!(all[0], id_of(&second), "newest first");
    assert_eq!(
        sums(store, T, &ann).await,
        [
            sum("agile", 1.5, 2, 1_000, 3_000),
            sum("scrum", 0.25, 1, 1_000, 1_000)
        ]
    );
    assert!(sums(store, T, &person("bob")).await.is_empty());
    assert!(sums(store, OTHER, &ann).await.is_empty());
    assert!(store
        .evidence
        .person_evidence(OTHER, &ann, None)
        .await
        .unwrap()
        .is_empty());
}

/// Promise: reads include every acknowledged write — a read right after each insert and
/// each void sees it, however the backend defers applying evidence.
pub async fn every_acknowledged_write_is_in_the_next_read(store: &Store) {
    let ann = person("ann");
    let mut kept = Vec::new();
    for n in 0..24_i64 {
        let s = statement("ann", "completed", &format!("course-{n}"));
        insert(
            store,
            T,
            vec![tagged(&s, &[("agile", 0.5)], n * 1_000, done())],
        )
        .await
        .unwrap();
        kept.push(s);
        if n % 4 == 3 {
            let target = kept.remove(0);
            void(store, T, &target).await;
        }
        let found = sums(store, T, &ann).await;
        let count = kept.len() as u64;
        assert_eq!(found.len(), 1, "after write {n}");
        assert_eq!(
            (found[0].1, found[0].2),
            (0.5 * count as f64, count),
            "after write {n}"
        );
        let rows = evidence_statements(store, &ann, Some("agile")).await;
        assert_eq!(rows[0], id_of(kept.last().unwrap()), "after write {n}");
    }
}

/// Promise: a statement stored again (same id and content, alone or in a batch) adds
/// its evidence once.
pub async fn a_statement_stored_twice_counts_once(store: &Store) {
    let s = statement("ann", "completed", "course-1");
    let other = statement("ann", "completed", "course-2");
    insert(store, T, vec![tagged(&s, &[("agile", 0.5)], 1_000, done())])
        .await
        .unwrap();
    insert(
        store,
        T,
        vec![
            tagged(&s, &[("agile", 0.5)], 1_000, done()),
            tagged(&other, &[("agile", 0.25)], 2_000, done()),
        ],
    )
    .await
    .unwrap();
    insert(store, T, vec![tagged(&s, &[("agile", 0.5)], 1_000, done())])
        .await
        .unwrap();
    assert_eq!(
        sums(store, T, &person("ann")).await,
        [sum("agile", 0.75, 2, 1_000, 2_000)]
    );
    let stats = store
        .evidence
        .activity_stats(T, &item("agile"))
        .await
        .unwrap();
    let statements: u64 = stats.iter().map(|s| s.statements).sum();
    assert_eq!(statements, 2);
}

/// Promise: voiding a statement withdraws its evidence: its rows leave, the person's sums
/// are recomputed from the rows left (or removed with the last), and so are the
/// activity figures and the experts.
pub async fn voiding_withdraws_evidence_and_recomputes_the_sums(store: &Store) {
    let early = statement("ann", "completed", "course-1");
    let late = statement("ann", "passed", "course-1");
    insert(
        store,
        T,
        vec![
            tagged(&early, &[("agile", 0.5)], 1_000, done()),
            tagged(
                &late,
                &[("agile", 1.0)],
                3_000,
                outcome(true, Some(true), None),
            ),
        ],
    )
    .await
    .unwrap();
    let ann = person("ann");
    assert_eq!(
        sums(store, T, &ann).await,
        [sum("agile", 1.5, 2, 1_000, 3_000)]
    );

    void(store, T, &late).await;
    assert_eq!(
        sums(store, T, &ann).await,
        [sum("agile", 0.5, 1, 1_000, 1_000)]
    );
    assert_eq!(
        evidence_statements(store, &ann, None).await,
        [id_of(&early)]
    );
    let stats = store
        .evidence
        .activity_stats(T, &item("agile"))
        .await
        .unwrap();
    assert_eq!(
        stats,
        [ActivityStats {
            activity: activity("course-1"),
            statements: 1,
            learners: 1,
            completions: 1,
            ..ActivityStats::default()
        }]
    );

    void(store, T, &early).await;
    assert!(sums(store, T, &ann).await.is_empty());
    assert!(evidence_statements(store, &ann, None).await.is_empty());
    assert!(store
        .evidence
        .activity_stats(T, &item("agile"))
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .evidence
        .ranked(T, &item("agile"), 0, 10)
        .await
        .unwrap()
        .is_empty());

    // A statement voided in the batch that stores it leaves no evidence either.
    let short_lived = statement("bob", "completed", "course-1");
    insert(
        store,
        T,
        vec![
            tagged(&short_lived, &[("agile", 0.5)], 1_000, done()),
            stored(voiding(&short_lived), Vec::new(), Vec::new(), Vec::new()),
        ],
    )
    .await
    .unwrap();
    assert!(sums(store, T, &person("bob")).await.is_empty());
    assert!(store
        .evidence
        .activity_stats(T, &item("agile"))
        .await
        .unwrap()
        .is_empty());
}

/// Promise: retagging replaces a statement's evidence (rows and sums follow the new
/// tags) and leaves a voided statement's alone.
pub async fn retagging_replaces_a_statements_evidence(store: &Store) {
    let kept = statement("ann", "completed", "course-1");
    let voided = statement("ann", "completed", "course-2");
    insert(
        store,
        T,
        vec![
            tagged(&kept, &[("agile", 0.5)], 1_000, done()),
            tagged(&voided, &[("agile", 0.25)], 2_000, done()),
        ],
    )
    .await
    .unwrap();
    void(store, T, &voided).await;
    let retag = |s: &Value| Retagged {
        id: id_of(s),
        tags: vec![tag("scrum", 0.5)],
        evidence: vec![evidence(s, "scrum", 0.75, 1_500, done())],
    };
    store
        .competencies
        .replace_tags(T, vec![retag(&kept), retag(&voided)])
        .await
        .unwrap();
    let ann = person("ann");
    assert_eq!(
        sums(store, T, &ann).await,
        [sum("scrum", 0.75, 1, 1_500, 1_500)]
    );
    assert_eq!(
        evidence_statements(store, &ann, Some("scrum")).await,
        [id_of(&kept)]
    );
    assert!(evidence_statements(store, &ann, Some("agile"))
        .await
        .is_empty());
    let stats = store
        .evidence
        .activity_stats(T, &item("scrum"))
        .await
        .unwrap();
    assert_eq!(stats.len(), 1);
    assert_eq!(
        (stats[0].activity.as_str(), stats[0].statements),
        (activity("course-1").as_str(), 1)
    );
    assert!(store
        .evidence
        .activity_stats(T, &item("agile"))
        .await
        .unwrap()
        .is_empty());

    // Retagged with no tags, the statement is evidence for nothing.
    store
        .competencies
        .replace_tags(
            T,
            vec![Retagged {
                id: id_of(&kept),
                tags: Vec::new(),
                evidence: Vec::new(),
            }],
        )
        .await
        .unwrap();
    assert!(sums(store, T, &ann).await.is_empty());
}

/// An agent known by an LMS account instead of a mailbox.
fn account(name: &str) -> Value {
    json!({"objectType": "Agent", "account": {"homePage": "https://lms.example.com", "name": name}})
}

/// Stores evidence of `who` under two identities: "completed course-1" (agile 0.5, at
/// 1 000) by mail, and `verb` `course` (agile 0.25, at 2 000) by an LMS account; their
/// keys (mail, login).
async fn by_mail_and_by_login(
    store: &Store,
    who: &str,
    verb: &str,
    course: &str,
) -> (String, String) {
    let by_mail = statement(who, "completed", "course-1");
    let mut by_login = statement(who, verb, course);
    by_login["actor"] = account(who);
    insert(
        store,
        T,
        vec![
            tagged(&by_mail, &[("agile", 0.5)], 1_000, done()),
            tagged(&by_login, &[("agile", 0.25)], 2_000, done()),
        ],
    )
    .await
    .unwrap();
    (agent_key(who), ifi_key(&account(who)).unwrap())
}

fn linked(ifi: &str, agent: &Value, person: &str) -> LinkedIdentity {
    LinkedIdentity {
        ifi: ifi.into(),
        person: person.into(),
        agent: agent.to_string(),
    }
}

/// Promise: linking identities to a person moves their evidence (rows and sums) to that
/// person, evidence recorded later goes to the linked person, and unlinking moves an
/// identity's evidence back to its own person.
pub async fn linking_moves_evidence_and_unlinking_moves_it_back(store: &Store) {
    let (mail, login) = by_mail_and_by_login(store, "ann", "completed", "course-2").await;
    let link = |ifi: &str, agent: &Value| linked(ifi, agent, "p-ann");
    store
        .people
        .link_identities(
            T,
            vec![link(&mail, &agent("ann")), link(&login, &account("ann"))],
        )
        .await
        .unwrap();
    assert_eq!(
        sums(store, T, "p-ann").await,
        [sum("agile", 0.75, 2, 1_000, 2_000)]
    );
    assert!(sums(store, T, &own_person(&mail)).await.is_empty());
    assert!(sums(store, T, &own_person(&login)).await.is_empty());
    let rows = store
        .evidence
        .person_evidence(T, "p-ann", None)
        .await
        .unwrap();
    assert!(rows.iter().all(|r| r.person == "p-ann"), "{rows:?}");
    let experts: Vec<String> = store
        .evidence
        .ranked(T, &item("agile"), 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.person)
        .collect();
    assert_eq!(experts, ["p-ann"]);
    // Linking again to the same person moves nothing twice.
    store
        .people
        .link_identities(T, vec![link(&mail, &agent("ann"))])
        .await
        .unwrap();
    assert_eq!(
        sums(store, T, "p-ann").await,
        [sum("agile", 0.75, 2, 1_000, 2_000)]
    );

    let mut later = statement("ann", "completed", "course-3");
    later["actor"] = account("ann");
    insert(
        store,
        T,
        vec![tagged(&later, &[("agile", 1.0)], 3_000, done())],
    )
    .await
    .unwrap();
    assert_eq!(
        sums(store, T, "p-ann").await,
        [sum("agile", 1.75, 3, 1_000, 3_000)]
    );

    assert!(store.people.unlink_identity(T, &login).await.unwrap());
    assert!(!store.people.unlink_identity(T, &login).await.unwrap());
    assert_eq!(
        sums(store, T, "p-ann").await,
        [sum("agile", 0.5, 1, 1_000, 1_000)]
    );
    assert_eq!(
        sums(store, T, &own_person(&login)).await,
        [sum("agile", 1.25, 2, 2_000, 3_000)]
    );
    // Links are per tenant: the other tenant's evidence stays with the own person.
    let theirs = statement("ann", "completed", "course-1");
    insert(
        store,
        OTHER,
        vec![tagged(&theirs, &[("agile", 0.5)], 1_000, done())],
    )
    .await
    .unwrap();
    assert_eq!(
        sums(store, OTHER, &own_person(&mail)).await,
        [sum("agile", 0.5, 1, 1_000, 1_000)]
    );
    assert!(sums(store, OTHER, "p-ann").await.is_empty());
}

/// Promise: an activity's learners are the people with evidence of it, also when linking
/// moves one identity's rows to another's person (two identities that did it become one
/// learner) and unlinking moves them back (two again).
pub async fn linking_and_unlinking_recount_an_activitys_learners(store: &Store) {
    let (mail, login) = by_mail_and_by_login(store, "bea", "attempted", "course-1").await;
    let learners = || async {
        let stats = store
            .evidence
            .activity_stats(T, &item("agile"))
            .await
            .unwrap();
        stats
            .iter()
            .map(|s| (s.activity.clone(), s.statements, s.learners))
            .collect::<Vec<_>>()
    };
    let course = activity("course-1");
    assert_eq!(learners().await, [(course.clone(), 2, 2)]);
    let link = |ifi: &str, agent: &Value| linked(ifi, agent, "p-bea");
    store
        .people
        .link_identities(T, vec![link(&mail, &agent("bea"))])
        .await
        .unwrap();
    assert_eq!(learners().await, [(course.clone(), 2, 2)]);
    store
        .people
        .link_identities(T, vec![link(&login, &account("bea"))])
        .await
        .unwrap();
    assert_eq!(learners().await, [(course.clone(), 2, 1)]);
    assert!(store.people.unlink_identity(T, &login).await.unwrap());
    assert_eq!(learners().await, [(course, 2, 2)]);
}

/// Promise: experts are people ranked by their sum for an item, highest first, with an
/// offset and a limit; other items and tenants do not count.
pub async fn experts_are_ranked_by_their_sum_highest_first(store: &Store) {
    let mut batch = Vec::new();
    for (who, weight, at) in [
        ("ann", 0.25, 1_000),
        ("bob", 1.0, 2_000),
        ("cy", 0.5, 3_000),
        ("cy", 0.25, 4_000),
    ] {
        let s = statement(who, "completed", "course-1");
        batch.push(tagged(&s, &[("agile", weight)], at, done()));
    }
    let dee = statement("dee", "completed", "course-2");
    batch.push(tagged(&dee, &[("scrum", 2.0)], 5_000, done()));
    insert(store, T, batch).await.unwrap();
    let theirs = statement("eve", "completed", "course-1");
    insert(
        store,
        OTHER,
        vec![tagged(&theirs, &[("agile", 5.0)], 1_000, done())],
    )
    .await
    .unwrap();

    let ranked = |offset, limit| async move {
        store
            .evidence
            .ranked(T, &item("agile"), offset, limit)
            .await
            .unwrap()
    };
    let all = ranked(0, 10).await;
    let people: Vec<(String, f64, u64)> = all
        .iter()
        .map(|p| (p.person.clone(), p.normalized, p.evidence))
        .collect();
    assert_eq!(
        people,
        [
            (person("bob"), 1.0, 1),
            (person("cy"), 0.75, 2),
            (person("ann"), 0.25, 1)
        ]
    );
    assert_eq!(
        all[1],
        PersonItem {
            person: person("cy"),
            item: item("agile"),
            normalized: 0.75,
            evidence: 2,
            first_millis: 3_000,
            last_millis: 4_000,
        }
    );
    assert_eq!(ranked(1, 1).await, [all[1].clone()]);
    assert!(ranked(3, 10).await.is_empty());
    let scrum = store
        .evidence
        .ranked(T, &item("scrum"), 0, 10)
        .await
        .unwrap();
    assert_eq!(scrum.len(), 1);
    assert_eq!(scrum[0].person, person("dee"));
    let elsewhere = store
        .evidence
        .ranked(OTHER, &item("agile"), 0, 10)
        .await
        .unwrap();
    assert_eq!(elsewhere.len(), 1);
    assert_eq!(elsewhere[0].person, person("eve"));
}

/// Promise: activity figures count, per item and activity, evidence statements, learners
/// (each person once, for as long as they have any), completions, successes, failures
/// and scaled scores — rising with evidence and falling as it is voided.
pub async fn activity_figures_count_statements_learners_and_outcomes(store: &Store) {
    let ann_done = statement("ann", "completed", "course-1");
    let ann_passed = statement("ann", "passed", "course-1");
    let bob_failed = statement("bob", "failed", "course-1");
    let cy_other = statement("cy", "experienced", "course-2");
    let mut no_activity = statement("dee", "completed", "course-3");
    no_activity["object"] = json!({"objectType": "Agent", "mbox": "mailto:zed@example.com"});
    insert(
        store,
        T,
        vec![
            tagged(&ann_done, &[("agile", 0.5)], 1_000, done()),
            tagged(
                &ann_passed,
                &[("agile", 0.5)],
                2_000,
                outcome(true, Some(true), Some(0.5)),
            ),
            tagged(
                &bob_failed,
                &[("agile", 0.5)],
                3_000,
                outcome(false, Some(false), Some(0.25)),
            ),
            tagged(
                &cy_other,
                &[("agile", 0.5)],
                4_000,
                outcome(false, None, None),
            ),
            tagged(&no_activity, &[("agile", 0.5)], 5_000, done()),
        ],
    )
    .await
    .unwrap();
    let figures = || async {
        let mut stats = store
            .evidence
            .activity_stats(T, &item("agile"))
            .await
            .unwrap();
        stats.sort_by(|a, b| a.activity.cmp(&b.activity));
        stats
    };
    let course_2 = ActivityStats {
        activity: activity("course-2"),
        statements: 1,
        learners: 1,
        ..ActivityStats::default()
    };
    assert_eq!(
        figures().await,
        [
            ActivityStats {
                activity: activity("course-1"),
                statements: 3,
                learners: 2,
                completions: 2,
                successes: 1,
                failures: 1,
                score_sum: 0.75,
                scored: 2,
            },
            course_2.clone(),
        ]
    );
    // The statement about an Agent is evidence, but of no activity.
    assert_eq!(
        sums(store, T, &person("dee")).await,
        [sum("agile", 0.5, 1, 5_000, 5_000)]
    );

    void(store, T, &ann_done).await;
    assert_eq!(
        figures().await[0],
        ActivityStats {
            activity: activity("course-1"),
            statements: 2,
            learners: 2,
            completions: 1,
            successes: 1,
            failures: 1,
            score_sum: 0.75,
            scored: 2,
        }
    );
    void(store, T, &ann_passed).await;
    assert_eq!(
        figures().await,
        [
            ActivityStats {
                activity: activity("course-1"),
                statements: 1,
                learners: 1,
                completions: 0,
                successes: 0,
                failures: 1,
                score_sum: 0.25,
                scored: 1,
            },
            course_2,
        ]
    );
    assert!(store
        .evidence
        .activity_stats(OTHER, &item("agile"))
        .await
        .unwrap()
        .is_empty());
}

/// Promise: co-occurrence counts the people with any evidence, the people per item, and
/// the people who have both the asked item and each other one.
pub async fn co_occurrence_counts_people_per_item_and_with_the_asked_one(store: &Store) {
    let mut batch = Vec::new();
    for (who, items) in [
        ("ann", &["agile", "scrum"][..]),
        ("bob", &["agile"][..]),
        ("cy", &["scrum", "kanban"][..]),
        ("dee", &["kanban"][..]),
    ] {
        let s = statement(who, "completed", "course-1");
        let weighted: Vec<(&str, f64)> = items.iter().map(|i| (*i, 0.5)).collect();
        batch.push(tagged(&s, &weighted, 1_000, done()));
    }
    insert(store, T, batch).await.unwrap();
    let named = |mut counts: Vec<(String, u64)>| {
        counts.sort();
        counts
            .into_iter()
            .map(|(i, n)| (i.rsplit('/').next().unwrap().to_owned(), n))
            .collect::<Vec<_>>()
    };
    let agile = store
        .evidence
        .co_occurrence(T, &item("agile"))
        .await
        .unwrap();
    assert_eq!(agile.people, 4);
    assert_eq!(
        named(agile.per_item),
        [
            ("agile".into(), 2),
            ("kanban".into(), 2),
            ("scrum".into(), 2)
        ]
    );
    assert_eq!(named(agile.with_item), [("scrum".to_owned(), 1)]);
    let scrum = store
        .evidence
        .co_occurrence(T, &item("scrum"))
        .await
        .unwrap();
    assert_eq!(
        named(scrum.with_item),
        [("agile".into(), 1), ("kanban".to_owned(), 1)]
    );
    let elsewhere = store
        .evidence
        .co_occurrence(OTHER, &item("agile"))
        .await
        .unwrap();
    assert_eq!(elsewhere.people, 0);
    assert!(elsewhere.per_item.is_empty() && elsewhere.with_item.is_empty());
}

fn member(name: &str) -> (String, String) {
    (agent_key(name), agent(name).to_string())
}

fn team(id: &str, name: &str, members: &[&str]) -> Team {
    Team {
        id: id.into(),
        name: name.into(),
        origin: TeamOrigin::Api,
        group: None,
        members: members.iter().map(|m| member(m)).collect(),
    }
}

/// Promise: a team is created (`true`) or replaced whole (`false`, members too), read
/// with its members by IFI key, listed by id after a given one, and deleted (whether it
/// existed); per tenant.
pub async fn teams_are_created_replaced_listed_and_deleted(store: &Store) {
    let e = &store.evidence;
    assert!(e
        .put_team(T, team("team-b", "Platform", &["cy", "ann"]))
        .await
        .unwrap());
    assert!(e
        .put_team(T, team("team-a", "Apps", &["bob"]))
        .await
        .unwrap());
    assert!(e.put_team(T, team("team-c", "Core", &[])).await.unwrap());
    let replaced = Team {
        group: Some("mbox:mailto:platform@example.com".into()),
        ..team("team-b", "Platform team", &["dee", "bob"])
    };
    assert!(!e.put_team(T, replaced).await.unwrap());

    let mut members = vec![member("bob"), member("dee")];
    members.sort();
    let b = e.team(T, "team-b").await.unwrap().unwrap();
    assert_eq!(
        b,
        Team {
            members,
            group: Some("mbox:mailto:platform@example.com".into()),
            ..team("team-b", "Platform team", &[])
        }
    );
    let ids = |teams: Vec<Team>| teams.into_iter().map(|t| t.id).collect::<Vec<_>>();
    assert_eq!(
        ids(e.teams(T, None, 2).await.unwrap()),
        ["team-a", "team-b"]
    );
    assert_eq!(
        ids(e.teams(T, Some("team-b"), 2).await.unwrap()),
        ["team-c"]
    );
    assert!(e
        .team(T, "team-c")
        .await
        .unwrap()
        .unwrap()
        .members
        .is_empty());

    assert!(e.teams(OTHER, None, 10).await.unwrap().is_empty());
    assert_eq!(e.team(OTHER, "team-a").await.unwrap(), None);
    assert!(!e.delete_team(OTHER, "team-a").await.unwrap());
    assert!(e.delete_team(T, "team-b").await.unwrap());
    assert!(!e.delete_team(T, "team-b").await.unwrap());
    assert_eq!(e.team(T, "team-b").await.unwrap(), None);
    assert_eq!(
        ids(e.teams(T, None, 10).await.unwrap()),
        ["team-a", "team-c"]
    );
}

/// Promise: an identified Group a statement names is kept as a team of origin
/// `statements` with its group key; later statements add members and keep its name.
pub async fn groups_seen_in_statements_become_teams_whose_members_accumulate(store: &Store) {
    let group = "mbox:mailto:platform@example.com";
    let seen = |name: &str, who: &str| SeenTeam {
        id: "grp-platform".into(),
        group: group.into(),
        name: name.into(),
        members: vec![member(who)],
    };
    let first = statement("ann", "attended", "meeting-1");
    let second = statement("bob", "attended", "meeting-2");
    insert(
        store,
        T,
        vec![stored(
            first,
            Vec::new(),
            Vec::new(),
            vec![seen("Platform", "ann")],
        )],
    )
    .await
    .unwrap();
    insert(
        store,
        T,
        vec![stored(
            second,
            Vec::new(),
            Vec::new(),
            vec![seen("Renamed", "bob")],
        )],
    )
    .await
    .unwrap();
    let mut members = vec![member("ann"), member("bob")];
    members.sort();
    assert_eq!(
        store.evidence.team(T, "grp-platform").await.unwrap(),
        Some(Team {
            id: "grp-platform".into(),
            name: "Platform".into(),
            origin: TeamOrigin::Statements,
            group: Some(group.into()),
            members,
        })
    );
    assert_eq!(
        store.evidence.team(OTHER, "grp-platform").await.unwrap(),
        None
    );
}

/// Promise: a person's first statements about an activity, stored at the same time,
/// make them one learner of it (`learners` counts people, not statements).
pub async fn concurrent_first_statements_about_an_activity_count_one_learner(store: &Store) {
    let mut miscounted = Vec::new();
    for round in 0..10 {
        let course = format!("course-{round}");
        let (a, b) = (
            statement("ann", "completed", &course),
            statement("ann", "completed", &course),
        );
        let (one, other) = (
            vec![tagged(&a, &[("agile", 0.5)], 1_000, done())],
            vec![tagged(&b, &[("agile", 0.5)], 2_000, done())],
        );
        let (r1, r2) = tokio::join!(insert(store, T, one), insert(store, T, other));
        r1.unwrap();
        r2.unwrap();
        let stats = store
            .evidence
            .activity_stats(T, &item("agile"))
            .await
            .unwrap();
        let figures = stats
            .iter()
            .find(|s| s.activity == activity(&course))
            .unwrap();
        if (figures.statements, figures.learners) != (2, 1) {
            miscounted.push((round, figures.statements, figures.learners));
        }
    }
    assert!(
        miscounted.is_empty(),
        "(round, statements, learners): {miscounted:?}"
    );
}

/// Promise: sums stay exact when a void of one of a person's statements and a new
/// statement of theirs for the same item are stored at the same time (the sum is the
/// total of the rows left).
pub async fn concurrent_voids_and_inserts_keep_the_sums_exact(store: &Store) {
    let mut wrong = Vec::new();
    for round in 0..60 {
        let who = format!("learner-{round}");
        let old = statement(&who, "completed", "course-1");
        insert(
            store,
            T,
            vec![tagged(&old, &[("agile", 0.5)], 1_000, done())],
        )
        .await
        .unwrap();
        let new = statement(&who, "completed", "course-2");
        let (voided, added) = tokio::join!(
            void_result(store, &old),
            insert(
                store,
                T,
                vec![tagged(&new, &[("agile", 0.25)], 2_000, done())]
            ),
        );
        voided.unwrap();
        added.unwrap();
        let found = sums(store, T, &person(&who)).await;
        if found != [sum("agile", 0.25, 1, 2_000, 2_000)] {
            wrong.push((round, found));
        }
    }
    assert!(wrong.is_empty(), "(round, sums): {wrong:?}");
}

async fn void_result(store: &Store, target: &Value) -> lrsgate::store::StoreResult<()> {
    let v = stored(voiding(target), Vec::new(), Vec::new(), Vec::new());
    insert(store, T, vec![v]).await
}
