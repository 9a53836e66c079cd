-- site_metrics_hourly: one row per site per hour (UTC), as an ordinary table
-- that homepot-ts keeps current, for servers without continuous aggregates.
-- Same columns and numbers as ../continuous/site_metrics_hourly.sql (inner
-- join to devices: see there). A refresh reads devices.site_id as it is then,
-- so the hours it recomputes count a device that moved under its new site;
-- hours it does not recompute keep the site they were computed with.
--
-- A table, not a materialized view: REFRESH MATERIALIZED VIEW recomputes every
-- row from the raw health checks still there, so after `retention run` it
-- deleted the aggregate history of the dropped days. `homepot-ts aggregates
-- refresh` instead recomputes whole buckets in windows [from, to), each in one
-- transaction:
--   DELETE FROM site_metrics_hourly WHERE hour >= :from AND hour < :to;
--   INSERT INTO site_metrics_hourly <the SELECT below, with
--       WHERE hc."timestamp" >= :from AND hc."timestamp" < :to before GROUP BY>;
-- and never recomputes a bucket older than the oldest one whose raw rows are
-- all still there: older buckets keep the numbers computed when they were.
-- The comment marks the table as homepot-ts's own (with its owner and its
-- columns, that is what `aggregates drop` checks before dropping it); the
-- unique index serves the dashboards' lookups by site_id and time.
CREATE TABLE IF NOT EXISTS site_metrics_hourly AS
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

COMMENT ON TABLE site_metrics_hourly IS 'homepot-ts aggregate table, kept current by homepot-ts aggregates refresh';

CREATE UNIQUE INDEX IF NOT EXISTS site_metrics_hourly_site_id_hour_key ON site_metrics_hourly (site_id, hour);
