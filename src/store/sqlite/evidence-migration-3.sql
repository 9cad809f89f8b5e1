-- Evidence file version 3: the upskilling aggregates (see `evidence::paths`), kept by the
-- evidence thread for each (person, item) it touches. The tables start empty; the store
-- builds them from the evidence rows when it opens a file without them (`paths::ensure`).
CREATE TABLE level_scale (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    half_life_days REAL    NOT NULL,
    -- JSON array: the decayed score levels 2, 3, 4 and 5 start at.
    level_from     TEXT    NOT NULL
);
-- A person's path for an item: their sum in time order, its bucket (64 a doubling), and
-- what the path contributes to the tables below (JSON), so a change takes out exactly that.
CREATE TABLE item_paths (
    tenant INTEGER NOT NULL,
    item   TEXT    NOT NULL,
    person TEXT    NOT NULL,
    sum    REAL    NOT NULL,
    bucket INTEGER NOT NULL,
    path   TEXT    NOT NULL,
    PRIMARY KEY (tenant, item, person)
) WITHOUT ROWID;
CREATE INDEX item_paths_by_bucket ON item_paths (tenant, item, bucket, sum);
-- People per item and bucket of their sum.
CREATE TABLE item_buckets (
    tenant INTEGER NOT NULL,
    item   TEXT    NOT NULL,
    bucket INTEGER NOT NULL,
    people INTEGER NOT NULL,
    PRIMARY KEY (tenant, item, bucket)
) WITHOUT ROWID;
-- Per item and activity, for each level 1–5: people who did it while below the level, and
-- of those the people who then reached it.
CREATE TABLE item_closers (
    tenant     INTEGER NOT NULL,
    item       TEXT    NOT NULL,
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
    item     TEXT    NOT NULL,
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
    item     TEXT    NOT NULL,
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
    person TEXT    NOT NULL,
    items  INTEGER NOT NULL,
    PRIMARY KEY (tenant, person)
) WITHOUT ROWID;
CREATE TABLE path_population (
    tenant INTEGER PRIMARY KEY,
    people INTEGER NOT NULL
);
