-- Chunks of a hypertable that drop_chunks(older_than => $3) would drop (they
-- lie entirely before now() - $3), with a row estimate from statistics.
-- analyzed is false for an uncompressed chunk never analyzed (its estimate
-- reads 0 but means "unknown"). $1 schema, $2 table, $3 interval.
SELECT c::text                                          AS chunk,
       approximate_row_count(c)::bigint                 AS row_estimate,
       (cl.reltuples >= 0 OR ch.is_compressed)          AS analyzed
FROM show_chunks(format('%I.%I', $1::text, $2::text)::regclass, older_than => $3::interval) AS c
JOIN pg_class cl ON cl.oid = c
JOIN timescaledb_information.chunks ch
  ON format('%I.%I', ch.chunk_schema, ch.chunk_name)::regclass = c
ORDER BY ch.range_start;
