-- One hypertable's chunks with sizes, newest (or oldest) first, filtered and
-- limited here so that a hypertable of 10,000 chunks sends only the page shown.
-- $1 schema, $2 table, $3 true = newest first, $4 limit (NULL = all),
-- $5 since: a time (NULL = no bound), $6 since: an interval ago (NULL = no bound),
-- $7 true = compressed chunks only, false = uncompressed only, NULL = both.
-- "since" keeps chunks whose range ends after it (chunks holding rows from then on).
-- Sizes are read for the chosen chunks only: chunks_detailed_size and
-- chunk_compression_stats read every chunk of the hypertable, which at 10,000
-- chunks costs seconds; pg_total_relation_size of a chunk (and of its compressed
-- chunk) is what chunks_detailed_size adds up.
-- is_partial: compressed, with rows inserted after compression still
-- uncompressed in the chunk (status bit 8 in TimescaleDB's chunk catalog,
-- CHUNK_STATUS_COMPRESSED_PARTIAL, the same in 2.19 to 2.28); compress_chunk
-- (compression run) compresses those rows too.
WITH chosen AS (
    SELECT c.chunk_schema, c.chunk_name, c.range_start, c.range_end,
           c.range_start_integer, c.range_end_integer, c.is_compressed
    FROM timescaledb_information.chunks c
    WHERE c.hypertable_schema = $1 AND c.hypertable_name = $2
      AND ($5::timestamptz IS NULL OR c.range_end > $5::timestamptz)
      AND ($6::interval IS NULL OR c.range_end > now() - $6::interval)
      AND ($7::boolean IS NULL OR c.is_compressed = $7::boolean)
    ORDER BY
        CASE WHEN $3::boolean THEN coalesce(extract(epoch FROM c.range_start), c.range_start_integer) END DESC,
        CASE WHEN NOT $3::boolean THEN coalesce(extract(epoch FROM c.range_start), c.range_start_integer) END ASC
    LIMIT $4
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
    pg_total_relation_size(format('%I.%I', c.chunk_schema, c.chunk_name)::regclass)
      + CASE WHEN z.id IS NULL THEN 0
             ELSE pg_total_relation_size(format('%I.%I', z.schema_name, z.table_name)::regclass) END AS total_bytes,
    s.before_compression_bytes,
    s.after_compression_bytes
FROM chosen c
LEFT JOIN _timescaledb_catalog.chunk k ON k.schema_name = c.chunk_schema AND k.table_name = c.chunk_name
LEFT JOIN _timescaledb_catalog.chunk z ON z.id = k.compressed_chunk_id
LEFT JOIN LATERAL (
    SELECT st.uncompressed_heap_size + st.uncompressed_toast_size + st.uncompressed_index_size AS before_compression_bytes,
           st.compressed_heap_size + st.compressed_toast_size + st.compressed_index_size       AS after_compression_bytes
    FROM _timescaledb_catalog.compression_chunk_size st
    WHERE st.chunk_id = k.id
) s ON c.is_compressed
ORDER BY
    CASE WHEN $3::boolean THEN coalesce(extract(epoch FROM c.range_start), c.range_start_integer) END DESC,
    CASE WHEN NOT $3::boolean THEN coalesce(extract(epoch FROM c.range_start), c.range_start_integer) END ASC;
