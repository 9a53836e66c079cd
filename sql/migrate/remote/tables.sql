-- On the source server: the table and every table it references through
-- foreign keys, recursively (HOMEPOT: health_checks -> devices -> sites),
-- the referenced ones first. $1 table oid.
WITH RECURSIVE deps(oid, depth, path) AS (
    SELECT $1::pg_catalog.oid, 0, ARRAY[$1::pg_catalog.oid]
    UNION ALL
    SELECT con.confrelid, d.depth + 1, d.path || con.confrelid
    FROM deps d JOIN pg_catalog.pg_constraint con ON con.conrelid = d.oid AND con.contype = 'f'
    WHERE NOT con.confrelid = ANY (d.path)
)
SELECT c.oid::int AS oid, n.nspname::text AS schema, c.relname::text AS name, pg_catalog.max(d.depth) AS depth,
       c.reltuples::bigint AS row_estimate,
       GREATEST(c.relpages, 1)::bigint AS pages
FROM deps d JOIN pg_catalog.pg_class c ON c.oid = d.oid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
GROUP BY c.oid, n.nspname, c.relname, c.reltuples, c.relpages
ORDER BY pg_catalog.max(d.depth) DESC, n.nspname, c.relname;
