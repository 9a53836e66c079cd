-- On this server: the statements that match a referenced table's rows (sites,
-- devices) copied from another server to this server's rows by their natural
-- key (a unique key of NOT NULL columns other than the key that foreign keys
-- reference: devices.device_id, sites.site_id), rendered here from the facts
-- read there. Every source row is matched by its natural key; the source's
-- key value (devices.id) is mapped to this server's (pg_temp.homepot_ts_keymap),
-- and the references of the rows copied afterwards are translated through
-- that map, so that a device's health checks point at the same device here
-- even when the ids differ.
-- $1 schema, $2 table, $3 the columns as JSON [{o, name, type_name, typmod,
-- is_json}], $4 the referenced key column (devices.id), $5 the natural key
-- columns, $6 this table's references to translate as JSON [{name, rel}]
-- (rel: "schema.table" of a referenced table already mapped), $7 this table
-- as "schema.table" (its name in the map).
-- Rendered statements: $1 the source's rows as a JSON array (json columns
-- as text), $2 (sync-update) the hash of each row as last copied, by natural key.
WITH c AS (
    SELECT c.*, t.oid AS type_oid, pg_catalog.format_type(t.oid, c.typmod) AS type_sql, tr.rel
    FROM pg_catalog.jsonb_to_recordset($3::text::pg_catalog.jsonb)
         AS c(o int, name text, type_name text, typmod int, is_json boolean)
    JOIN pg_catalog.pg_type t ON t.typnamespace = 'pg_catalog'::pg_catalog.regnamespace AND t.typname = c.type_name
    LEFT JOIN pg_catalog.jsonb_to_recordset($6::text::pg_catalog.jsonb) AS tr(name text, rel text) ON tr.name = c.name
), cols AS (
    SELECT pg_catalog.string_agg(pg_catalog.format('%I', c.name), ', ' ORDER BY o) AS list,
           pg_catalog.string_agg(pg_catalog.format('%I', c.name), ', ' ORDER BY o) FILTER (WHERE c.name <> $4::text) AS list_nokey,
           pg_catalog.string_agg(pg_catalog.format('%I %s', c.name, CASE WHEN c.is_json THEN 'text' ELSE c.type_sql END), ', ' ORDER BY o) AS defs,
           -- the source's values; references translated to this server's keys
           pg_catalog.string_agg(CASE
               WHEN c.rel IS NOT NULL THEN pg_catalog.format('(SELECT m.target_key FROM pg_temp.homepot_ts_keymap m WHERE m.rel = %L AND m.source_key = x.%I::text)::%s AS %I', c.rel, c.name, c.type_sql, c.name)
               WHEN c.is_json THEN pg_catalog.format('x.%I::json AS %I', c.name, c.name)
               ELSE pg_catalog.format('x.%I', c.name) END, ', ' ORDER BY o) AS sel,
           -- what a source row may change here: neither key
           pg_catalog.string_agg(pg_catalog.format('%I', c.name), ', ' ORDER BY o) FILTER (WHERE c.name <> $4::text AND NOT c.name = ANY ($5::text[])) AS set_list,
           pg_catalog.string_agg(pg_catalog.format('s.%I', c.name), ', ' ORDER BY o) FILTER (WHERE c.name <> $4::text AND NOT c.name = ANY ($5::text[])) AS set_values,
           pg_catalog.string_agg(pg_catalog.format('t.%I', c.name), ', ' ORDER BY o) FILTER (WHERE c.name <> $4::text AND NOT c.name = ANY ($5::text[])) AS t_values
    FROM c
), nk AS (
    SELECT pg_catalog.string_agg(pg_catalog.format('t.%I', x), ', ' ORDER BY o) AS t_nk,
           pg_catalog.string_agg(pg_catalog.format('s.%I', x), ', ' ORDER BY o) AS s_nk
    FROM pg_catalog.unnest($5::text[]) WITH ORDINALITY u(x, o)
), q AS (
    SELECT cols.*, nk.*,
           pg_catalog.format('(SELECT %s, pg_catalog.md5(e::text) AS homepot_ts_h, x.%I::text AS homepot_ts_source_key FROM pg_catalog.json_array_elements($1::text::json) e, pg_catalog.json_to_record(e) AS x(%s))',
                             cols.sel, $4::text, cols.defs) AS src,
           pg_catalog.format('%I.%I', $1::text, $2::text) AS tbl
    FROM cols, nk
)
SELECT 'map-create' AS name,
       'CREATE TEMP TABLE IF NOT EXISTS homepot_ts_keymap (rel text NOT NULL, source_key text NOT NULL, target_key text NOT NULL, PRIMARY KEY (rel, source_key), UNIQUE (rel, target_key))' AS statement
