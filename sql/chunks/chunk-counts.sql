-- How many chunks a hypertable has and how many of them are compressed. $1 schema, $2 table.
SELECT count(*)::int                                  AS total,
       count(*) FILTER (WHERE is_compressed)::int     AS compressed
FROM timescaledb_information.chunks
WHERE hypertable_schema = $1 AND hypertable_name = $2;
