-- Reports received under an idempotency key (the API's Idempotency-Key
-- header, the report form's one-time submission id): a request sent again
-- gets the first one's receipt instead of a second case. The reporter's
-- token is sealed, bound to the key's digest; rows are forgotten after a day.
CREATE TABLE intake_requests (
    key_digest     TEXT    PRIMARY KEY,
    request_digest TEXT    NOT NULL,
    case_ref       TEXT    NOT NULL,
    sealed_key     TEXT    NOT NULL,
    sealed         BLOB    NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX intake_requests_by_time ON intake_requests (created_at);
