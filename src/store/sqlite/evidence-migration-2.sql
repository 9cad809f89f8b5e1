-- Evidence file version 2: a row is keyed by the identity it counts for too, so that one
-- statement can be evidence for one item for two people: its actor and the instructor (or
-- author) it names (see `evidence::items`). The rows are copied into the new table.
CREATE TABLE evidence_v1 AS SELECT * FROM evidence;
DROP TABLE evidence;
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
INSERT INTO evidence SELECT * FROM evidence_v1;
DROP TABLE evidence_v1;
CREATE INDEX evidence_by_person ON evidence (tenant, person, item);
