-- Schema version 3: credentials carry scopes (existing ones keep full xAPI access) and
-- tenants their creation time.
ALTER TABLE credentials ADD COLUMN scopes TEXT NOT NULL DEFAULT 'all';
ALTER TABLE tenants ADD COLUMN created_ms INTEGER NOT NULL DEFAULT 0;
