-- public.health_checks' indexes: HOMEPOT's recommended (device_id, "timestamp" DESC) as the
-- leading keys of one, and duplicates (same columns, operator classes, expressions, predicate).
-- Each duplicate comes with the statement that drops it, rendered here (format %I), never run.
-- Read by src/doctor/tables.ts.
WITH ix AS (
    SELECT ic.relname AS name, n.nspname AS schema, i.indisunique, i.indisprimary,
           i.indkey::text AS keys, i.indclass::text AS classes, i.indoption::text AS options,
           coalesce(pg_get_expr(i.indexprs, i.indrelid), '') AS exprs,
           coalesce(pg_get_expr(i.indpred, i.indrelid), '') AS pred,
           (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[0]) AS first_col,
           (SELECT a.attname FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[1]) AS second_col,
           i.indnkeyatts >= 2 AND (i.indoption[1] & 1) = 1 AS second_desc
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = ic.relnamespace
    WHERE i.indrelid = to_regclass('public.health_checks')
)
SELECT
    (SELECT count(*)::int FROM ix)                                             AS indexes,
    (SELECT string_agg(ix.name, ', ' ORDER BY ix.name) FROM ix
      WHERE ix.first_col = 'device_id' AND ix.second_col = 'timestamp' AND ix.second_desc
        AND ix.exprs = '' AND ix.pred = '')                                    AS recommended,
    (SELECT coalesce(json_agg(json_build_object(
                'index', d.name, 'sameAs', k.name,
                'fix', format('DROP INDEX CONCURRENTLY %I.%I;', d.schema, d.name)) ORDER BY d.name), '[]')
       FROM ix d
       JOIN ix k ON k.keys = d.keys AND k.classes = d.classes AND k.options = d.options
                AND k.exprs = d.exprs AND k.pred = d.pred AND k.name <> d.name
                -- keep the constraint's index (primary key, unique) and the first name
                AND (k.indisprimary OR k.indisunique > d.indisunique
                     OR (k.indisprimary = d.indisprimary AND k.indisunique = d.indisunique AND k.name < d.name))
      WHERE NOT d.indisprimary)                                                AS duplicates;
