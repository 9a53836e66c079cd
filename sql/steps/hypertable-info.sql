-- Is the table a hypertable, on which column, with which chunk interval (and is it
-- the wanted one)? $1 schema, $2 table, $3 wanted interval, or NULL (then interval_matches is NULL).
SELECT d.column_name, d.time_interval::text AS chunk_interval,
       d.time_interval = $3::interval AS interval_matches
FROM timescaledb_information.dimensions d
WHERE d.hypertable_schema = $1 AND d.hypertable_name = $2 AND d.dimension_number = 1;
