-- site_metrics_hourly: one row per site per hour, over every device of the
-- site (TimescaleDB Community, continuous aggregate joined to devices).
--
-- The join: continuous aggregates accept an INNER JOIN to a regular table
-- from TimescaleDB 2.10 (LEFT JOIN only from 2.16). HOMEPOT's original
-- "LEFT JOIN devices ... WHERE d.site_id IS NOT NULL" is an inner join in
-- effect, so this is the same result on every version we support.
-- devices.site_id is read when a bucket is computed: a device that moves to
-- another site takes its history with it (every hour, also those before the
-- move, counts it under its new site), as the same query over health_checks
-- and devices answers. Refresh policies recompute only hours whose raw rows
-- changed, and an UPDATE of devices changes none: after a move run
--   homepot-ts aggregates refresh site_metrics_hourly --from '<start of the history to move>'
-- which recomputes every hour of the range (force => true). Hours whose raw
-- rows retention dropped keep the old site.
-- Materialize with
--   CALL refresh_continuous_aggregate('site_metrics_hourly', NULL, now() - INTERVAL '1 hour');
CREATE MATERIALIZED VIEW IF NOT EXISTS site_metrics_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT
    time_bucket(INTERVAL '1 hour', hc."timestamp")                                    AS hour,
    d.site_id,
    count(DISTINCT hc.device_id)                                                       AS device_count,
    count(*)                                                                           AS total_checks,
    avg((hc.response_data -> 'system' ->> 'cpu_percent')::double precision)           AS avg_cpu,
    avg((hc.response_data -> 'system' ->> 'memory_percent')::double precision)        AS avg_memory,
    sum((hc.response_data -> 'app_metrics' ->> 'transactions_count')::bigint)         AS total_transactions,
    sum((hc.response_data -> 'app_metrics' ->> 'errors_count')::bigint)               AS total_errors,
    avg(hc.response_time_ms::double precision)                                         AS avg_response_time,
    count(*) FILTER (WHERE NOT hc.is_healthy)                                          AS unhealthy_checks
FROM health_checks hc
JOIN devices d ON d.id = hc.device_id
GROUP BY 1, 2
WITH NO DATA;
