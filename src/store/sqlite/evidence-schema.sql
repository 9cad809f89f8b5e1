-- The evidence file: what the journal of the main database says, applied. Everything
-- here is derived; `lrsgate retag` rebuilds it. This is the whole file as a fresh one
-- is made; a change here needs an upgrade step for existing files too (see
-- `EVIDENCE_SCHEMA` in mod.rs), which the store tests check.
CREATE TABLE applied (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    journal INTEGER NOT NULL
);
INSERT INTO applied (id, journal) VALUES (1, 0);

-- Each identity, item, activity and verb the file names, once, in a table per kind; the
-- other tables hold the id, so their rows and index entries are a fraction of the names'
-- size (IRIs and mailto IFIs of 40 to 90 characters, repeated in every row). Activity 0
-- is the empty name (an evidence row without an activity). People stay by name, as do
-- activities in the small per-activity tables: a ranking or a candidate search reads
-- thousands of people, a recommendation thousands of activities, and each would be a
-- lookup. A person that is a canonical UUID (every person derived from an identity) is
-- kept as its 16 bytes, any other as text (`evidence::person`).
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

-- One row per tag of a non-voided statement and person it is evidence for (its actor, and
-- an instructor or author it names); keyed by the statement's storage order, so rows are
-- appended rather than scattered.
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
-- A person's rows for an item in time order, with what walking and counting them reads.
CREATE INDEX evidence_by_person
    ON evidence (tenant, person, item, at_ms, seq, identity, activity, normalized);

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
-- Experts and candidates: person_items by item and time-normalized sum, with every column
-- a ranked read returns; also the sums next to a level's threshold (`evidence::paths`). A
-- table rather than an index of person_items, so that the evidence thread can write it in
-- its own key order when a batch ends (`evidence::tallies`) while it writes person_items
-- in person order.
CREATE TABLE person_ranks (
    tenant     INTEGER NOT NULL,
    item       INTEGER NOT NULL,
    normalized REAL    NOT NULL,
    last_ms    INTEGER NOT NULL,
    evidence   INTEGER NOT NULL,
    first_ms   INTEGER NOT NULL,
    person     BLOB    NOT NULL,
    PRIMARY KEY (tenant, item, normalized DESC, last_ms, evidence, first_ms, person)
) WITHOUT ROWID;

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

-- The upskilling aggregates (see `evidence::paths` and evidence-migration-3.sql).
CREATE TABLE level_scale (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    half_life_days REAL    NOT NULL,
    -- JSON array: the decayed score levels 2, 3, 4 and 5 start at.
    level_from     TEXT    NOT NULL
);
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
    person   BLOB    NOT NULL,
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
-- People with any evidence, and how many items each has evidence for.
CREATE TABLE path_people (
    tenant INTEGER NOT NULL,
    person BLOB    NOT NULL,
    items  INTEGER NOT NULL,
    PRIMARY KEY (tenant, person)
) WITHOUT ROWID;
CREATE TABLE path_population (
    tenant INTEGER PRIMARY KEY,
    people INTEGER NOT NULL
);
