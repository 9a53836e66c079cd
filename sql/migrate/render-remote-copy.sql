-- Statements for copying a table between servers, rendered on the source.
-- $1 table oid, $2 time column. {lo}/{hi} (block numbers) and {windows}
-- (window numbers) and {w} (window seconds) are whole numbers the tool fills in.
WITH t AS (
    SELECT c.oid, n.nspname AS schema, c.relname AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid
), cols AS (
    SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) AS list
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
       format('SELECT coalesce(json_agg(x), ''[]'')::text AS rows, count(*)::int AS n FROM (SELECT %s FROM %I.%I WHERE ctid >= ''({lo},0)''::tid AND ctid < ''({hi},0)''::tid) x', cols.list, t.schema, t.name)
FROM t, cols
UNION ALL
SELECT 'json-out-windows',
       format('SELECT coalesce(json_agg(x), ''[]'')::text AS rows, count(*)::int AS n FROM (SELECT %s FROM %I.%I WHERE floor(extract(epoch FROM %I) / {w})::bigint = ANY (ARRAY[{windows}]::bigint[])) x', cols.list, t.schema, t.name, $2::text)
FROM t, cols
UNION ALL
SELECT 'copy-in', format('COPY %I.%I (%s) FROM STDIN', t.schema, t.name, cols.list) FROM t, cols
UNION ALL
-- $1 on the target: the rows as a JSON array (servers where COPY FROM STDIN is not available: the embedded database).
SELECT 'json-in', format('INSERT INTO %I.%I OVERRIDING SYSTEM VALUE SELECT %s FROM json_populate_recordset(NULL::%I.%I, $1::text::json)', t.schema, t.name, cols.list, t.schema, t.name)
FROM t, cols
UNION ALL
-- The same, adding only rows the target lacks (sites, devices: never overwrites what the target has).
SELECT 'json-in-missing', format('INSERT INTO %I.%I OVERRIDING SYSTEM VALUE SELECT %s FROM json_populate_recordset(NULL::%I.%I, $1::text::json) ON CONFLICT DO NOTHING', t.schema, t.name, cols.list, t.schema, t.name)
FROM t, cols
UNION ALL
SELECT 'all-copy-out', format('COPY (SELECT %s FROM %I.%I) TO STDOUT', cols.list, t.schema, t.name) FROM t, cols
UNION ALL
SELECT 'all-json-out', format('SELECT coalesce(json_agg(x), ''[]'')::text AS rows, count(*)::int AS n FROM (SELECT %s FROM %I.%I) x', cols.list, t.schema, t.name) FROM t, cols
UNION ALL
SELECT 'blocks', format('SELECT pg_relation_size(%L::regclass) / current_setting(''block_size'')::bigint AS blocks', format('%I.%I', t.schema, t.name)) FROM t;
