-- Call records and the queue/agent event log (crates/records). Versions 120000-129999 belong to this
-- crate; the ticket store's migrations share the database and the migrations table.
CREATE TABLE call_records (
    call_id        TEXT PRIMARY KEY,
    asterisk_id    TEXT,
    channel_id     TEXT NOT NULL,
    node           TEXT NOT NULL,
    caller         TEXT NOT NULL,
    caller_raw     TEXT NOT NULL,
    dialled        TEXT,
    language       TEXT,
    arrived_at     BIGINT NOT NULL,
    answered_at    BIGINT,
    ended_at       BIGINT NOT NULL,
    outcome        TEXT NOT NULL,
    destination    TEXT,
    path           TEXT NOT NULL,
    tickets        TEXT NOT NULL,
    recordings     TEXT NOT NULL,
    hangup_cause   TEXT,
    hung_up_by     TEXT NOT NULL,
    queue          TEXT,
    wait_ms        BIGINT,
    agent          TEXT,
    talk_ms        BIGINT,
    wrapup_ms      BIGINT,
    disposition    TEXT
);
CREATE INDEX call_records_arrived ON call_records (arrived_at);

CREATE TABLE queue_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    event_key    TEXT NOT NULL UNIQUE,
    at           BIGINT NOT NULL,
    event        TEXT NOT NULL,
    call_id      TEXT,
    queue        TEXT,
    agent        TEXT,
    wait_ms      BIGINT,
    duration_ms  BIGINT,
    position     BIGINT,
    info         TEXT
);
CREATE INDEX queue_events_at ON queue_events (at);
