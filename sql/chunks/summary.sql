-- What `chunks` says in one line about a hypertable: how many chunks it has,
-- how many match the filters (the same as chunks.sql's), how many are
-- compressed (and partially: status bit 8, see chunks.sql), its total size (hypertable_size: tables, indexes, TOAST and
-- compressed chunks), and the oldest and newest chunk range.
-- $1 schema, $2 table, $3 since: a time, $4 since: an interval ago,
-- $5 true = compressed only, false = uncompressed only, NULL = both.
SELECT count(*)::int                                                     AS total,
       count(*) FILTER (WHERE ($3::timestamptz IS NULL OR c.range_end > $3::timestamptz)
                          AND ($4::interval IS NULL OR c.range_end > now() - $4::interval)
                          AND ($5::boolean IS NULL OR c.is_compressed = $5::boolean))::int AS matching,
       count(*) FILTER (WHERE c.is_compressed)::int                      AS compressed,
       count(*) FILTER (WHERE c.is_compressed AND k.status & 8 <> 0)::int AS partial,
       hypertable_size(format('%I.%I', $1::text, $2::text)::regclass)    AS total_bytes,
       min(c.range_start)                                                AS oldest,
       max(c.range_end)                                                  AS newest,
       min(c.range_start_integer)                                        AS oldest_integer,
       max(c.range_end_integer)                                          AS newest_integer
FROM timescaledb_information.chunks c
LEFT JOIN _timescaledb_catalog.chunk k ON k.schema_name = c.chunk_schema AND k.table_name = c.chunk_name
WHERE c.hypertable_schema = $1 AND c.hypertable_name = $2;
