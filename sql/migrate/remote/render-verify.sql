-- Row count and checksum per time window of a table copied from another
-- server: the same query on both servers, rendered here (on the target) from
-- the copied table's columns, and run on each. As ../render-verify.sql (its
-- notes on the hash apply), plus on this server: only the rows whose integer
-- key came from the source ($5, the keys copied so far), so that rows written
-- here after the cutover do not count as differences.
-- $1 schema, $2 table, $3 time column; $4 the integer key column and $5 the
-- copied keys (int8multirange as text), both NULL for the source's side; $6
-- on this server, the references whose key values differ here as JSON
-- [{name, rel}] (NULL: none): hashed as the source's values, translated back
-- through the map of the referenced tables (render-natural-keys.sql).
-- Rendered statement: $1 window length in seconds; $2/$3 time range [from, to)
-- as timestamptz (NULL: everything).
WITH cols AS (
    SELECT pg_catalog.string_agg(
               CASE WHEN r.rel IS NOT NULL
                    THEN pg_catalog.format('(SELECT m.source_key FROM pg_temp.homepot_ts_keymap m WHERE m.rel = %L AND m.target_key = t.%I::text)::%s',
                                           r.rel, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod))
                    WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_opclass oc JOIN pg_catalog.pg_am am ON am.oid = oc.opcmethod
                                 WHERE am.amname = 'hash' AND oc.opcdefault AND oc.opcintype = a.atttypid)
                    THEN pg_catalog.format('t.%I', a.attname) ELSE pg_catalog.format('t.%I::text', a.attname) END, ', ' ORDER BY a.attnum) AS row_list
    FROM pg_catalog.pg_attribute a
    LEFT JOIN pg_catalog.jsonb_to_recordset(coalesce($6::text, '[]')::pg_catalog.jsonb) AS r(name text, rel text) ON r.name = a.attname
    WHERE a.attrelid = pg_catalog.format('%I.%I', $1::text, $2::text)::pg_catalog.regclass AND a.attnum > 0 AND NOT a.attisdropped
)
SELECT pg_catalog.format($q$SELECT pg_catalog.floor(extract(epoch FROM t.%3$I) / $1::float8)::bigint AS w,
       pg_catalog.count(*)::bigint AS n,
       pg_catalog.sum(pg_catalog.hash_record_extended(ROW(%4$s), 0))::text AS h
FROM %1$I.%2$I t
WHERE ($2::timestamptz IS NULL OR t.%3$I >= $2::timestamptz) AND ($3::timestamptz IS NULL OR t.%3$I < $3::timestamptz)%5$s
GROUP BY 1$q$, $1::text, $2::text, $3::text, cols.row_list,
       CASE WHEN $4::text IS NULL THEN ''
            ELSE pg_catalog.format(E'\n  AND t.%I::bigint <@ %L::int8multirange', $4::text, $5::text) END) AS statement
FROM cols;
