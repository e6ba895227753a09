-- Attached files' contents, encrypted (bound to the attachment id). What is
-- known about each file (name, type, size, digest) lives in the case's sealed
-- projection and in its `attachment_added` event.
CREATE TABLE attachments (
    id         TEXT    PRIMARY KEY,
    case_id    BIGINT  NOT NULL REFERENCES cases (id),
    size       BIGINT  NOT NULL,
    created_at BIGINT  NOT NULL,
    sealed_key TEXT    NOT NULL,
    sealed     BYTEA   NOT NULL
);
CREATE INDEX attachments_case ON attachments (case_id);
