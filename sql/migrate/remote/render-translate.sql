-- On this server: the statements that translate the references of rows
-- staged from the source (pg_temp.homepot_ts_stage) to this server's keys,
-- through the map of the referenced tables (render-natural-keys.sql), and
-- the same translation backwards for verification.
-- $1 schema, $2 table, $3 the references as JSON [{name, rel}] (rel: the
-- referenced table as "schema.table", its name in the map).
WITH r AS (
    SELECT r.name, r.rel, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type_sql
    FROM pg_catalog.jsonb_to_recordset($3::text::pg_catalog.jsonb) AS r(name text, rel text)
    JOIN pg_catalog.pg_attribute a ON a.attrelid = pg_catalog.format('%I.%I', $1::text, $2::text)::pg_catalog.regclass
                                  AND a.attname = r.name AND a.attnum > 0 AND NOT a.attisdropped
), l AS (
    SELECT pg_catalog.string_agg(pg_catalog.format('%I', r.name), ', ' ORDER BY r.name) AS set_list,
           pg_catalog.string_agg(pg_catalog.format('(SELECT m.target_key FROM pg_temp.homepot_ts_keymap m WHERE m.rel = %L AND m.source_key = s.%I::text)::%s', r.rel, r.name, r.type_sql), ', ' ORDER BY r.name) AS set_values,
           pg_catalog.string_agg(pg_catalog.format('(s.%I IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_temp.homepot_ts_keymap m WHERE m.rel = %L AND m.source_key = s.%I::text))', r.name, r.rel, r.name), ' OR ' ORDER BY r.name) AS unmapped
    FROM r
)
-- staged rows referencing a row the source's referenced table did not have when it was matched
SELECT 'stage-unmapped' AS name, pg_catalog.format('SELECT pg_catalog.count(*)::int AS n FROM pg_temp.homepot_ts_stage s WHERE %s', l.unmapped) AS statement FROM l WHERE l.set_list IS NOT NULL
UNION ALL
SELECT 'stage-translate', pg_catalog.format('UPDATE pg_temp.homepot_ts_stage s SET (%s) = ROW(%s)', l.set_list, l.set_values) FROM l WHERE l.set_list IS NOT NULL;
