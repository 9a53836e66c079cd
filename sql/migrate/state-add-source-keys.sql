-- Keys copied from the source while reconciling windows (--source catch-up).
-- $1 schema, $2 table, $3 keys (int8multirange text).
UPDATE homepot_ts.migration
SET source_keys = source_keys + $3::pg_catalog.int8multirange, updated_at = pg_catalog.now()
WHERE schema_name = $1::pg_catalog.text AND table_name = $2::pg_catalog.text;
