-- The ticket store (crates/tickets): tickets, departments, the audit trail, notes, API tokens and the
-- complaint-number block counter. Versions 1-99999 belong to this crate; the call records' migrations
-- (crates/records, 120000 and up) share the database and the migrations table.
CREATE TABLE departments (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_hi TEXT NOT NULL,
    sla_days BIGINT NOT NULL CHECK (sla_days BETWEEN 1 AND 365)
);
CREATE TABLE number_blocks (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    next_block BIGINT NOT NULL
);
INSERT INTO number_blocks (id, next_block) VALUES (1, 0);
CREATE TABLE tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version BIGINT NOT NULL DEFAULT 1,
    number TEXT NOT NULL UNIQUE,
    call_id TEXT UNIQUE,
    source TEXT NOT NULL,
    caller_number TEXT NOT NULL,
    language TEXT NOT NULL,
    department_code TEXT NOT NULL REFERENCES departments (code),
    category TEXT,
    district TEXT,
    description TEXT,
    recording_file TEXT,
    recording_duration_ms BIGINT,
    recording_sha256 TEXT,
    recording_bytes BIGINT,
    after_hours BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    level BIGINT NOT NULL DEFAULT 1 CHECK (level BETWEEN 1 AND 4),
    assigned_to TEXT,
    due_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    feedback_satisfied BIGINT,
    feedback_reason TEXT,
    reopen_count BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX tickets_status_due ON tickets (status, due_at);
CREATE INDEX tickets_department_created ON tickets (department_code, created_at);
CREATE INDEX tickets_caller ON tickets (caller_number);
CREATE INDEX tickets_created ON tickets (created_at);
CREATE TABLE number_aliases (
    number TEXT PRIMARY KEY,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    created_at BIGINT NOT NULL
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT,
    reason TEXT
);
CREATE INDEX audit_log_ticket ON audit_log (ticket_id, id);
CREATE TABLE notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    at BIGINT NOT NULL,
    author TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX notes_ticket ON notes (ticket_id, id);
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    department_code TEXT REFERENCES departments (code),
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
