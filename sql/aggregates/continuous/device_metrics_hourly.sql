-- device_metrics_hourly: one row per device per hour (TimescaleDB Community,
-- continuous aggregate). Run by `homepot-ts create-aggregates`; a DBA can run
-- it with psql -f, then materialize with
--   CALL refresh_continuous_aggregate('device_metrics_hourly', NULL, now() - INTERVAL '1 hour');
--
-- Values come from health_checks.response_data (type json):
--   {"system": {"cpu_percent", "memory_percent", "disk_percent", "uptime_seconds"},
--    "app_metrics": {"transactions_count", "errors_count"}, "network": {"latency_ms"}}
-- Missing keys and JSON nulls count as NULL (ignored by avg/max/sum). A value
-- that is not a number makes the refresh fail: fix the row, then refresh again.
-- Continuous aggregates accept only immutable expressions: -> / ->> and the
-- casts below are. Buckets are in UTC.
-- materialized_only = false: real-time rows (see README, "create-aggregates").
CREATE MATERIALIZED VIEW IF NOT EXISTS device_metrics_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT
    time_bucket(INTERVAL '1 hour', hc."timestamp")                                    AS hour,
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
    count(*) FILTER (WHERE NOT hc.is_healthy)                                          AS unhealthy_count
FROM health_checks hc
GROUP BY 1, 2
WITH NO DATA;
