-- Is the table a hypertable, on which column, with which chunk interval? $1 schema, $2 table.
SELECT d.column_name, d.time_interval::text AS chunk_interval,
       d.time_interval = $3::interval AS interval_matches
FROM timescaledb_information.dimensions d
WHERE d.hypertable_schema = $1 AND d.hypertable_name = $2 AND d.dimension_number = 1;
