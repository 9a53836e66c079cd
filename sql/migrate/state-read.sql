-- A table's migration state (after state-trust.sql said the table is the tool's
-- own). OIDs as text. $1 schema, $2 table.
SELECT schema_name, table_name, strategy, phase, source,
       table_oid::pg_catalog.int8::pg_catalog.text AS table_oid,
       new_table, new_table_oid::pg_catalog.int8::pg_catalog.text AS new_table_oid,
       log_table, log_table_oid::pg_catalog.int8::pg_catalog.text AS log_table_oid,
       capture_fn, capture_fn_oid::pg_catalog.int8::pg_catalog.text AS capture_fn_oid,
       old_table, old_table_oid::pg_catalog.int8::pg_catalog.text AS old_table_oid,
       index_names, total_blocks, next_block, rows_copied, window_seconds, batches, result, finished_at
FROM homepot_ts.migration
WHERE schema_name = $1::pg_catalog.text AND table_name = $2::pg_catalog.text;
