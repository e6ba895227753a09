-- Components by normalized package name (PEP 503 for PyPI, lower case where
-- the ecosystem ignores case, as embargo's matcher compares them): a feed
-- update re-matches only the components of the packages it names, found
-- through this index instead of every component of the ecosystem. embargo
-- writes the column for each new component; rows written before get the
-- same normalization here (PyPI names with runs of separators, which no
-- index publishes, aside).
ALTER TABLE components ADD COLUMN normalized_name TEXT NOT NULL DEFAULT '';
UPDATE components SET normalized_name = CASE
    WHEN ecosystem = 'PyPI' THEN lower(replace(replace(name, '_', '-'), '.', '-'))
    WHEN ecosystem IN ('npm', 'Hex', 'Pub', 'NuGet', 'Packagist') THEN lower(name)
    ELSE name
END;
CREATE INDEX components_normalized ON components (ecosystem, normalized_name);
