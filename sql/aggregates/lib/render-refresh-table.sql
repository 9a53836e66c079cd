-- One window [from, to) of an aggregate table's refresh (see
-- sql/aggregates/table/<name>.sql): the DELETE of the window's buckets and the
-- INSERT of them recomputed, run in one transaction.
-- $1 schema, $2 table, $3 bucket column, $4 from, $5 to (timestamptz, whole
-- buckets), $6 the definition's SELECT with %1$L and %2$L where the bounds go
-- (text from our own sql/aggregates/table file, never from a user or a table).
-- The bounds are written as ISO 8601 literals in UTC with an explicit offset
-- (to_char, not %L of a timestamptz, which prints in the session's DateStyle
-- and TimeZone), so the statements mean the same window in any session.
WITH b AS (
    SELECT to_char($4::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS lo,
           to_char($5::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS hi
)
SELECT format('DELETE FROM %I.%I WHERE %I >= %L::timestamptz AND %I < %L::timestamptz',
              $1::text, $2::text, $3::text, lo, $3::text, hi)                        AS delete_statement,
       format('INSERT INTO %I.%I ', $1::text, $2::text) || format($6::text, lo, hi) AS insert_statement
FROM b;
