-- The old table after a finished online migration, found by the OID recorded
-- at the swap, and the statement that drops it (cleanup). It counts as the
-- migration's own (ok) only while it is still a table with the recorded schema
-- and name that is not the migrated table itself.
-- $1 schema, $2 the table's OID now, $3 old table name, $4 its recorded OID.
SELECT c.oid IS NOT NULL AS present,
       coalesce(c.relkind = 'r' AND n.nspname = $1::pg_catalog.text AND c.relname = $3::pg_catalog.text
                AND c.oid IS DISTINCT FROM $2::pg_catalog.oid, false) AS ok,
       pg_catalog.format('%I.%I', n.nspname, c.relname) AS display,
       pg_catalog.format('DROP TABLE %I.%I', n.nspname, c.relname) AS statement
FROM (SELECT $4::pg_catalog.oid AS oid) v
LEFT JOIN pg_catalog.pg_class c ON c.oid = v.oid
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace;
