-- One hypertable's chunks with sizes, newest (or oldest) first.
-- $1 schema, $2 table, $3 true = newest first, $4 limit (NULL = all).
-- Sizes are read once for the whole hypertable, then joined to each chunk.
-- is_partial: compressed, with rows inserted after compression still
-- uncompressed in the chunk (status bit 8 in TimescaleDB's chunk catalog,
-- CHUNK_STATUS_COMPRESSED_PARTIAL, the same in 2.19 to 2.28); compress_chunk
-- (compression run) compresses those rows too.
WITH sizes AS (
    SELECT chunk_schema, chunk_name, total_bytes
    FROM chunks_detailed_size(format('%I.%I', $1::text, $2::text)::regclass)
), compression AS (
    SELECT chunk_schema, chunk_name, before_compression_total_bytes, after_compression_total_bytes
    FROM chunk_compression_stats(format('%I.%I', $1::text, $2::text)::regclass)
)
SELECT
    c.chunk_schema,
    c.chunk_name,
    c.range_start,
    c.range_end,
    c.range_start_integer,
    c.range_end_integer,
    c.is_compressed,
    c.is_compressed AND coalesce(k.status & 8 <> 0, false) AS is_partial,
    s.total_bytes,
    z.before_compression_total_bytes           AS before_compression_bytes,
    z.after_compression_total_bytes            AS after_compression_bytes
FROM timescaledb_information.chunks c
LEFT JOIN sizes s ON s.chunk_schema = c.chunk_schema AND s.chunk_name = c.chunk_name
LEFT JOIN compression z ON z.chunk_schema = c.chunk_schema AND z.chunk_name = c.chunk_name
LEFT JOIN _timescaledb_catalog.chunk k ON k.schema_name = c.chunk_schema AND k.table_name = c.chunk_name
WHERE c.hypertable_schema = $1 AND c.hypertable_name = $2
ORDER BY
    CASE WHEN $3::boolean THEN coalesce(extract(epoch FROM c.range_start), c.range_start_integer) END DESC,
    CASE WHEN NOT $3::boolean THEN coalesce(extract(epoch FROM c.range_start), c.range_start_integer) END ASC
LIMIT $4;
