-- Every SBOM upload and SARIF import of a product's release, so that a
-- policy's `[scanning]` section can say when a product was last scanned.
CREATE TABLE scans (
    id         INTEGER PRIMARY KEY,
    product_id TEXT    NOT NULL REFERENCES products (id),
    version    TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX scans_product ON scans (product_id, kind, at);

-- Where a finding's patch date comes from: the advisory's publication, its
-- last modification (a fix added later), or when embargo first saw the fix.
ALTER TABLE findings ADD COLUMN patch_source TEXT;
