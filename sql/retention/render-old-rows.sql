-- Statements for `retention run` on a plain table (no TimescaleDB, or not a
-- hypertable): old rows are deleted in batches of $5, one transaction each,
-- so no lock is held for long and an interrupted run keeps what it did. The
-- cutoff is fixed here, once, so the count, the estimate and every batch agree.
-- no_statistics: the table was never analyzed (or looks empty to the planner),
-- so the planner's estimate is a guess and the rows are counted instead.
-- $1 schema, $2 table, $3 time column, $4 older-than interval, $5 rows per batch.
WITH t AS (
    SELECT format('%I.%I', $1::text, $2::text) AS rel,
           format('%I', $3::text)              AS col,
           now() - $4::interval                AS cutoff,
           (SELECT c.reltuples <= 0 FROM pg_class c
            WHERE c.oid = format('%I.%I', $1::text, $2::text)::regclass) AS no_statistics
)
SELECT
    cutoff,
    no_statistics,
    format('DELETE FROM ONLY %s WHERE ctid = ANY (ARRAY(SELECT ctid FROM ONLY %s WHERE %s < %L::timestamptz LIMIT %s))',
           rel, rel, col, cutoff, $5::int)                                         AS delete_batch,
    format('SELECT count(*) FROM ONLY %s WHERE %s < %L::timestamptz', rel, col, cutoff)             AS count_rows,
    format('SELECT EXISTS (SELECT 1 FROM ONLY %s WHERE %s < %L::timestamptz)', rel, col, cutoff)    AS any_rows,
    format('EXPLAIN (FORMAT JSON) SELECT 1 FROM ONLY %s WHERE %s < %L::timestamptz', rel, col, cutoff) AS estimate_rows
FROM t;
