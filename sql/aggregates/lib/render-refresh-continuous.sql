-- One bounded window of a continuous aggregate's refresh. $1 schema, $2 name, $3 from, $4 to (timestamptz).
-- The bounds are written as ISO 8601 literals in UTC with an explicit offset
-- (to_char, not %L of a timestamptz: that prints in the session's DateStyle
-- and TimeZone, e.g. 'Wed Nov 05 08:00:00 2025 CST', which reads back as
-- another instant), so the CALL means the same window in any session.
SELECT format('CALL refresh_continuous_aggregate(%L::regclass, %L::timestamptz, %L::timestamptz)',
              format('%I.%I', $1::text, $2::text),
              to_char($3::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
              to_char($4::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')) AS statement;
