-- Triggers on the new table of an online migration (or its chunks) that
-- neither PostgreSQL (internal: foreign keys) nor TimescaleDB (the insert
-- blocker) made: someone added them while the migration waited, and the
-- copy, the replay and the swap would run them with the rights of whoever
-- runs homepot-ts. $1 new table oid.
SELECT pg_catalog.format('%I on %I.%I', t.tgname, n.nspname, c.relname) AS trigger
FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
WHERE (t.tgrelid = $1::pg_catalog.oid
       OR t.tgrelid IN (SELECT inhrelid FROM pg_catalog.pg_inherits WHERE inhparent = $1::pg_catalog.oid))
  AND NOT t.tgisinternal
  AND NOT (pn.nspname = '_timescaledb_functions' AND p.proname = 'insert_blocker')
ORDER BY 1;
