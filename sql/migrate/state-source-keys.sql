-- The integer keys copied from the source so far (a rerun deletes only rows
-- whose key is here). $1 schema, $2 table.
SELECT source_keys::pg_catalog.text AS keys
FROM homepot_ts.migration
WHERE schema_name = $1::pg_catalog.text AND table_name = $2::pg_catalog.text;
