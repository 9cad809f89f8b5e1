-- Evidence file version 7: a person that is a canonical UUID (lowercase, hyphenated; every
-- person derived from an identity) is kept as its 16 bytes instead of its 36 characters of
-- text, so the rows the evidence thread writes at random (the index of a person's rows,
-- the sums and their ranking, the spans) are 20 bytes shorter each; any other person stays
-- text (`evidence::person`). The rows and sums are carried over; the aggregates start
-- empty and, with the scale cleared, the store rebuilds them at this open.

-- Each person's new form, worked out once.
CREATE TEMP TABLE person_kept (
    name TEXT PRIMARY KEY,
    kept BLOB NOT NULL
) WITHOUT ROWID;
INSERT INTO person_kept (name, kept)
SELECT person, CASE WHEN length(person) = 36 AND person = lower(person)
        AND substr(person, 9, 1) = '-' AND substr(person, 14, 1) = '-'
        AND substr(person, 19, 1) = '-' AND substr(person, 24, 1) = '-'
        AND length(unhex(replace(person, '-', ''))) = 16
    THEN unhex(replace(person, '-', '')) ELSE person END
FROM (SELECT person FROM evidence UNION SELECT person FROM person_items);

DROP INDEX evidence_by_person;
ALTER TABLE evidence RENAME TO evidence_6;
CREATE TABLE evidence (
    tenant     INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    statement  TEXT    NOT NULL,
    item       INTEGER NOT NULL,
    identity   INTEGER NOT NULL,
    person     BLOB    NOT NULL,
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
SELECT e.tenant, e.seq, e.statement, e.item, e.identity, k.kept, e.activity, e.verb, e.verb_w,
    e.result_w, e.confidence, e.trust, e.at_ms, e.normalized, e.outcome, e.scaled
FROM evidence_6 e JOIN person_kept k ON k.name = e.person;
DROP TABLE evidence_6;
CREATE INDEX evidence_by_person
    ON evidence (tenant, person, item, at_ms, seq, identity, activity, normalized);

DROP INDEX person_items_ranked;
ALTER TABLE person_items RENAME TO person_items_6;
CREATE TABLE person_items (
    tenant     INTEGER NOT NULL,
    person     BLOB    NOT NULL,
    item       INTEGER NOT NULL,
    normalized REAL    NOT NULL,
    evidence   INTEGER NOT NULL,
    first_ms   INTEGER NOT NULL,
    last_ms    INTEGER NOT NULL,
    PRIMARY KEY (tenant, person, item)
) WITHOUT ROWID;
INSERT INTO person_items (tenant, person, item, normalized, evidence, first_ms, last_ms)
SELECT s.tenant, k.kept, s.item, s.normalized, s.evidence, s.first_ms, s.last_ms
FROM person_items_6 s JOIN person_kept k ON k.name = s.person;
DROP TABLE person_items_6;
CREATE INDEX person_items_ranked
    ON person_items (tenant, item, normalized DESC, last_ms, evidence, first_ms);

DROP TABLE person_kept;

-- The aggregates, empty; those by person keep it as above.
DROP INDEX item_reach_ends;
DROP TABLE item_reach;
DROP TABLE path_people;
DELETE FROM item_buckets;
DELETE FROM item_closers;
DELETE FROM item_reach_days;
DELETE FROM path_population;
DELETE FROM level_scale;
-- When a person's score stood at or above a level: [start_ms, end_ms), end_ms the largest
-- integer for a span that lasts.
CREATE TABLE item_reach (
    tenant   INTEGER NOT NULL,
    item     INTEGER NOT NULL,
    level    INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    person   BLOB    NOT NULL,
    end_ms   INTEGER NOT NULL,
    PRIMARY KEY (tenant, item, level, start_ms, person)
) WITHOUT ROWID;
CREATE INDEX item_reach_ends ON item_reach (tenant, item, level, end_ms);
-- People with any evidence, and how many items each has evidence for.
CREATE TABLE path_people (
    tenant INTEGER NOT NULL,
    person BLOB    NOT NULL,
    items  INTEGER NOT NULL,
    PRIMARY KEY (tenant, person)
) WITHOUT ROWID;
