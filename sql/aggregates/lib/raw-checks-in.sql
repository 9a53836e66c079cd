-- How many raw health checks lie in [$1, $2). The bounds are ISO 8601 text in
-- UTC ('2025-11-05T00:00:00.000Z'), bound without a type so the server reads
-- them as the column's type: a timestamptz column as that instant, a
-- `timestamp without time zone` column as that UTC wall time (the zone in the
-- text is ignored), whatever the session's TimeZone.
SELECT count(*)::bigint AS n
FROM health_checks
WHERE "timestamp" >= $1 AND "timestamp" < $2;
