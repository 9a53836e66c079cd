-- Chunks `compression run` would compress: older than $3 (show_chunks'
-- older_than, so the same rule as the compression policy) and not yet
-- compressed, or compressed only partially (rows inserted after compression
-- wait uncompressed in the chunk: status bit 8 in TimescaleDB's chunk
-- catalog; compress_chunk compresses them into the chunk's compressed data),
-- oldest first, each with the statement that compresses it, rendered here
-- with format() so names are quoted by the server: CALL convert_to_columnstore
-- where the server has it ($4 true, TimescaleDB 2.18+), else compress_chunk
-- (the same C function under its old name).
-- $1 schema, $2 table, $3 interval, $4 columnstore API.
WITH old AS (
    SELECT c AS chunk
    FROM show_chunks(format('%I.%I', $1::text, $2::text)::regclass, older_than => $3::interval) AS c
), sizes AS (
    SELECT chunk_schema, chunk_name, total_bytes
    FROM chunks_detailed_size(format('%I.%I', $1::text, $2::text)::regclass)
)
SELECT
    ch.chunk_schema,
    ch.chunk_name,
    ch.range_start,
    ch.range_end,
    s.total_bytes,
    ch.is_compressed AS partial,
    format(CASE WHEN $4::boolean
                THEN 'CALL convert_to_columnstore(%L::regclass, if_not_columnstore => true)'
                ELSE 'SELECT compress_chunk(%L::regclass, if_not_compressed => true)' END,
           format('%I.%I', ch.chunk_schema, ch.chunk_name)) AS statement
FROM old
JOIN timescaledb_information.chunks ch
  ON format('%I.%I', ch.chunk_schema, ch.chunk_name)::regclass = old.chunk
LEFT JOIN sizes s ON s.chunk_schema = ch.chunk_schema AND s.chunk_name = ch.chunk_name
JOIN _timescaledb_catalog.chunk k ON k.schema_name = ch.chunk_schema AND k.table_name = ch.chunk_name
WHERE ch.hypertable_schema = $1 AND ch.hypertable_name = $2
  AND (NOT ch.is_compressed OR k.status & 8 <> 0)
ORDER BY ch.range_start, ch.chunk_name;
