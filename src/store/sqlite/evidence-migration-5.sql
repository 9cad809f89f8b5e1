-- Evidence file version 5: a pair's upskilling path is walked again from its evidence rows
-- before and after each batch rather than kept, and the buckets follow the sums of
-- `person_items`. Clearing the scale has the store rebuild the aggregates at this open.
DROP INDEX item_paths_by_bucket;
DROP TABLE item_paths;
DELETE FROM level_scale;
-- The walk, and the check for a person's earlier rows on an activity, read the index
-- alone: it holds their rows in time order with the columns they read.
DROP INDEX evidence_by_person;
CREATE INDEX evidence_by_person
    ON evidence (tenant, person, item, at_ms, seq, identity, activity, normalized);
