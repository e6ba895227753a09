-- Attached files' contents, encrypted (bound to the attachment id). What is
-- known about each file (name, type, size, digest) lives in the case's sealed
-- projection and in its `attachment_added` event.
CREATE TABLE attachments (
    id         TEXT    PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    size       INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    sealed_key TEXT    NOT NULL,
    sealed     BLOB    NOT NULL
);
CREATE INDEX attachments_case ON attachments (case_id);

-- Messages the security mailbox has taken in, by Message-ID (or digest), so
-- that a message polled twice (a crash before it was marked seen) is taken
-- once. Written in the transaction that opens or threads its case.
CREATE TABLE mailbox_messages (
    message_key  TEXT    PRIMARY KEY,
    case_ref     TEXT,
    outcome      TEXT    NOT NULL,
    processed_at INTEGER NOT NULL
);
