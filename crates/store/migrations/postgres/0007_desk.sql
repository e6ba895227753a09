-- A team member's TOTP second factor. The shared secret is sealed, bound to
-- the user id; `confirmed_at` is empty while the member has not yet proved
-- (with one code) that their authenticator holds it. `last_step` refuses a
-- code used twice.
CREATE TABLE totp_secrets (
    user_id      BIGINT  PRIMARY KEY REFERENCES users (id),
    sealed_key   TEXT    NOT NULL,
    sealed       BYTEA   NOT NULL,
    confirmed_at BIGINT,
    last_step    BIGINT  NOT NULL DEFAULT 0
);

-- A team member's named case filters in the web interface.
CREATE TABLE saved_views (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id),
    name       TEXT    NOT NULL,
    query      TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    UNIQUE (user_id, name)
);
