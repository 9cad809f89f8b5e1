-- Schema version 11: index rows keep a 64-bit hash of their key (`lrs_key_hash`, which
-- the store registers before it migrates) instead of its text, and are grouped by
-- `bucket`, `seq >> 16`, so ingest reads and rewrites fewer of the index's pages per
-- statement (src/store/sqlite/keys.rs). The keys' text stays in each statement's
-- `index_keys`, which every lookup checks.
CREATE TABLE statement_keys (
    tenant   INTEGER NOT NULL,
    kind     INTEGER NOT NULL,
    bucket   INTEGER NOT NULL,
    key_hash INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind, bucket, key_hash, seq)
) WITHOUT ROWID;
INSERT OR IGNORE INTO statement_keys (tenant, kind, bucket, key_hash, seq)
SELECT tenant, kind, seq >> 16, lrs_key_hash(key), seq FROM statement_index;
DROP TABLE statement_index;
