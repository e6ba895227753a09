-- Portfolio monitoring: products, their releases and the components each
-- release ships (from an SBOM or lockfile), and findings: an advisory
-- affecting a component of a release, one row however often a feed repeats
-- it, with its analysis and every change to it.
CREATE TABLE products (
    id           TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    owner        TEXT    NOT NULL,
    repositories TEXT    NOT NULL,
    deployment   TEXT    NOT NULL,
    exposure     TEXT    NOT NULL,
    created_at   INTEGER    NOT NULL
);

CREATE TABLE releases (
    id         INTEGER PRIMARY KEY,
    product_id TEXT    NOT NULL REFERENCES products (id),
    version    TEXT    NOT NULL,
    created_at INTEGER    NOT NULL,
    UNIQUE (product_id, version)
);

CREATE TABLE components (
    release_id INTEGER    NOT NULL REFERENCES releases (id),
    purl       TEXT    NOT NULL,
    ecosystem  TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    version    TEXT    NOT NULL,
    PRIMARY KEY (release_id, purl)
);
-- A feed update re-matches only the packages its advisories name.
CREATE INDEX components_package ON components (ecosystem, name);

CREATE TABLE findings (
    id                 INTEGER PRIMARY KEY,
    release_id         INTEGER    NOT NULL REFERENCES releases (id),
    component          TEXT    NOT NULL,
    advisory           TEXT    NOT NULL,
    severity           TEXT,
    known_exploited    INTEGER    NOT NULL,
    epss               REAL,
    fixed              TEXT    NOT NULL,
    patch_available_at INTEGER,
    analysis           TEXT    NOT NULL,
    first_seen         INTEGER    NOT NULL,
    updated_at         INTEGER    NOT NULL,
    UNIQUE (release_id, component, advisory)
);

CREATE TABLE finding_events (
    id         INTEGER PRIMARY KEY,
    finding_id INTEGER    NOT NULL REFERENCES findings (id),
    at         INTEGER    NOT NULL,
    actor      TEXT    NOT NULL,
    change     TEXT    NOT NULL
);
CREATE INDEX finding_events_finding ON finding_events (finding_id);

-- Customers and the releases each runs: who must hear of a vulnerability in
-- what they run (policy 002's customer notices, 003's exceptional deliveries).
CREATE TABLE customers (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    contact TEXT NOT NULL
);

CREATE TABLE customer_releases (
    customer_id TEXT NOT NULL REFERENCES customers (id),
    release_id  BIGINT NOT NULL REFERENCES releases (id),
    PRIMARY KEY (customer_id, release_id)
);
