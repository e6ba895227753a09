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
