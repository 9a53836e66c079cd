-- device_metrics_daily: one row per device per day (UTC), as an ordinary
-- materialized view, for servers without continuous aggregates. Same columns
-- and numbers as ../continuous/device_metrics_daily.sql. Kept current by
-- homepot-ts aggregates refresh (REFRESH MATERIALIZED VIEW CONCURRENTLY, which
-- needs the unique index below).
CREATE MATERIALIZED VIEW IF NOT EXISTS device_metrics_daily AS
SELECT
    date_trunc('day', hc."timestamp", 'UTC')                                           AS day,
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

CREATE UNIQUE INDEX IF NOT EXISTS device_metrics_daily_device_id_day_key ON device_metrics_daily (device_id, day);
