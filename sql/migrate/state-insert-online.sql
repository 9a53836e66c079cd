-- Record an online migration just prepared (same transaction): the OIDs of
-- the new table, the change log and the capture function it created, found
-- by the names it gave them in the table's schema (CREATE without IF NOT
-- EXISTS: they are the ones just made). No row when one is missing.
-- $1 table oid, $2 new table, $3 log table, $4 capture function,
-- $5 name the old table gets at the swap, $6 index-name map (jsonb), $7 window seconds.
INSERT INTO homepot_ts.migration (schema_name, table_name, strategy, phase, table_oid,
                                  new_table, new_table_oid, log_table, log_table_oid, capture_fn, capture_fn_oid,
                                  old_table, index_names, total_blocks, window_seconds)
SELECT n.nspname, c.relname, 'online', 'copying', c.oid,
       nt.relname, nt.oid, lt.relname, lt.oid, f.proname, f.oid,
       $5::pg_catalog.text, $6::pg_catalog.jsonb,
       pg_catalog.pg_relation_size(c.oid) / pg_catalog.current_setting('block_size')::pg_catalog.int8, $7::pg_catalog.int4
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_class nt ON nt.relnamespace = c.relnamespace AND nt.relname = $2::pg_catalog.text AND nt.relkind = 'r'
JOIN pg_catalog.pg_class lt ON lt.relnamespace = c.relnamespace AND lt.relname = $3::pg_catalog.text AND lt.relkind = 'r'
JOIN pg_catalog.pg_proc f ON f.pronamespace = c.relnamespace AND f.proname = $4::pg_catalog.text AND f.pronargs = 0
WHERE c.oid = $1::pg_catalog.oid;
