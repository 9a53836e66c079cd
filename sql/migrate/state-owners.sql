-- The source's owners recorded for a --source copy (state-record-owners.sql).
-- $1 schema, $2 table.
SELECT owners::pg_catalog.text AS owners
FROM homepot_ts.migration
WHERE schema_name = $1::pg_catalog.text AND table_name = $2::pg_catalog.text;
