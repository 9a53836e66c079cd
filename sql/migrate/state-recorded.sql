-- The objects an unfinished online migration created, found by the OIDs
-- recorded when it created them, and the statements that drop them (abort).
-- An object counts as the migration's own (ok) only while it is still what
-- was created: same kind, schema and name, and not the migrated table itself;
-- anything else is never dropped. Names in the statements come from the
-- catalog rows of those OIDs.
-- $1 schema, $2 the table's OID now (NULL: none by that name), $3 the table's
-- recorded OID, $4 new table, $5 its OID, $6 change log, $7 its OID,
-- $8 capture function, $9 its OID.
WITH tabs AS (
    SELECT v.ord, v.what, v.name, c.oid IS NOT NULL AS present,
           coalesce(c.relkind = 'r' AND n.nspname = $1::pg_catalog.text AND c.relname = v.name
                    AND c.oid IS DISTINCT FROM $2::pg_catalog.oid AND c.oid <> $3::pg_catalog.oid, false) AS ok,
           pg_catalog.format('DROP TABLE IF EXISTS %I.%I', n.nspname, c.relname) AS statement
    FROM (VALUES (3, 'change log', $6::pg_catalog.text, $7::pg_catalog.oid),
                 (4, 'new table', $4::pg_catalog.text, $5::pg_catalog.oid)) v(ord, what, name, oid)
    LEFT JOIN pg_catalog.pg_class c ON c.oid = v.oid
    LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
), fn AS (
    SELECT 2 AS ord, 'capture function' AS what, $8::pg_catalog.text AS name, p.oid IS NOT NULL AS present,
           coalesce(n.nspname = $1::pg_catalog.text AND p.proname = $8::pg_catalog.text AND p.pronargs = 0
                    AND p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype, false) AS ok,
           pg_catalog.format('DROP FUNCTION IF EXISTS %I.%I()', n.nspname, p.proname) AS statement
    FROM (SELECT $9::pg_catalog.oid AS oid) v
    LEFT JOIN pg_catalog.pg_proc p ON p.oid = v.oid
    LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
), trg AS (
    -- the capture triggers: on the recorded table, calling the recorded function
    SELECT 1 AS ord, 'capture trigger' AS what, t.tgname::pg_catalog.text AS name, true AS present, true AS ok,
           pg_catalog.format('DROP TRIGGER IF EXISTS %I ON %I.%I', t.tgname, n.nspname, c.relname) AS statement
    FROM pg_catalog.pg_trigger t
    JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE t.tgrelid = $3::pg_catalog.oid AND t.tgfoid = $9::pg_catalog.oid
      AND t.tgname IN ('homepot_ts_capture', 'homepot_ts_capture_truncate')
)
SELECT what, name, present, ok, statement FROM (
    SELECT * FROM trg UNION ALL SELECT * FROM fn UNION ALL SELECT * FROM tabs
) o ORDER BY ord, name;
