-- Per-chunk sizes before and after compression (chunk_compression_stats),
-- oldest first. $1 schema, $2 table.
SELECT
    s.chunk_schema,
    s.chunk_name,
    s.compression_status,
    c.range_start,
    c.range_end,
    s.before_compression_total_bytes            AS before_bytes,
    s.after_compression_total_bytes             AS after_bytes
FROM chunk_compression_stats(format('%I.%I', $1::text, $2::text)::regclass) s
JOIN timescaledb_information.chunks c
  ON c.chunk_schema = s.chunk_schema AND c.chunk_name = s.chunk_name
ORDER BY c.range_start, s.chunk_name;
