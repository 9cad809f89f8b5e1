-- Schema version 5: competency frameworks, tagging rules, the activity catalog, and the
-- tags of each statement (a JSON array beside its immutable body; NULL when voided).
ALTER TABLE statements ADD COLUMN tags TEXT;

CREATE TABLE frameworks (
    tenant     INTEGER NOT NULL,
    id         TEXT    NOT NULL,
    iri        TEXT    NOT NULL,
    version    TEXT    NOT NULL,
    active     INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX frameworks_by_iri ON frameworks (tenant, iri, version);

CREATE TABLE tagging_rules (
    tenant     INTEGER NOT NULL,
    id         TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

CREATE TABLE activity_alignments (
    tenant      INTEGER NOT NULL,
    activity_id TEXT    NOT NULL,
    alignments  TEXT    NOT NULL,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (tenant, activity_id)
) WITHOUT ROWID;

-- Bumped by every framework or rule change; gateways recompile their tagger when it moves.
CREATE TABLE tagging_revisions (
    tenant   INTEGER PRIMARY KEY,
    revision INTEGER NOT NULL
);
