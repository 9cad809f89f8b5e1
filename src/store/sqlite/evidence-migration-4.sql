-- Evidence file version 4: the ranking index carries every column a ranked read returns,
-- so reading an item's best sums walks one index instead of looking each row up again.
DROP INDEX person_items_ranked;
CREATE INDEX person_items_ranked
    ON person_items (tenant, item, normalized DESC, last_ms, evidence, first_ms);
