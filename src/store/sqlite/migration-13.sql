-- Schema version 13: a count of the changes that add index rows to stored statements or
-- delete statements, which the in-memory filters of sealed index buckets are checked
-- against (src/store/sqlite/bucket_filters.rs).
CREATE TABLE index_rewrites (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    rewrites INTEGER NOT NULL
);
INSERT INTO index_rewrites (id, rewrites) VALUES (1, 0);
