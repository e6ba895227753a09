-- Sign-in attempts, for the login throttle every instance shares and for the
-- admins to see who is trying. The address is where the attempt came from;
-- the account only when the username named one (a username nobody has is
-- not kept: people type passwords into that field). Rows older than the
-- retention are removed as new ones arrive.
CREATE TABLE login_attempts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    address    TEXT    NOT NULL,
    user_id    INTEGER REFERENCES users (id),
    succeeded  INTEGER NOT NULL
);
CREATE INDEX login_attempts_by_address ON login_attempts (address, at);
CREATE INDEX login_attempts_by_account ON login_attempts (user_id, address, at);
CREATE INDEX login_attempts_by_time ON login_attempts (at);
