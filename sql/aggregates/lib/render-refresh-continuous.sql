-- One bounded window of a continuous aggregate's refresh. $1 schema, $2 name,
-- $3 from, $4 to (timestamptz), $5 force (boolean: recompute every bucket in
-- the window, not only those TimescaleDB has seen change; TimescaleDB 2.18+).
-- The bounds are written as ISO 8601 literals in UTC with an explicit offset
-- (to_char, not %L of a timestamptz: that prints in the session's DateStyle
-- and TimeZone, e.g. 'Wed Nov 05 08:00:00 2025 CST', which reads back as
-- another instant), so the CALL means the same window in any session. They
-- are cast to the type of health_checks."timestamp": refresh_continuous_aggregate
-- refuses a timestamptz for a `timestamp without time zone` column, and
-- reads the UTC wall time of the literal there (the offset is ignored).
SELECT format('CALL refresh_continuous_aggregate(%L::regclass, %L::%s, %L::%s%s)',
              format('%I.%I', $1::text, $2::text),
              to_char($3::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'), t.typ,
              to_char($4::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'), t.typ,
              CASE WHEN $5::boolean THEN ', force => true' ELSE '' END) AS statement
FROM (SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a
                                WHERE a.attrelid = to_regclass('health_checks') AND a.attname = 'timestamp'
                                  AND a.atttypid = 'timestamp'::regtype AND NOT a.attisdropped)
                  THEN 'timestamp' ELSE 'timestamptz' END AS typ) t;
