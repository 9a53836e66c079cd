-- device_metrics_hourly: one row per device per hour (UTC), as an ordinary
-- table that homepot-ts keeps current, for servers without continuous
-- aggregates (TimescaleDB Apache edition, plain PostgreSQL). Same columns and
-- numbers as the continuous aggregate in ../continuous/device_metrics_hourly.sql,
-- which describes the JSON it reads.
--
-- A table, not a materialized view: REFRESH MATERIALIZED VIEW recomputes every
-- row from the raw health checks still there, so after `retention run` it
-- deleted the aggregate history of the dropped days. `homepot-ts aggregates
-- refresh` instead recomputes whole buckets in windows [from, to), each in one
-- transaction:
--   DELETE FROM device_metrics_hourly WHERE hour >= :from AND hour < :to;
--   INSERT INTO device_metrics_hourly <the SELECT below, with
--       WHERE hc."timestamp" >= :from AND hc."timestamp" < :to before GROUP BY>;
-- and never recomputes a bucket older than the oldest one whose raw rows are
-- all still there: older buckets keep the numbers computed when they were.
-- The comment marks the table as homepot-ts's own (with its owner and its
-- columns, that is what `aggregates drop` checks before dropping it); the
-- unique index serves the dashboards' lookups by device_id and time.
CREATE TABLE IF NOT EXISTS device_metrics_hourly AS
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

COMMENT ON TABLE device_metrics_hourly IS 'homepot-ts aggregate table, kept current by homepot-ts aggregates refresh';

CREATE UNIQUE INDEX IF NOT EXISTS device_metrics_hourly_device_id_hour_key ON device_metrics_hourly (device_id, hour);
