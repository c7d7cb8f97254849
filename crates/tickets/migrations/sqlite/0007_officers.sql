-- Officers and their reminders (issue 15). An officer belongs to one department at one level
-- (L1 … L4, the escalation ladder), with an E.164 phone; the nodal officer of a department is
-- reminded when a ticket has nobody assigned. A ticket names its officer by id (officer_id); the
-- free text assigned_to stays as the name shown (the officer's name when assigned by id, or what
-- an earlier build stored, kept readable when no officer matches it).
CREATE TABLE officers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    department_code TEXT NOT NULL REFERENCES departments (code),
    level BIGINT NOT NULL CHECK (level BETWEEN 1 AND 4),
    phone TEXT NOT NULL,
    nodal BIGINT NOT NULL DEFAULT 0,
    reminder_channel TEXT NOT NULL CHECK (reminder_channel IN ('call', 'sms')),
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX officers_department ON officers (department_code, level, active);
ALTER TABLE tickets ADD COLUMN officer_id BIGINT REFERENCES officers (id);
-- One reminder per ticket per due milestone: milestone nearing (before due_at) or overdue (past
-- it), for the due time the ticket had then (a new due time after an escalation or a reopening is
-- a new milestone). Written once (the UNIQUE key: never twice across restarts or nodes).
-- state: pending (a call waiting for its next try or being dialled) | acknowledged (the officer
-- pressed 1) | sent (an SMS reminder handed to the outbox) | given_up (no try reached them) |
-- cancelled (the ticket closed before the call went out).
CREATE TABLE officer_reminders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    milestone TEXT NOT NULL CHECK (milestone IN ('nearing', 'overdue')),
    due_at BIGINT NOT NULL,
    officer_id BIGINT NOT NULL REFERENCES officers (id),
    channel TEXT NOT NULL CHECK (channel IN ('call', 'sms')),
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_cause TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (ticket_id, milestone, due_at)
);
CREATE INDEX officer_reminders_due ON officer_reminders (state, next_attempt_at);
