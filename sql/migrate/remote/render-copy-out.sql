-- On this server: the statement that reads rows on the source server, rendered
-- here from the column names read there (quoted here with %I); the numbers are
-- bound here (with NULLs: the placeholders {lo}, {hi}, {w}, {windows}, for the plan).
-- $1 schema, $2 table, $3 the columns as JSON [{o, name, is_json}], $4 time column,
-- $5 what: copy-blocks | copy-windows | json-blocks | json-windows | json-all,
-- $6/$7 block range [lo, hi), $8 window seconds, $9 window numbers (bigint[]).
-- JSON batches carry json columns as text, so that their exact text
-- (whitespace around the value included) survives the trip.
WITH cols AS (
    SELECT pg_catalog.string_agg(pg_catalog.format('%I', c.name), ', ' ORDER BY o) AS list,
           pg_catalog.string_agg(CASE WHEN c.is_json THEN pg_catalog.format('%I::text AS %I', c.name, c.name) ELSE pg_catalog.format('%I', c.name) END, ', ' ORDER BY o) AS json_out
    FROM pg_catalog.jsonb_to_recordset($3::text::pg_catalog.jsonb) AS c(o int, name text, is_json boolean)
), w AS (
    SELECT coalesce($6::bigint::text, '{lo}') AS lo, coalesce($7::bigint::text, '{hi}') AS hi, coalesce($8::bigint::text, '{w}') AS w,
           coalesce((SELECT pg_catalog.string_agg(x::text, ', ') FROM pg_catalog.unnest($9::bigint[]) x), '{windows}') AS windows
), f AS (
    SELECT CASE
        WHEN $5::text LIKE '%-blocks' THEN pg_catalog.format(' WHERE ctid >= ''(%s,0)''::pg_catalog.tid AND ctid < ''(%s,0)''::pg_catalog.tid', w.lo, w.hi)
        WHEN $5::text LIKE '%-windows' THEN pg_catalog.format(' WHERE pg_catalog.floor(extract(epoch FROM %I) / %s)::bigint = ANY (ARRAY[%s]::bigint[])', $4::text, w.w, w.windows)
        ELSE '' END AS filter
    FROM w
)
SELECT CASE WHEN $5::text LIKE 'copy-%'
            THEN pg_catalog.format('COPY (SELECT %s FROM %I.%I%s) TO STDOUT', cols.list, $1::text, $2::text, f.filter)
            ELSE pg_catalog.format('SELECT COALESCE(pg_catalog.json_agg(x), ''[]'')::text AS rows, pg_catalog.count(*)::int AS n FROM (SELECT %s FROM %I.%I%s) x',
                                   cols.json_out, $1::text, $2::text, f.filter)
       END AS statement
FROM cols, f;
