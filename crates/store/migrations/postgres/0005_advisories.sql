-- Advisories, one per case. The draft (every field, revisions included) is
-- sealed, bound to the advisory id: before publication nothing of it is
-- readable from the database. `published` holds the public form, written
-- only by the publish action.
CREATE TABLE advisories (
    id           TEXT    PRIMARY KEY,
    case_id      BIGINT  NOT NULL UNIQUE REFERENCES cases (id),
    sealed_key   TEXT    NOT NULL,
    sealed       BYTEA   NOT NULL,
    published    TEXT,
    published_at BIGINT,
    modified_at  BIGINT  NOT NULL
);
CREATE INDEX advisories_published ON advisories (published_at);

-- The organization's OpenPGP signing key for the CSAF provider's signatures,
-- one per purpose, the secret sealed (bound to the purpose).
CREATE TABLE signing_keys (
    purpose     TEXT    PRIMARY KEY,
    fingerprint TEXT    NOT NULL,
    public_key  TEXT    NOT NULL,
    sealed_key  TEXT    NOT NULL,
    sealed      BYTEA   NOT NULL,
    created_at  BIGINT    NOT NULL
);