UNION ALL
SELECT 'map-clear', pg_catalog.format('DELETE FROM pg_temp.homepot_ts_keymap WHERE rel = %L', $7::text)
UNION ALL
-- this server's rows whose natural key is there more than once (no unique key here): no row can be matched
SELECT 'target-duplicates', pg_catalog.format('SELECT pg_catalog.json_build_array(%s)::text AS key, pg_catalog.count(*)::int AS n FROM %s t WHERE (%s) IS NOT NULL GROUP BY %s HAVING pg_catalog.count(*) > 1 LIMIT 3',
                                              q.t_nk, q.tbl, q.t_nk, q.t_nk) FROM q
UNION ALL
SELECT 'target-any', pg_catalog.format('SELECT EXISTS (SELECT 1 FROM %s) AS any', q.tbl) FROM q
UNION ALL
-- rows this server lacks: with the source's key when it is free here ...
SELECT 'sync-insert', pg_catalog.format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s s WHERE NOT EXISTS (SELECT 1 FROM %s t WHERE (%s) = (%s)) AND NOT EXISTS (SELECT 1 FROM %s t WHERE t.%I = s.%I)',
                                        q.tbl, q.list, q.list, q.src, q.tbl, q.t_nk, q.s_nk, q.tbl, $4::text, $4::text) FROM q
UNION ALL
-- ... else with a key this server gives (its default)
SELECT 'sync-insert-new-key', pg_catalog.format('INSERT INTO %s (%s) SELECT %s FROM %s s WHERE NOT EXISTS (SELECT 1 FROM %s t WHERE (%s) = (%s))',
                                                q.tbl, q.list_nokey, q.list_nokey, q.src, q.tbl, q.t_nk, q.s_nk) FROM q
UNION ALL
SELECT 'sync-map', pg_catalog.format('INSERT INTO pg_temp.homepot_ts_keymap (rel, source_key, target_key) SELECT %L, s.homepot_ts_source_key, t.%I::text FROM %s s JOIN %s t ON (%s) = (%s)',
                                     $7::text, $4::text, q.src, q.tbl, q.t_nk, q.s_nk) FROM q
UNION ALL
-- rows the source changed since they were last copied ($2: their hashes then), and that differ here
SELECT 'sync-update', pg_catalog.format('UPDATE %s t SET (%s) = ROW(%s) FROM %s s WHERE (%s) = (%s) AND ($2::text::jsonb ->> pg_catalog.json_build_array(%s)::text) IS DISTINCT FROM s.homepot_ts_h AND ROW(%s)::text IS DISTINCT FROM ROW(%s)::text',
                                        q.tbl, q.set_list, q.set_values, q.src, q.t_nk, q.s_nk, q.s_nk, q.t_values, q.set_values) FROM q WHERE q.set_list IS NOT NULL
UNION ALL
SELECT 'sync-hashes', pg_catalog.format('SELECT coalesce(pg_catalog.jsonb_object_agg(pg_catalog.json_build_array(%s)::text, s.homepot_ts_h), ''{}'')::text AS hashes FROM %s s', q.s_nk, q.src) FROM q
UNION ALL
-- the referenced table verified: every source row is here by its natural key; rows that differ (changed here, kept)
SELECT 'sync-verify', pg_catalog.format('SELECT pg_catalog.count(*) FILTER (WHERE t.%I IS NULL)::int AS missing, pg_catalog.count(*) FILTER (WHERE t.%I IS NOT NULL AND ROW(%s)::text IS DISTINCT FROM ROW(%s)::text)::int AS differ, pg_catalog.count(*)::int AS n FROM %s s LEFT JOIN %s t ON (%s) = (%s)',
                                        $4::text, $4::text, coalesce(q.t_values, 'NULL'), coalesce(q.set_values, 'NULL'), q.src, q.tbl, q.t_nk, q.s_nk) FROM q
UNION ALL
SELECT 'map-identity', pg_catalog.format('SELECT coalesce(pg_catalog.bool_and(source_key = target_key), true) AS identity FROM pg_temp.homepot_ts_keymap WHERE rel = %L', $7::text);
