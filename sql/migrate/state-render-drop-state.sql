-- Drop the state table (no migration left in it), by the OID that
-- state-trust.sql found and trusted. $1 oid.
SELECT pg_catalog.format('DROP TABLE %I.%I', n.nspname, c.relname) AS statement
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = $1::pg_catalog.oid AND c.relkind = 'r' AND n.nspname = 'homepot_ts' AND c.relname = 'migration';
