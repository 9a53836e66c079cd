-- The time range of the raw health checks, and the server's clock.
SELECT min("timestamp") AS first, max("timestamp") AS last, now() AS now FROM health_checks;
