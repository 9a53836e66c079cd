-- Hypertables with compression enabled, for `compression stats` without --table.
SELECT hypertable_schema AS schema, hypertable_name AS name
FROM timescaledb_information.hypertables
WHERE compression_enabled
ORDER BY 1, 2;
