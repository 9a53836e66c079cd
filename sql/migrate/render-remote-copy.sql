-- Statements for copying a table between servers, rendered on the source.
-- $1 table oid, $2 time column. {lo}/{hi} (block numbers) and {windows}
-- (window numbers) and {w} (window seconds) are whole numbers the tool fills in.
--
-- Rows arrive on the target through a session-local staging table and
-- INSERT ... ON CONFLICT DO NOTHING: a row the target already has (a later
-- version of an updated row in a block not copied yet, a row a window re-copy
-- brought over first) is left for the window verification to settle instead
-- of failing the batch.
-- JSON batches carry json columns as text, so that their exact text
-- (whitespace around the value included) survives the trip.
WITH t AS (
    SELECT c.oid, n.nspname AS schema, c.relname AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid
), cols AS (
    SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) AS list,
           string_agg(CASE WHEN a.atttypid = 'json'::regtype THEN format('%I::text AS %I', a.attname, a.attname) ELSE format('%I', a.attname) END, ', ' ORDER BY a.attnum) AS json_out,
           string_agg(format('%I %s', a.attname, CASE WHEN a.atttypid = 'json'::regtype THEN 'text' ELSE format_type(a.atttypid, a.atttypmod) END), ', ' ORDER BY a.attnum) AS json_defs,
           string_agg(CASE WHEN a.atttypid = 'json'::regtype THEN format('%I::json', a.attname) ELSE format('%I', a.attname) END, ', ' ORDER BY a.attnum) AS json_in
    FROM pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
)
SELECT 'copy-out-blocks' AS name,
       format('COPY (SELECT %s FROM %I.%I WHERE ctid >= ''({lo},0)''::tid AND ctid < ''({hi},0)''::tid) TO STDOUT', cols.list, t.schema, t.name) AS statement
FROM t, cols
UNION ALL
SELECT 'copy-out-windows',
       format('COPY (SELECT %s FROM %I.%I WHERE floor(extract(epoch FROM %I) / {w})::bigint = ANY (ARRAY[{windows}]::bigint[])) TO STDOUT', cols.list, t.schema, t.name, $2::text)
FROM t, cols
UNION ALL
SELECT 'json-out-blocks',
       format('SELECT coalesce(json_agg(x), ''[]'')::text AS rows, count(*)::int AS n FROM (SELECT %s FROM %I.%I WHERE ctid >= ''({lo},0)''::tid AND ctid < ''({hi},0)''::tid) x', cols.json_out, t.schema, t.name)
FROM t, cols
UNION ALL
SELECT 'json-out-windows',
       format('SELECT coalesce(json_agg(x), ''[]'')::text AS rows, count(*)::int AS n FROM (SELECT %s FROM %I.%I WHERE floor(extract(epoch FROM %I) / {w})::bigint = ANY (ARRAY[{windows}]::bigint[])) x', cols.json_out, t.schema, t.name, $2::text)
FROM t, cols
UNION ALL
-- On the target, in the batch's transaction: the staging table (emptied at commit), COPY into it, then into the table.
SELECT 'stage-create', format('CREATE TEMP TABLE IF NOT EXISTS homepot_ts_stage (LIKE %I.%I) ON COMMIT DELETE ROWS', t.schema, t.name) FROM t
UNION ALL
SELECT 'stage-empty', 'TRUNCATE pg_temp.homepot_ts_stage'
UNION ALL
SELECT 'copy-in', format('COPY pg_temp.homepot_ts_stage (%s) FROM STDIN', cols.list) FROM cols
UNION ALL
SELECT 'stage-insert', format('INSERT INTO %I.%I (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM pg_temp.homepot_ts_stage ON CONFLICT DO NOTHING', t.schema, t.name, cols.list, cols.list)
FROM t, cols
UNION ALL
-- $1 on the target: the rows as a JSON array (servers where COPY FROM STDIN is not available: the embedded database).
SELECT 'json-in', format('INSERT INTO %I.%I (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM json_to_recordset($1::text::json) AS x(%s) ON CONFLICT DO NOTHING', t.schema, t.name, cols.list, cols.json_in, cols.json_defs)
FROM t, cols
UNION ALL
-- The same for sites, devices: adds only rows the target lacks, never overwrites what the target has.
SELECT 'json-in-missing', format('INSERT INTO %I.%I (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM json_to_recordset($1::text::json) AS x(%s) ON CONFLICT DO NOTHING', t.schema, t.name, cols.list, cols.json_in, cols.json_defs)
FROM t, cols
UNION ALL
SELECT 'all-copy-out', format('COPY (SELECT %s FROM %I.%I) TO STDOUT', cols.list, t.schema, t.name) FROM t, cols
UNION ALL
SELECT 'all-json-out', format('SELECT coalesce(json_agg(x), ''[]'')::text AS rows, count(*)::int AS n FROM (SELECT %s FROM %I.%I) x', cols.json_out, t.schema, t.name) FROM t, cols
UNION ALL
SELECT 'blocks', format('SELECT pg_relation_size(%L::regclass) / current_setting(''block_size'')::bigint AS blocks', format('%I.%I', t.schema, t.name)) FROM t;
