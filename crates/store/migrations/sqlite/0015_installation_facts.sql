-- Facts about the installation the setup checklist reads: when the last
-- backup was taken by `embargo backup`, or an admin's word that backups are
-- taken another way (pg_dump), with who said so.
CREATE TABLE installation_facts (
    name  TEXT    PRIMARY KEY,
    value TEXT    NOT NULL,
    at    INTEGER NOT NULL
);
