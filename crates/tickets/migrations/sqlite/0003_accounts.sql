-- Users, sessions, token owners, scopes and expiry, who filed a ticket, the account audit (issue 10).
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    department_code TEXT REFERENCES departments (code),
    password_hash TEXT NOT NULL,
    disabled_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    secret_hash TEXT NOT NULL UNIQUE,
    csrf_hash TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    client TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
ALTER TABLE api_tokens ADD COLUMN user_id BIGINT REFERENCES users (id);
ALTER TABLE api_tokens ADD COLUMN integration TEXT;
ALTER TABLE api_tokens ADD COLUMN scopes TEXT;
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
-- Tokens made before accounts existed get the default 90 days from the upgrade, and the integrations
-- among them only the narrow default scopes (issue 10).
UPDATE api_tokens SET expires_at = (CAST(strftime('%s', 'now') AS BIGINT) * 1000) + 7776000000 WHERE expires_at IS NULL;
UPDATE api_tokens SET scopes = 'tickets:file tickets:read_own tickets:status' WHERE role = 'integration';
ALTER TABLE tickets ADD COLUMN filed_by TEXT;
CREATE TABLE account_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT,
    detail TEXT,
    client TEXT
);
CREATE INDEX account_audit_at ON account_audit (at);
