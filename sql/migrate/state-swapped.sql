-- The final step swapped the names (same transaction): the migration is done,
-- and the old table, now under its new name, is recorded by OID for cleanup.
-- $1 schema, $2 table, $3 old table oid.
UPDATE homepot_ts.migration
SET phase = 'done', old_table_oid = $3::pg_catalog.oid, finished_at = pg_catalog.now(), updated_at = pg_catalog.now()
WHERE schema_name = $1::pg_catalog.text AND table_name = $2::pg_catalog.text;
