-- Schema version 8: skill evidence moves to its own file (`<database>-evidence`), kept by
-- a thread of its own so ingest does not pay for its random index writes. Statements,
-- voids, retags and links append their evidence changes to this journal in their own
-- transaction; the evidence thread applies them in order and removes what it applied
-- (always keeping the newest entry, so ids never repeat). Rows recorded under version 7
-- become journal entries and are applied on the next start.
CREATE TABLE evidence_journal (
    id     INTEGER PRIMARY KEY,
    tenant INTEGER NOT NULL,
    change TEXT    NOT NULL
);
INSERT INTO evidence_journal (tenant, change)
SELECT tenant, json_object('add', json_object(
    'seq', seq, 'person', person, 'statement', statement, 'item', item,
    'identity', identity, 'activity', activity, 'verb', verb, 'verb_w', verb_w,
    'result_w', result_w, 'confidence', confidence, 'trust', trust, 'at_ms', at_ms,
    'normalized', normalized, 'outcome', outcome, 'scaled', scaled))
FROM evidence ORDER BY seq, item;
DROP TABLE evidence;
DROP TABLE person_items;
DROP TABLE activity_stats;
