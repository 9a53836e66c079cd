-- $1 schema, $2 table, $3 phase.
UPDATE homepot_ts.migration SET phase = $3::pg_catalog.text, updated_at = pg_catalog.now()
WHERE schema_name = $1::pg_catalog.text AND table_name = $2::pg_catalog.text;
