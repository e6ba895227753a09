-- Sort and lookup keys the busiest lists need, kept beside the data they
-- come from so a page does not parse JSON or walk a table per request.
-- The date a finding's advisory entered CISA's KEV catalogue (from `kev`,
-- written with it): the findings page's exploitation order sorts on it.
ALTER TABLE findings ADD COLUMN kev_added TEXT;
UPDATE findings SET kev_added = (kev::jsonb ->> 'date_added') WHERE kev IS NOT NULL;
-- The newest message of a kind (the setup checklist's test email).
CREATE INDEX outbox_kind ON outbox (kind, id);
-- The dashboard's count of findings due soon or breached, read from the
-- index alone rather than from every (wide) finding row.
CREATE INDEX findings_warning ON findings (warn_at, open_from, due_at);
-- Which summaries may be out of date: revisions compared on narrow index
-- entries, not on the case rows with their sealed reports.
CREATE INDEX cases_revision ON cases (id, revision);
CREATE INDEX case_summaries_revision ON case_summaries (case_id, revision, changes_at);
-- A product's open findings counted (by severity, for the products page)
-- from the index: its releases, from when each finding is open, its
-- severity; not from every finding row.
CREATE INDEX findings_release_open ON findings (release_id, open_from, severity);
