-- Schema version 12: index buckets of 2^15 statements (`seq >> 15`) instead of 2^16. A
-- commit rewrites the newest bucket's pages its new rows land on, and a smaller bucket
-- has fewer of them; a lookup reads one more range per 32 768 statements.
ALTER TABLE statement_keys RENAME TO statement_keys_11;
CREATE TABLE statement_keys (
    tenant   INTEGER NOT NULL,
    kind     INTEGER NOT NULL,
    bucket   INTEGER NOT NULL,
    key_hash INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind, bucket, key_hash, seq)
) WITHOUT ROWID;
INSERT INTO statement_keys (tenant, kind, bucket, key_hash, seq)
SELECT tenant, kind, seq >> 15, key_hash, seq FROM statement_keys_11;
DROP TABLE statement_keys_11;
