-- On the source server: the table and every table it references through
-- foreign keys, recursively (HOMEPOT: health_checks -> devices -> sites),
-- the referenced ones first. $1 table oid.
WITH RECURSIVE deps(oid, depth, path) AS (
    SELECT $1::oid, 0, ARRAY[$1::oid]
    UNION ALL
    SELECT con.confrelid, d.depth + 1, d.path || con.confrelid
    FROM deps d JOIN pg_constraint con ON con.conrelid = d.oid AND con.contype = 'f'
    WHERE NOT con.confrelid = ANY (d.path)
)
SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, max(d.depth) AS depth,
       c.reltuples::bigint AS row_estimate,
       (SELECT array(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord)
        FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS primary_key
FROM deps d JOIN pg_class c ON c.oid = d.oid JOIN pg_namespace n ON n.oid = c.relnamespace
GROUP BY c.oid, n.nspname, c.relname, c.reltuples
ORDER BY max(d.depth) DESC, n.nspname, c.relname;
