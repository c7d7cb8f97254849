-- Confirmation calls (issue 15): one row per resolution of a ticket, written in the same transaction
-- as its change to `resolved`; the outbound dialer works through the pending ones.
-- state: pending (waiting for its next try or being dialled) | satisfied | reopened (the citizen's
-- verdict) | call_back (no try reached the citizen: on an agent's call-back list) | unverified (closed
-- closed_unverified) | cancelled (the ticket left `resolved` some other way).
CREATE TABLE confirmation_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    round BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_cause TEXT,
    resolved_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (ticket_id, round)
);
CREATE INDEX confirmation_calls_due ON confirmation_calls (state, next_attempt_at);
