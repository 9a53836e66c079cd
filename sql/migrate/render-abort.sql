-- Undo an unfinished online migration: the trigger, its function, the change
-- log and the new table go; the original table was never changed.
-- $1 schema, $2 table, $3 capture function, $4 log table, $5 new table.
SELECT statement FROM (VALUES
    (1, format('DROP TRIGGER IF EXISTS homepot_ts_capture ON %I.%I', $1::text, $2::text)),
    (2, format('DROP TRIGGER IF EXISTS homepot_ts_capture_truncate ON %I.%I', $1::text, $2::text)),
    (3, format('DROP FUNCTION IF EXISTS %I.%I()', $1::text, $3::text)),
    (4, format('DROP TABLE IF EXISTS %I.%I', $1::text, $4::text)),
    (5, format('DROP TABLE IF EXISTS %I.%I', $1::text, $5::text))
) s(ord, statement) ORDER BY ord;
