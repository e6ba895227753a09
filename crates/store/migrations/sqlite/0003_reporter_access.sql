-- Reporters' private links: a capability token per case, stored as a digest.
-- Rotating one revokes the old; the team can revoke them all.
CREATE TABLE reporter_tokens (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    token_hash TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX reporter_tokens_case ON reporter_tokens (case_id);
