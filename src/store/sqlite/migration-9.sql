-- Schema version 9: connectors (configuration, run state, leases, dead letters) and the
-- activity-equivalence table.
-- Connectors: configuration (secrets included; never shown) and run state, as JSON.
CREATE TABLE connectors (
    tenant     INTEGER NOT NULL,
    id         TEXT    NOT NULL,
    config     TEXT    NOT NULL,
    state      TEXT,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

-- Which gateway runs a connector: the owner holds the lease until `expires_ms`.
CREATE TABLE leases (
    name       TEXT    NOT NULL PRIMARY KEY,
    owner      TEXT    NOT NULL,
    expires_ms INTEGER NOT NULL
) WITHOUT ROWID;

-- Statements a forwarder gave up on, until replayed or dropped.
CREATE TABLE dead_letters (
    tenant       INTEGER NOT NULL,
    connector    TEXT    NOT NULL,
    statement_id TEXT    NOT NULL,
    error        TEXT    NOT NULL,
    attempts     INTEGER NOT NULL,
    failed_ms    INTEGER NOT NULL,
    PRIMARY KEY (tenant, connector, statement_id)
) WITHOUT ROWID;
CREATE INDEX dead_letters_by_time ON dead_letters (tenant, connector, failed_ms);

-- The activity-equivalence table: statements about `alias` count as about `canonical`.
CREATE TABLE activity_equivalences (
    tenant    INTEGER NOT NULL,
    alias     TEXT    NOT NULL,
    canonical TEXT    NOT NULL,
    source    TEXT    NOT NULL,
    PRIMARY KEY (tenant, alias)
) WITHOUT ROWID;
CREATE INDEX activity_equivalences_by_canonical ON activity_equivalences (tenant, canonical);
