-- The final step of an online migration, run in one transaction while the old
-- table is locked ACCESS EXCLUSIVE (after the last changes are replayed and
-- verified): stop capturing, move the old table and its index names aside,
-- give the new hypertable the table's name and the old index names, and hand
-- it the id sequence. $1 old table oid, $2 new table, $3 log table,
-- $4 capture function, $5 name for the old table, $6 index-name map (jsonb:
-- old name -> temporary name), $7 the old names once the table is the old
-- one (jsonb: old name -> name), $8 the new table's default time index as
-- TimescaleDB named it, $9 the name an in-place conversion gives it
-- ($7 to $9 cut to 63 bytes on a character boundary by the tool, as
-- PostgreSQL cuts names it derives), $10 identity sequences (jsonb array of
-- {old_seq, moved, new_seq}: the old table's sequence moves aside, the new
-- table's takes its name).
WITH t AS (
    SELECT c.oid, n.nspname AS schema, c.relname AS name, to_regclass(format('%I.%I', n.nspname, $2::text)) AS new_oid
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid
), old_names AS (
    SELECT coalesce(con.conname, ic.relname)::text AS name, con.conname IS NOT NULL AS is_constraint,
           $7::jsonb->>coalesce(con.conname, ic.relname)::text AS moved
    FROM t JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class ic ON ic.oid = i.indexrelid
    LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
), default_index AS (
    -- The time index create_hypertable made, named as an in-place conversion would name it.
    SELECT ic.relname::text AS current, $9::text AS wanted
    FROM t JOIN pg_index i ON i.indrelid = t.new_oid JOIN pg_class ic ON ic.oid = i.indexrelid
    WHERE ic.relname = $8::text
), stmts AS (
    SELECT 1 AS ord, 0 AS sub, format('DROP TRIGGER homepot_ts_capture ON %I.%I', t.schema, t.name) AS statement FROM t
    UNION ALL SELECT 1, 1, format('DROP TRIGGER homepot_ts_capture_truncate ON %I.%I', t.schema, t.name) FROM t
    UNION ALL SELECT 1, 2, format('DROP FUNCTION %I.%I()', t.schema, $4::text) FROM t
    UNION ALL SELECT 1, 3, format('DROP TABLE %I.%I', t.schema, $3::text) FROM t
    UNION ALL SELECT 2, 0, format('ALTER TABLE %I.%I RENAME TO %I', t.schema, t.name, $5::text) FROM t
    UNION ALL
    SELECT 3, row_number() OVER (ORDER BY o.name)::int,
           CASE WHEN o.is_constraint THEN format('ALTER TABLE %I.%I RENAME CONSTRAINT %I TO %I', t.schema, $5::text, o.name, o.moved)
                ELSE format('ALTER INDEX %I.%I RENAME TO %I', t.schema, o.name, o.moved) END
    FROM t, old_names o
    UNION ALL SELECT 4, 0, format('ALTER TABLE %I.%I RENAME TO %I', t.schema, $2::text, t.name) FROM t
    UNION ALL
    SELECT 5, row_number() OVER (ORDER BY m.key)::int,
           CASE WHEN o.is_constraint THEN format('ALTER TABLE %I.%I RENAME CONSTRAINT %I TO %I', t.schema, t.name, m.value, m.key)
                ELSE format('ALTER INDEX %I.%I RENAME TO %I', t.schema, m.value, m.key) END
    FROM t, jsonb_each_text($6::jsonb) m JOIN old_names o ON o.name = m.key
    UNION ALL
    -- $9 is free: the tool picked it among the names no relation has or
    -- takes here (an old index of that name moves aside, but its copy takes
    -- the name back in step 5).
    SELECT 6, 0, format('ALTER INDEX %I.%I RENAME TO %I', t.schema, d.current, d.wanted)
    FROM t, default_index d
    UNION ALL
    -- serial columns: the sequence now belongs to the new table (so dropping the old one keeps it)
    SELECT 7, a.attnum, format('ALTER SEQUENCE %s OWNED BY %I.%I.%I', s.seq::regclass, t.schema, t.name, a.attname)
    FROM t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = ''
    CROSS JOIN LATERAL (SELECT pg_get_serial_sequence(format('%I.%I', t.schema, t.name), a.attname)::regclass AS seq) s
    WHERE s.seq IS NOT NULL
    UNION ALL
    -- identity columns: the new table has its own sequence; continue where the old one is
    SELECT 8, a.attnum, format('SELECT setval(%L::regclass, last_value, is_called) FROM %s',
                               pg_get_serial_sequence(format('%I.%I', t.schema, $2::text), a.attname), pg_get_serial_sequence(format('%I.%I', t.schema, t.name), a.attname))
    FROM t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> ''
    UNION ALL
    -- ... and its name: the old one's moves aside first
    SELECT 9, 2 * (s.o)::int, format('ALTER SEQUENCE %I.%I RENAME TO %I', t.schema, s.v->>'old_seq', s.v->>'moved')
    FROM t, jsonb_array_elements($10::jsonb) WITH ORDINALITY s(v, o)
    UNION ALL
    SELECT 9, 2 * (s.o)::int + 1, format('ALTER SEQUENCE %I.%I RENAME TO %I', t.schema, s.v->>'new_seq', s.v->>'old_seq')
    FROM t, jsonb_array_elements($10::jsonb) WITH ORDINALITY s(v, o)
)
SELECT statement FROM stmts ORDER BY ord, sub;
