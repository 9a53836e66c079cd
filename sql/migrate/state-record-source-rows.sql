-- One referenced table's rows as copied now (hashes by natural key), in the
-- transaction that copied them. $1 schema, $2 table, $3 the referenced
-- table ("schema.table"), $4 the hashes (jsonb text).
UPDATE homepot_ts.migration
SET source_rows = source_rows || pg_catalog.jsonb_build_object($3::pg_catalog.text, $4::pg_catalog.text::pg_catalog.jsonb), updated_at = pg_catalog.now()
WHERE schema_name = $1::pg_catalog.text AND table_name = $2::pg_catalog.text;
