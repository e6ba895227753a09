-- A team member's TOTP second factor. The shared secret is sealed, bound to
-- the user id; `confirmed_at` is empty while the member has not yet proved
-- (with one code) that their authenticator holds it. `last_step` refuses a
-- code used twice.
CREATE TABLE totp_secrets (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id),
    sealed_key   TEXT    NOT NULL,
    sealed       BLOB    NOT NULL,
    confirmed_at INTEGER,
    last_step    INTEGER NOT NULL DEFAULT 0
);

-- A team member's named case filters in the web interface.
CREATE TABLE saved_views (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    name       TEXT    NOT NULL,
    query      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (user_id, name)
);
