-- On this server: the names of the relations in a schema (the names the
-- tables, keys and indexes a --source copy creates there must not take).
-- $1 schema.
SELECT coalesce(pg_catalog.array_agg(c.relname::pg_catalog.text), '{}') AS names
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1::text;
