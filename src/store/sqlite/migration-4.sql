-- Schema version 4: the keys the gateway signs its OAuth2 access tokens with, shared by
-- every gateway on the store. The newest signs; any listed one verifies.
CREATE TABLE signing_keys (
    kid        TEXT PRIMARY KEY,
    secret     BLOB NOT NULL,
    created_ms INTEGER NOT NULL
);
