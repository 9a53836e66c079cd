-- On the source server: how many blocks a table has now, and its size (with
-- indexes; and without them: the rows, TOAST included). $1 table oid.
SELECT pg_catalog.pg_relation_size($1::pg_catalog.oid::pg_catalog.regclass) / pg_catalog.current_setting('block_size')::bigint AS blocks,
       pg_catalog.pg_total_relation_size($1::pg_catalog.oid::pg_catalog.regclass) AS bytes,
       pg_catalog.pg_table_size($1::pg_catalog.oid::pg_catalog.regclass) AS table_bytes;
