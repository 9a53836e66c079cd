-- The statement that finds rows whose time is infinity or -infinity (no chunk
-- can hold them: TimescaleDB refuses them with 22008), for preflight: how many
-- and the first five, named by their key without the time column (or their ctid).
-- An index on the time column serves it. $1 table oid, $2 time column,
-- $3 key columns (text[], may be NULL). No statement for a time column whose
-- type has no infinity (integers).
WITH t AS (
    SELECT n.nspname AS schema, c.relname AS name FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::pg_catalog.oid
), k AS (
    SELECT coalesce(string_agg(pg_catalog.format('%s = %%s', pg_catalog.quote_ident(x)), ', ' ORDER BY o), 'ctid %s') AS fmt,
           coalesce(string_agg(pg_catalog.format('%I', x), ', ' ORDER BY o), 'ctid') AS args
    FROM unnest($3::text[]) WITH ORDINALITY u(x, o) WHERE x <> $2::text
)
SELECT pg_catalog.format(
         'SELECT count(*)::bigint AS n, (array_agg(pg_catalog.format(%L, %s, %I) ORDER BY %I))[1:5] AS rows FROM %I.%I WHERE %I = %L OR %I = %L',
         k.fmt || ' (%s)', k.args, $2::text, $2::text, t.schema, t.name, $2::text, 'infinity', $2::text, '-infinity') AS statement
FROM t, k, pg_catalog.pg_attribute a
WHERE a.attrelid = $1::pg_catalog.oid AND a.attname = $2::text
  AND a.atttypid IN ('pg_catalog.timestamptz'::pg_catalog.regtype, 'pg_catalog.timestamp'::pg_catalog.regtype, 'pg_catalog.date'::pg_catalog.regtype);
