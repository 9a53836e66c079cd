-- What a finished run verified (shown by later runs). $1 schema, $2 table,
-- $3 result (jsonb), $4 window seconds (NULL: keep).
UPDATE homepot_ts.migration
SET result = $3::pg_catalog.jsonb, window_seconds = coalesce($4::pg_catalog.int4, window_seconds), updated_at = pg_catalog.now()
WHERE schema_name = $1::pg_catalog.text AND table_name = $2::pg_catalog.text;
