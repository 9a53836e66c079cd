-- Forget a table's migration; returns how many migrations are left.
-- $1 schema, $2 table.
WITH gone AS (
    DELETE FROM homepot_ts.migration
    WHERE schema_name = $1::pg_catalog.text AND table_name = $2::pg_catalog.text RETURNING 1
)
SELECT ((SELECT pg_catalog.count(*) FROM homepot_ts.migration) - (SELECT pg_catalog.count(*) FROM gone))::pg_catalog.int4 AS left;
