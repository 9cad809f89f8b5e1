-- The evidence file, schema version 1: what the journal of the main database says,
-- applied. Everything here is derived; `lrsgate retag` rebuilds it. This is the whole
-- file as a fresh one is made; a change here needs an upgrade step for existing files
-- too (see `EVIDENCE_SCHEMA` in mod.rs), which the store tests check.
CREATE TABLE applied (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    journal INTEGER NOT NULL
);
INSERT INTO applied (id, journal) VALUES (1, 0);

-- One row per tag of a non-voided statement and person it is evidence for (its actor, and
-- an instructor or author it names); keyed by the statement's storage order, so rows are
-- appended rather than scattered.
CREATE TABLE evidence (
    tenant     INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    statement  TEXT    NOT NULL,
    item       TEXT    NOT NULL,
    identity   TEXT    NOT NULL,
    person     TEXT    NOT NULL,
    activity   TEXT    NOT NULL,
    verb       TEXT    NOT NULL,
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
CREATE INDEX evidence_by_person ON evidence (tenant, person, item);

CREATE TABLE person_items (
    tenant     INTEGER NOT NULL,
    person     TEXT    NOT NULL,
    item       TEXT    NOT NULL,
    normalized REAL    NOT NULL,
    evidence   INTEGER NOT NULL,
    first_ms   INTEGER NOT NULL,
    last_ms    INTEGER NOT NULL,
    PRIMARY KEY (tenant, person, item)
) WITHOUT ROWID;
-- Experts: people by their time-normalized sum for an item.
CREATE INDEX person_items_ranked ON person_items (tenant, item, normalized DESC);

CREATE TABLE activity_stats (
    tenant      INTEGER NOT NULL,
    item        TEXT    NOT NULL,
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
