-- Row count and checksum per time window of a table: the same query on both
-- sides of a migration. The checksum sums a 64-bit hash of each row, so it
-- does not depend on row order: hash_record_extended over the columns, each
-- hashed by its type's own hash function (as hash partitioning does; stable
-- across servers and versions), columns of types without one (json) as text.
-- Twice as fast as hashing the row's text.
-- $1 schema, $2 table, $3 time column; $4/$5 optional: a change log table and
-- the key columns (text[]): rows whose key has a pending change are left out.
-- Rendered statement: $1 window length in seconds; $2/$3 time range [from, to)
-- as timestamptz (NULL: everything).
WITH cols AS (
    SELECT string_agg(CASE WHEN EXISTS (SELECT 1 FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
                                        WHERE am.amname = 'hash' AND oc.opcdefault AND oc.opcintype = a.atttypid)
                           THEN format('t.%I', a.attname) ELSE format('t.%I::text', a.attname) END, ', ' ORDER BY a.attnum) AS row_list
    FROM pg_attribute a
    WHERE a.attrelid = format('%I.%I', $1::text, $2::text)::regclass AND a.attnum > 0 AND NOT a.attisdropped
), k AS (
    SELECT string_agg(format('t.%I', x), ', ' ORDER BY o) AS t_list, string_agg(format('%I', x), ', ' ORDER BY o) AS list
    FROM unnest($5::text[]) WITH ORDINALITY u(x, o)
)
SELECT format($q$SELECT floor(extract(epoch FROM t.%3$I) / $1::float8)::bigint AS w,
       count(*)::bigint AS n,
       sum(hash_record_extended(ROW(%4$s), 0))::text AS h
FROM %1$I.%2$I t
WHERE ($2::timestamptz IS NULL OR t.%3$I >= $2::timestamptz) AND ($3::timestamptz IS NULL OR t.%3$I < $3::timestamptz)%5$s
GROUP BY 1$q$, $1::text, $2::text, $3::text, cols.row_list,
       CASE WHEN $4::text IS NULL THEN ''
            -- NOT IN (the key columns are NOT NULL): one hashed lookup of the few pending keys.
            ELSE format(E'\n  AND (%s) NOT IN (SELECT %s FROM %I.%I)', k.t_list, k.list, $1::text, $4::text) END) AS statement
FROM cols, k;
