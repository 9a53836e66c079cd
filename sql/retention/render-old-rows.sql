-- Statements for `retention run` on a plain table (no TimescaleDB, or not a
-- hypertable): old rows are deleted in batches of $5, one transaction each,
-- so no lock is held for long and an interrupted run keeps what it did. The
-- cutoff ($4, from retention/cutoff.sql) is fixed once, so the count, the
-- estimate and every batch agree. It is written into the statements as an
-- ISO 8601 literal in UTC with an explicit offset (to_char, not %L of a
-- timestamptz: that prints in the session's DateStyle and TimeZone, e.g.
-- 'Wed Nov 05 08:00:00 2025 CST', which reads back as another instant).
-- no_statistics: the table was never analyzed (or looks empty to the planner),
-- so the planner's estimate is a guess and the rows are counted instead.
-- $1 schema, $2 table, $3 time column, $4 cutoff (timestamptz), $5 rows per batch.
WITH t AS (
    SELECT format('%I.%I', $1::text, $2::text) AS rel,
           format('%I', $3::text)              AS col,
           to_char($4::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS cutoff,
           (SELECT c.reltuples <= 0 FROM pg_class c
            WHERE c.oid = format('%I.%I', $1::text, $2::text)::regclass) AS no_statistics
)
SELECT
    no_statistics,
    format('DELETE FROM ONLY %s WHERE ctid = ANY (ARRAY(SELECT ctid FROM ONLY %s WHERE %s < %L::timestamptz LIMIT %s))',
           rel, rel, col, cutoff, $5::int)                                         AS delete_batch,
    format('SELECT count(*) FROM ONLY %s WHERE %s < %L::timestamptz', rel, col, cutoff)             AS count_rows,
    format('SELECT EXISTS (SELECT 1 FROM ONLY %s WHERE %s < %L::timestamptz)', rel, col, cutoff)    AS any_rows,
    format('EXPLAIN (FORMAT JSON) SELECT 1 FROM ONLY %s WHERE %s < %L::timestamptz', rel, col, cutoff) AS estimate_rows
FROM t;
