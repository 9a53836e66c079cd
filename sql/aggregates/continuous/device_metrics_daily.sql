-- device_metrics_daily: one row per device per day (UTC), with uptime
-- (TimescaleDB Community, continuous aggregate). Same measures as
-- device_metrics_hourly (see that file for the JSON shape), plus avg_uptime.
-- Materialize with
--   CALL refresh_continuous_aggregate('device_metrics_daily', NULL, now() - INTERVAL '1 hour');
CREATE MATERIALIZED VIEW IF NOT EXISTS device_metrics_daily
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT
    time_bucket(INTERVAL '1 day', hc."timestamp")                                     AS day,
    hc.device_id,
    count(*)                                                                           AS check_count,
    avg((hc.response_data -> 'system' ->> 'cpu_percent')::double precision)           AS avg_cpu,
    max((hc.response_data -> 'system' ->> 'cpu_percent')::double precision)           AS max_cpu,
    avg((hc.response_data -> 'system' ->> 'memory_percent')::double precision)        AS avg_memory,
    max((hc.response_data -> 'system' ->> 'memory_percent')::double precision)        AS max_memory,
    avg((hc.response_data -> 'system' ->> 'disk_percent')::double precision)          AS avg_disk,
    max((hc.response_data -> 'system' ->> 'disk_percent')::double precision)          AS max_disk,
    sum((hc.response_data -> 'app_metrics' ->> 'transactions_count')::bigint)         AS total_transactions,
    sum((hc.response_data -> 'app_metrics' ->> 'errors_count')::bigint)               AS total_errors,
    avg((hc.response_data -> 'network' ->> 'latency_ms')::double precision)           AS avg_latency,
    avg(hc.response_time_ms::double precision)                                         AS avg_response_time,
    count(*) FILTER (WHERE NOT hc.is_healthy)                                          AS unhealthy_count,
    avg((hc.response_data -> 'system' ->> 'uptime_seconds')::double precision)        AS avg_uptime
FROM health_checks hc
GROUP BY 1, 2
WITH NO DATA;
