-- lrsgate embedded store, schema version 1. Every table is keyed by tenant.
CREATE TABLE tenants (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
INSERT INTO tenants (id, name) VALUES (1, 'default');

-- seq is the statements' order: assigned at commit, in `stored` order.
CREATE TABLE statements (
    seq         INTEGER PRIMARY KEY,
    tenant      INTEGER NOT NULL,
    id          TEXT    NOT NULL,
    stored_ms   INTEGER NOT NULL,
    voided      INTEGER NOT NULL DEFAULT 0,
    voiding     INTEGER NOT NULL DEFAULT 0,
    fingerprint BLOB    NOT NULL,
    body        TEXT    NOT NULL
);
CREATE UNIQUE INDEX statements_by_id ON statements (tenant, id);
CREATE INDEX statements_by_tenant ON statements (tenant, voided, seq);
CREATE INDEX statements_by_stored ON statements (stored_ms);

-- One row per (agent | activity | verb | registration) a statement touches; see IndexKind.
CREATE TABLE statement_index (
    tenant INTEGER NOT NULL,
    kind   INTEGER NOT NULL,
    key    TEXT    NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind, key, seq)
) WITHOUT ROWID;

CREATE TABLE attachments (
    tenant       INTEGER NOT NULL,
    sha2         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    content      BLOB    NOT NULL,
    PRIMARY KEY (tenant, sha2)
) WITHOUT ROWID;

CREATE TABLE activities (
    tenant     INTEGER NOT NULL,
    id         TEXT    NOT NULL,
    definition TEXT    NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

CREATE TABLE agent_names (
    tenant INTEGER NOT NULL,
    ifi    TEXT    NOT NULL,
    name   TEXT    NOT NULL,
    PRIMARY KEY (tenant, ifi, name)
) WITHOUT ROWID;

-- kind: 1 state, 2 activity profile, 3 agent profile. Unused scope columns hold ''.
CREATE TABLE documents (
    tenant       INTEGER NOT NULL,
    kind         INTEGER NOT NULL,
    activity_id  TEXT    NOT NULL,
    agent        TEXT    NOT NULL,
    registration TEXT    NOT NULL,
    doc_id       TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    content      BLOB    NOT NULL,
    etag         TEXT    NOT NULL,
    updated_ms   INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind, activity_id, agent, registration, doc_id)
) WITHOUT ROWID;

CREATE TABLE credentials (
    key         TEXT PRIMARY KEY,
    tenant      INTEGER NOT NULL,
    secret_hash TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    authority   TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL
);
