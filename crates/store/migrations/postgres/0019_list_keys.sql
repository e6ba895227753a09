-- Sort and lookup keys the busiest lists need, kept beside the data they
-- come from so a page does not parse JSON or walk a table per request.
-- The date a finding's advisory entered CISA's KEV catalogue (from `kev`,
-- written with it): the findings page's exploitation order sorts on it.
ALTER TABLE findings ADD COLUMN kev_added TEXT;
UPDATE findings SET kev_added = (kev::jsonb ->> 'date_added') WHERE kev IS NOT NULL;
-- The newest message of a kind (the setup checklist's test email).
CREATE INDEX outbox_kind ON outbox (kind, id);
