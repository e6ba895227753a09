-- What the queue sorts and counts by, kept with every write to a case so
-- the database can order, filter and count without reading and evaluating
-- every history: the running clocks' warning and due instants, whom the
-- case is assigned to, whether the reporter waits on an answer, whether it
-- is assessed and whether it is actively exploited.
-- Derived data: rebuilt from the events whenever it is missing, older than
-- its case (revision), past `changes_at` (a dated fact in the history that
-- takes effect later), or computed under another policy.
CREATE TABLE case_summaries (
    case_id     BIGINT PRIMARY KEY REFERENCES cases (id),
    revision    BIGINT NOT NULL,
    assignee    TEXT,
    reply_owed  BIGINT NOT NULL,
    -- A severity or a policy level is set.
    assessed    BIGINT NOT NULL,
    -- Confirmed actively exploited, or a severe incident (Article 14).
    exploited   BIGINT NOT NULL,
    next_due_at BIGINT,
    changes_at  BIGINT
);
CREATE INDEX case_summaries_next_due ON case_summaries (next_due_at);

-- Each running clock of a case with a deadline: breached once due_at has
-- passed, due soon from warn_at.
CREATE TABLE case_deadlines (
    case_id  BIGINT NOT NULL REFERENCES cases (id),
    clock    TEXT    NOT NULL,
    warn_at  BIGINT,
    due_at   BIGINT NOT NULL,
    PRIMARY KEY (case_id, clock)
);
CREATE INDEX case_deadlines_due ON case_deadlines (due_at);
