-- device_metrics_hourly: one row per device per hour (UTC), as an ordinary
-- materialized view, for servers without continuous aggregates (TimescaleDB
-- Apache edition, plain PostgreSQL). Same columns and numbers as the
-- continuous aggregate in ../continuous/device_metrics_hourly.sql, which
-- describes the JSON it reads. Kept current by
--   homepot-ts aggregates refresh     (cron, e.g. every 15 minutes)
-- which runs REFRESH MATERIALIZED VIEW CONCURRENTLY: that needs the unique
-- index below, and lets dashboards read the view while it refreshes.
CREATE MATERIALIZED VIEW IF NOT EXISTS device_metrics_hourly AS
SELECT
    date_trunc('hour', hc."timestamp", 'UTC')                                          AS hour,
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

CREATE UNIQUE INDEX IF NOT EXISTS device_metrics_hourly_device_id_hour_key ON device_metrics_hourly (device_id, hour);
