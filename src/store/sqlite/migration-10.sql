-- Schema version 10: the learning-experience answers (opportunities) and privacy
-- operations (erasure audit records, retention policies). Each part appends its tables
-- here and, identically, to schema.sql.

-- Privacy operations (see src/store/privacy.rs) ------------------------------------------

-- A record per erasure or retention run that changed something: who asked, when, counts
-- (JSON). Never personal data. Ids are time-ordered.
CREATE TABLE privacy_audit (
    tenant INTEGER NOT NULL,
    id     TEXT    NOT NULL,
    at_ms  INTEGER NOT NULL,
    record TEXT    NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

-- Per-tenant retention policies (JSON: older_than_days, optional verb and activity prefix).
CREATE TABLE retention_policies (
    tenant     INTEGER NOT NULL,
    id         TEXT    NOT NULL,
    policy     TEXT    NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

-- Opportunities (projects, assignments, jobs): the items and levels each needs; `body` is
-- the whole opportunity as JSON, `status` 'open' or 'closed'.
CREATE TABLE opportunities (
    tenant     INTEGER NOT NULL,
    id         TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE INDEX opportunities_by_status ON opportunities (tenant, status, id);
