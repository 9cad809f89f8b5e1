-- Evidence file version 8: the ranking of sums is a table of its own (`person_ranks`)
-- instead of an index of person_items. Each new evidence row moved its sum's entry in the
-- index, at random among its pages; the evidence thread now writes the table in its key
-- order when a batch ends. The rows are those of person_items, carried over.
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
INSERT INTO person_ranks (tenant, item, normalized, last_ms, evidence, first_ms, person)
SELECT tenant, item, normalized, last_ms, evidence, first_ms, person FROM person_items;
DROP INDEX person_items_ranked;
