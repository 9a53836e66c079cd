-- How many chunks a hypertable has, how many of them are compressed, and how
-- many of those only partially (rows inserted after compression: status bit
-- 8 in TimescaleDB's chunk catalog). $1 schema, $2 table.
SELECT count(*)::int                                                    AS total,
       count(*) FILTER (WHERE c.is_compressed)::int                     AS compressed,
       count(*) FILTER (WHERE c.is_compressed AND k.status & 8 <> 0)::int AS partial
FROM timescaledb_information.chunks c
LEFT JOIN _timescaledb_catalog.chunk k ON k.schema_name = c.chunk_schema AND k.table_name = c.chunk_name
WHERE c.hypertable_schema = $1 AND c.hypertable_name = $2;
