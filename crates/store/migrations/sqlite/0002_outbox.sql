-- Messages to deliver (email, webhooks), written in the same transaction as
-- the event that causes them and delivered later by a worker. The idempotency
-- key makes a second write of the same message a no-op.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    idempotency_key TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    case_ref        TEXT,
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
