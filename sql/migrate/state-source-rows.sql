-- The hashes of the referenced tables' rows as last copied from the source,
-- by table ("schema.table") and natural key. $1 schema, $2 table.
SELECT source_rows::pg_catalog.text AS rows
FROM homepot_ts.migration
WHERE schema_name = $1::pg_catalog.text AND table_name = $2::pg_catalog.text;
