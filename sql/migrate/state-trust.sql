-- Is the migration state the tool's own? The schema homepot_ts and the table
-- homepot_ts.migration: their kind and owner, and whether that owner is the
-- current role or a superuser role. Catalog lookups only: nothing in the
-- state is read before this says it can be trusted.
-- $1 schema name, $2 table name.
SELECT s.oid IS NOT NULL AS schema_exists,
       pg_catalog.pg_get_userbyid(s.nspowner) AS schema_owner,
       (s.nspowner = r.oid OR coalesce(so.rolsuper, false)) AS schema_trusted,
       c.oid IS NOT NULL AS table_exists,
       c.oid::pg_catalog.int8::pg_catalog.text AS table_oid,
       c.relkind::pg_catalog.text AS relkind,
       pg_catalog.pg_get_userbyid(c.relowner) AS table_owner,
       (c.relowner = r.oid OR coalesce(tr.rolsuper, false)) AS table_trusted
FROM (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) r
LEFT JOIN pg_catalog.pg_namespace s ON s.nspname = $1::pg_catalog.text
LEFT JOIN pg_catalog.pg_roles so ON so.oid = s.nspowner
LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = s.oid AND c.relname = $2::pg_catalog.text
LEFT JOIN pg_catalog.pg_roles tr ON tr.oid = c.relowner;
