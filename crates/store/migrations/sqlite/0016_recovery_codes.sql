-- One-time recovery codes for a member's second factor (a lost phone): ten
-- made when the factor is confirmed, each kept as the SHA-256 of the code
-- (80 random bits; the code itself is shown once), used at most once.
CREATE TABLE recovery_codes (
    user_id  INTEGER NOT NULL REFERENCES users (id),
    digest   TEXT    NOT NULL,
    used_at  INTEGER,
    PRIMARY KEY (user_id, digest)
);
