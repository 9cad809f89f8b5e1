-- Schema version 6: agent identities linked into one person (identities never linked are
-- their own person and have no row).
CREATE TABLE person_identities (
    tenant     INTEGER NOT NULL,
    ifi        TEXT    NOT NULL,
    person     TEXT    NOT NULL,
    agent      TEXT    NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant, ifi)
) WITHOUT ROWID;
CREATE INDEX person_identities_by_person ON person_identities (tenant, person);
