-- On this server: the statements that write rows copied from another server,
-- rendered here from the column names read there (quoted here with %I) and
-- the types looked up here (render-types.sql).
-- $1 schema, $2 table, $3 the columns as JSON [{o, name, type_name, typmod,
-- is_json, identity}], $4 time column, $5 the key columns (primary key; may
-- be empty), $6 the integer key column whose values the state remembers (or NULL).
--
-- Rows arrive through a session-local staging table and INSERT ... ON
-- CONFLICT DO NOTHING: a row the target already has (a later version of an
-- updated row in a block not copied yet) is left for the window
-- reconciliation (stage-update, stage-delete) to settle instead of failing the batch.
WITH c AS (
    SELECT c.*, t.oid AS type_oid
    FROM pg_catalog.jsonb_to_recordset($3::text::pg_catalog.jsonb)
         AS c(o int, name text, type_name text, typmod int, is_json boolean, identity text)
    JOIN pg_catalog.pg_type t ON t.typnamespace = 'pg_catalog'::pg_catalog.regnamespace AND t.typname = c.type_name
), cols AS (
    SELECT pg_catalog.string_agg(pg_catalog.format('%I', c.name), ', ' ORDER BY o) AS list,
           pg_catalog.string_agg(pg_catalog.format('s.%I', c.name), ', ' ORDER BY o) AS s_list,
           pg_catalog.string_agg(pg_catalog.format('t.%I', c.name), ', ' ORDER BY o) AS t_list,
           pg_catalog.string_agg(pg_catalog.format('%I %s', c.name, CASE WHEN c.is_json THEN 'text' ELSE pg_catalog.format_type(c.type_oid, c.typmod) END), ', ' ORDER BY o) AS json_defs,
           pg_catalog.string_agg(CASE WHEN c.is_json THEN pg_catalog.format('%I::json', c.name) ELSE pg_catalog.format('%I', c.name) END, ', ' ORDER BY o) AS json_in,
           -- the columns an update may set: not the key, not a GENERATED ALWAYS identity
           pg_catalog.string_agg(pg_catalog.format('%I', c.name), ', ' ORDER BY o) FILTER (WHERE NOT c.name = ANY ($5::text[]) AND c.identity IS DISTINCT FROM 'a') AS set_list,
           pg_catalog.string_agg(pg_catalog.format('s.%I', c.name), ', ' ORDER BY o) FILTER (WHERE NOT c.name = ANY ($5::text[]) AND c.identity IS DISTINCT FROM 'a') AS set_values,
           pg_catalog.string_agg(pg_catalog.format('%I::text', c.name), ', ' ORDER BY o) AS text_list
    FROM c
), k AS (
    SELECT pg_catalog.string_agg(pg_catalog.format('s.%I', x), ', ' ORDER BY o) AS s_list,
           pg_catalog.string_agg(pg_catalog.format('t.%I', x), ', ' ORDER BY o) AS t_list
    FROM pg_catalog.unnest($5::text[]) WITH ORDINALITY u(x, o)
)
-- On the target, in the batch's transaction: the staging table (emptied at commit), COPY into it, then into the table.
SELECT 'stage-create' AS name, pg_catalog.format('CREATE TEMP TABLE IF NOT EXISTS homepot_ts_stage (LIKE %I.%I) ON COMMIT DELETE ROWS', $1::text, $2::text) AS statement
UNION ALL
SELECT 'stage-empty', 'TRUNCATE pg_temp.homepot_ts_stage'
UNION ALL
SELECT 'stage-analyze', 'ANALYZE pg_temp.homepot_ts_stage'
UNION ALL
SELECT 'stage-count', 'SELECT pg_catalog.count(*)::bigint AS n FROM pg_temp.homepot_ts_stage'
UNION ALL
SELECT 'copy-in', pg_catalog.format('COPY pg_temp.homepot_ts_stage (%s) FROM STDIN', cols.list) FROM cols
UNION ALL
SELECT 'stage-insert', pg_catalog.format('INSERT INTO %I.%I (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM pg_temp.homepot_ts_stage ON CONFLICT DO NOTHING', $1::text, $2::text, cols.list, cols.list)
FROM cols
UNION ALL
-- $1 on the target: the rows as a JSON array (servers where COPY FROM STDIN is not available: the embedded database).
SELECT 'json-in', pg_catalog.format('INSERT INTO %I.%I (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM json_to_recordset($1::text::json) AS x(%s) ON CONFLICT DO NOTHING', $1::text, $2::text, cols.list, cols.json_in, cols.json_defs)
FROM cols
UNION ALL
-- The same for sites, devices: adds only rows the target lacks, never overwrites what the target has.
SELECT 'json-in-missing', pg_catalog.format('INSERT INTO %I.%I (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM json_to_recordset($1::text::json) AS x(%s) ON CONFLICT DO NOTHING', $1::text, $2::text, cols.list, cols.json_in, cols.json_defs)
FROM cols
UNION ALL
-- The same rows into the staging table (the window reconciliation on the embedded database).
SELECT 'json-stage', pg_catalog.format('INSERT INTO pg_temp.homepot_ts_stage (%s) SELECT %s FROM json_to_recordset($1::text::json) AS x(%s)', cols.list, cols.json_in, cols.json_defs)
FROM cols
UNION ALL
-- Window reconciliation, by key: the staged rows (every source row of the windows that differ) update the rows that differ...
SELECT 'stage-update', pg_catalog.format('UPDATE %I.%I AS t SET (%s) = ROW(%s) FROM pg_temp.homepot_ts_stage AS s WHERE (%s) = (%s) AND ROW(%s)::text IS DISTINCT FROM ROW(%s)::text',
                                         $1::text, $2::text, cols.set_list, cols.set_values, k.t_list, k.s_list, cols.t_list, cols.s_list)
FROM cols, k WHERE k.t_list IS NOT NULL AND cols.set_list IS NOT NULL
UNION ALL
-- ... and only rows whose integer key the source once had ($3, the keys copied so far) and no longer has are deleted:
-- rows written here (by HOMEPOT after the cutover) have keys the source never had. $1 window seconds, $2 window numbers,
-- $3 the copied keys (int8multirange), $4/$5 the windows' time range [from, to).
SELECT 'stage-delete', pg_catalog.format('DELETE FROM %I.%I AS t WHERE t.%I >= $4::timestamptz AND t.%I < $5::timestamptz AND pg_catalog.floor(extract(epoch FROM t.%I) / $1::float8)::bigint = ANY ($2::bigint[]) AND t.%I::bigint <@ $3::int8multirange AND NOT EXISTS (SELECT 1 FROM pg_temp.homepot_ts_stage AS s WHERE (%s) = (%s))',
                                         $1::text, $2::text, $4::text, $4::text, $4::text, $6::text, k.s_list, k.t_list)
FROM k WHERE k.t_list IS NOT NULL AND $6::text IS NOT NULL
UNION ALL
-- The integer keys of a batch, to remember (staged rows, or $1: the rows as JSON).
SELECT 'stage-keys', pg_catalog.format('SELECT pg_catalog.range_agg(pg_catalog.int8range(%I::bigint, %I::bigint, ''[]''))::text AS keys FROM pg_temp.homepot_ts_stage', $6::text, $6::text)
WHERE $6::text IS NOT NULL
UNION ALL
SELECT 'json-keys', pg_catalog.format('SELECT pg_catalog.range_agg(pg_catalog.int8range(%I, %I, ''[]''))::text AS keys FROM json_to_recordset($1::text::json) AS x(%I bigint)', $6::text, $6::text, $6::text)
WHERE $6::text IS NOT NULL;
