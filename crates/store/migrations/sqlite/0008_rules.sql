-- Vulnerability rules: conditions on findings and the analysis or severity
-- they set automatically within a validity window. The rule itself (its
-- conditions, action and window) is one JSON document.
CREATE TABLE rules (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    body       TEXT    NOT NULL,
    disabled   INTEGER NOT NULL DEFAULT 0,
    created_by TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- Findings escalated to a case stay linked to it, and resolve when the
-- case's fix is released.
ALTER TABLE findings ADD COLUMN case_ref TEXT;
CREATE INDEX findings_case ON findings (case_ref);
