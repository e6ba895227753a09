-- Each finding's remediation deadline as its product's policy gives it,
-- kept on the row so the findings page and the dashboard sort, filter and
-- count in the database. Derived data: every change to a finding bumps
-- `version` and clears `dated`; the application works the deadline out
-- again (and for every finding when the policy changes).
ALTER TABLE findings ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE findings ADD COLUMN dated BIGINT NOT NULL DEFAULT 0;
-- The policy's finding clock, and when it warns and is due (no patch yet: none).
ALTER TABLE findings ADD COLUMN deadline_clock TEXT;
ALTER TABLE findings ADD COLUMN warn_at BIGINT;
ALTER TABLE findings ADD COLUMN due_at BIGINT;
-- From when the finding needs fixing: 0 for always (in triage, affected),
-- the end of an accepted risk, none once it no longer does.
ALTER TABLE findings ADD COLUMN open_from BIGINT;
CREATE INDEX findings_undated ON findings (id) WHERE dated = 0;
CREATE INDEX findings_due ON findings (due_at);
