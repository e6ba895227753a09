-- One row per message to one destination (an email address, a webhook),
-- written in the same transaction as the event that causes it and delivered
-- later by a worker. The idempotency key makes a second write a no-op and
-- travels with the delivery so receivers can drop repeats. Destination and
-- payload are sealed: they can hold a reporter's address.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    idempotency_key TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    case_ref        TEXT,
    sealed_key      TEXT    NOT NULL,
    sealed          BLOB    NOT NULL,
    state           TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    delivered_at    INTEGER,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_case ON outbox (case_ref, id);

-- Every delivery attempt and its outcome.
CREATE TABLE outbox_attempts (
    id        INTEGER PRIMARY KEY,
    outbox_id INTEGER NOT NULL REFERENCES outbox (id),
    attempt   INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    worker    TEXT    NOT NULL,
    ok        INTEGER NOT NULL,
    detail    TEXT
);
CREATE INDEX outbox_attempts_message ON outbox_attempts (outbox_id, attempt);

-- Webhook subscriptions. The signing secret is sealed.
CREATE TABLE webhooks (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    url          TEXT    NOT NULL,
    format       TEXT    NOT NULL,
    kinds        TEXT    NOT NULL,
    products     TEXT    NOT NULL,
    min_severity TEXT,
    sealed_key   TEXT    NOT NULL,
    sealed       BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    disabled     INTEGER NOT NULL
);

-- Team members' email and what they want to hear about.
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN notify TEXT NOT NULL DEFAULT '{}';
-- An OpenPGP public key (armored): email to this user is encrypted to it.
ALTER TABLE users ADD COLUMN pgp_key TEXT;

-- Low-priority notices a team member chose to receive once a day.
CREATE TABLE digest_items (
    id         INTEGER PRIMARY KEY,
    email      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    case_ref   TEXT,
    line       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at    INTEGER
);
CREATE INDEX digest_items_unsent ON digest_items (sent_at, email);
