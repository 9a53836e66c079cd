-- The names of the relations in a table's schema (the names a rename there
-- must not take). $1 table oid.
SELECT coalesce(pg_catalog.array_agg(c.relname::pg_catalog.text), '{}') AS names
FROM pg_catalog.pg_class c
WHERE c.relnamespace = (SELECT relnamespace FROM pg_catalog.pg_class WHERE oid = $1::pg_catalog.oid);
