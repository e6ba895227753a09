-- Ownership of shared work, fenced by a token per claim.
--
-- A delivery is sent only by the claim that holds it: each claim writes a
-- fresh lease_token, and renewing the lease, recording a success and
-- recording a failure all name that token in the same statement. A worker
-- whose lease was taken over therefore neither sends nor records.
ALTER TABLE outbox ADD COLUMN lease_token TEXT;
CREATE INDEX outbox_lease ON outbox (lease_token);

-- Jobs that one server at a time should run (escalation, re-match, mailbox
-- polling, digests): the holder, its token and until when it holds the job.
CREATE TABLE job_leases (
    name        TEXT    PRIMARY KEY,
    owner       TEXT    NOT NULL,
    token       TEXT    NOT NULL,
    lease_until INTEGER NOT NULL,
    acquired_at INTEGER NOT NULL
);
