-- The time range of the raw health checks, and the server's clock, as
-- milliseconds since the Unix epoch: numbers, so no DateStyle or TimeZone
-- shapes how they read.
SELECT (extract(epoch FROM min("timestamp")) * 1000)::float8 AS first_ms,
       (extract(epoch FROM max("timestamp")) * 1000)::float8 AS last_ms,
       (extract(epoch FROM now()) * 1000)::float8            AS now_ms
FROM health_checks;
