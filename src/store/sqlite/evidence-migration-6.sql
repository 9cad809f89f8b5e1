-- Evidence file version 6: identities, items, activities and verbs are kept once, in a
-- table per kind, and the other tables hold their ids, so the rows the evidence thread
-- writes at random (the index by person, the sums and their ranking, the spans) are a
-- fraction of their size. The rows and sums are carried over; the aggregates start empty and, with
-- the scale cleared, the store rebuilds them at this open.
CREATE TABLE item_names (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE
);
CREATE TABLE identity_names (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE
);
CREATE TABLE activity_names (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE
);
INSERT INTO activity_names (id, name) VALUES (0, '');
CREATE TABLE verb_names (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE
);
INSERT INTO item_names (name)
SELECT item FROM evidence UNION SELECT item FROM person_items
UNION SELECT item FROM activity_stats;
INSERT INTO identity_names (name) SELECT DISTINCT identity FROM evidence;
INSERT INTO activity_names (name)
SELECT DISTINCT activity FROM evidence WHERE activity <> '';
INSERT INTO verb_names (name) SELECT DISTINCT verb FROM evidence;

DROP INDEX evidence_by_person;
ALTER TABLE evidence RENAME TO evidence_5;
CREATE TABLE evidence (
    tenant     INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    statement  TEXT    NOT NULL,
    item       INTEGER NOT NULL,
    identity   INTEGER NOT NULL,
    person     TEXT    NOT NULL,
    activity   INTEGER NOT NULL,
    verb       INTEGER NOT NULL,
    -- The weight's factors; the weight is their product.
    verb_w     REAL    NOT NULL,
    result_w   REAL    NOT NULL,
    confidence REAL    NOT NULL,
    trust      REAL    NOT NULL,
    at_ms      INTEGER NOT NULL,
    normalized REAL    NOT NULL,
    -- Bit 0 completed, bit 1 success, bit 2 failure.
    outcome    INTEGER NOT NULL,
    scaled     REAL,
    PRIMARY KEY (tenant, seq, item, identity)
) WITHOUT ROWID;
INSERT INTO evidence (tenant, seq, statement, item, identity, person, activity, verb, verb_w,
    result_w, confidence, trust, at_ms, normalized, outcome, scaled)
SELECT e.tenant, e.seq, e.statement, i.id, d.id, e.person, a.id, v.id, e.verb_w,
    e.result_w, e.confidence, e.trust, e.at_ms, e.normalized, e.outcome, e.scaled
FROM evidence_5 e JOIN item_names i ON i.name = e.item
JOIN identity_names d ON d.name = e.identity JOIN activity_names a ON a.name = e.activity
JOIN verb_names v ON v.name = e.verb;
DROP TABLE evidence_5;
CREATE INDEX evidence_by_person
    ON evidence (tenant, person, item, at_ms, seq, identity, activity, normalized);

DROP INDEX person_items_ranked;
ALTER TABLE person_items RENAME TO person_items_5;
CREATE TABLE person_items (
    tenant     INTEGER NOT NULL,
    person     TEXT    NOT NULL,
    item       INTEGER NOT NULL,
    normalized REAL    NOT NULL,
    evidence   INTEGER NOT NULL,
    first_ms   INTEGER NOT NULL,
    last_ms    INTEGER NOT NULL,
    PRIMARY KEY (tenant, person, item)
) WITHOUT ROWID;
INSERT INTO person_items (tenant, person, item, normalized, evidence, first_ms, last_ms)
SELECT s.tenant, s.person, i.id, s.normalized, s.evidence, s.first_ms, s.last_ms
FROM person_items_5 s JOIN item_names i ON i.name = s.item;
DROP TABLE person_items_5;
CREATE INDEX person_items_ranked
    ON person_items (tenant, item, normalized DESC, last_ms, evidence, first_ms);

ALTER TABLE activity_stats RENAME TO activity_stats_5;
CREATE TABLE activity_stats (
    tenant      INTEGER NOT NULL,
    item        INTEGER NOT NULL,
    activity    TEXT    NOT NULL,
    statements  INTEGER NOT NULL,
    learners    INTEGER NOT NULL,
    completions INTEGER NOT NULL,
    successes   INTEGER NOT NULL,
    failures    INTEGER NOT NULL,
    score_sum   REAL    NOT NULL,
    scored      INTEGER NOT NULL,
    PRIMARY KEY (tenant, item, activity)
) WITHOUT ROWID;
INSERT INTO activity_stats (tenant, item, activity, statements, learners, completions,
    successes, failures, score_sum, scored)
SELECT s.tenant, i.id, s.activity, s.statements, s.learners, s.completions, s.successes,
    s.failures, s.score_sum, s.scored
FROM activity_stats_5 s JOIN item_names i ON i.name = s.item;
DROP TABLE activity_stats_5;

-- The aggregates, empty, with ids; `path_people` is as it was.
DROP TABLE item_buckets;
DROP TABLE item_closers;
DROP INDEX item_reach_ends;
DROP TABLE item_reach;
DROP TABLE item_reach_days;
DELETE FROM path_people;
DELETE FROM path_population;
DELETE FROM level_scale;
-- People per item and bucket of their sum (`person_items.normalized`).
CREATE TABLE item_buckets (
    tenant INTEGER NOT NULL,
    item   INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    people INTEGER NOT NULL,
    PRIMARY KEY (tenant, item, bucket)
) WITHOUT ROWID;
-- Per item and activity, for each level 1–5: people who did it while below the level, and
-- of those the people who then reached it.
CREATE TABLE item_closers (
    tenant     INTEGER NOT NULL,
    item       INTEGER NOT NULL,
    activity   TEXT    NOT NULL,
    learners_1 INTEGER NOT NULL,
    learners_2 INTEGER NOT NULL,
    learners_3 INTEGER NOT NULL,
    learners_4 INTEGER NOT NULL,
    learners_5 INTEGER NOT NULL,
    reached_1  INTEGER NOT NULL,
    reached_2  INTEGER NOT NULL,
    reached_3  INTEGER NOT NULL,
    reached_4  INTEGER NOT NULL,
    reached_5  INTEGER NOT NULL,
    PRIMARY KEY (tenant, item, activity)
) WITHOUT ROWID;
-- When a person's score stood at or above a level: [start_ms, end_ms), end_ms the largest
-- integer for a span that lasts.
CREATE TABLE item_reach (
    tenant   INTEGER NOT NULL,
    item     INTEGER NOT NULL,
    level    INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    person   TEXT    NOT NULL,
    end_ms   INTEGER NOT NULL,
    PRIMARY KEY (tenant, item, level, start_ms, person)
) WITHOUT ROWID;
CREATE INDEX item_reach_ends ON item_reach (tenant, item, level, end_ms);
-- Per item and day (Unix days), for each level 1–5: spans starting and ending on it.
CREATE TABLE item_reach_days (
    tenant   INTEGER NOT NULL,
    item     INTEGER NOT NULL,
    day      INTEGER NOT NULL,
    starts_1 INTEGER NOT NULL,
    starts_2 INTEGER NOT NULL,
    starts_3 INTEGER NOT NULL,
    starts_4 INTEGER NOT NULL,
    starts_5 INTEGER NOT NULL,
    ends_1   INTEGER NOT NULL,
    ends_2   INTEGER NOT NULL,
    ends_3   INTEGER NOT NULL,
    ends_4   INTEGER NOT NULL,
    ends_5   INTEGER NOT NULL,
    PRIMARY KEY (tenant, item, day)
) WITHOUT ROWID;
