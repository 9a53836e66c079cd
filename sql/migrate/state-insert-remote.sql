-- Record a copy from another server (--source); a rerun keeps the row it finds.
-- $1 schema, $2 table, $3 source (shown without password), $4 window seconds.
INSERT INTO homepot_ts.migration (schema_name, table_name, strategy, phase, source, window_seconds)
VALUES ($1::pg_catalog.text, $2::pg_catalog.text, 'remote', 'copying', $3::pg_catalog.text, $4::pg_catalog.int4)
ON CONFLICT (schema_name, table_name) DO NOTHING;
