-- The instant `retention run` removes data before: now() - $1 (interval),
-- fixed once per run. Returned as ISO 8601 text in UTC with an explicit
-- offset ('2025-11-05T00:00:00.000000+00:00'), built by to_char, which does
-- not depend on DateStyle: the tool binds it back as $n::timestamptz and
-- shows it, and no session setting can change what it means.
SELECT to_char((now() - $1::interval) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') AS cutoff;
