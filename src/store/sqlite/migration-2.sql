-- Schema version 2: each statement keeps its index keys beside its body, as a JSON array
-- of [kind, key] pairs, so a statement can be copied whole without a scan of
-- statement_index (whose key starts with the index key, not the statement).
ALTER TABLE statements ADD COLUMN index_keys TEXT NOT NULL DEFAULT '[]';
CREATE INDEX backfill_by_seq ON statement_index (seq);
UPDATE statements SET index_keys = (
    SELECT json_group_array(json_array(i.kind, i.key))
    FROM statement_index i
    WHERE i.seq = statements.seq AND i.tenant = statements.tenant
);
DROP INDEX backfill_by_seq;
