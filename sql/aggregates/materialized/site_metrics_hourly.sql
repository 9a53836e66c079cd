-- site_metrics_hourly: one row per site per hour (UTC), as an ordinary
-- materialized view, for servers without continuous aggregates. Same columns
-- and numbers as ../continuous/site_metrics_hourly.sql (inner join to
-- devices: see there). Each refresh reads devices.site_id again, so a device
-- that moved site shows under its new site for all its history. Kept current
-- by homepot-ts aggregates refresh (REFRESH MATERIALIZED VIEW CONCURRENTLY,
-- which needs the unique index below).
CREATE MATERIALIZED VIEW IF NOT EXISTS site_metrics_hourly AS
SELECT
    date_trunc('hour', hc."timestamp", 'UTC')                                          AS hour,
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

CREATE UNIQUE INDEX IF NOT EXISTS site_metrics_hourly_site_id_hour_key ON site_metrics_hourly (site_id, hour);
