-- The transactional outbox (issue 15). An event is written in the transaction of the ticket change
-- that caused it (registered, status changed, resolved, reopened, escalated); its id is the
-- idempotency key every delivery of it carries. The notifier plans an event's deliveries (an SMS to
-- the citizen, a webhook per subscriber) once (planned_at), then delivers each at least once:
-- attempts counted when a try starts, the next try's time, a lease (owner + until) so two nodes
-- never try one delivery at the same time, and 'dead' after the last try.
CREATE TABLE outbox_events (
    -- The order events were written in (their instants may tie).
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    ticket_number TEXT NOT NULL,
    -- For the SMS only (never in a webhook's body): the caller's normalised number or 'unknown'.
    caller_number TEXT NOT NULL,
    language TEXT NOT NULL,
    -- The webhook body (JSON), as the OpenAPI document's webhooks describe it.
    payload TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    planned_at BIGINT
);
CREATE INDEX outbox_events_unplanned ON outbox_events (seq) WHERE planned_at IS NULL;
CREATE INDEX outbox_events_ticket ON outbox_events (ticket_id);
CREATE TABLE outbox_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL REFERENCES outbox_events (id),
    -- 'sms' or 'webhook:<subscriber>'.
    target TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error TEXT,
    -- What the receiver answered last: the gateway's message id, or the HTTP status.
    result TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (event_id, target)
);
CREATE INDEX outbox_deliveries_due ON outbox_deliveries (state, next_attempt_at);
