-- Per hypertable: chunk count, index count, the newest chunk's size (table + indexes), the
-- oldest chunk's start, compression. Catalog reads only for all chunks (no lock per chunk: a
-- query that locks thousands of chunks is what max_locks_per_transaction runs out on); the size
-- is read for the newest chunk alone. Read by src/doctor/chunks.ts.
WITH c AS (
    SELECT ch.hypertable_schema, ch.hypertable_name, ch.chunk_schema, ch.chunk_name,
           ch.range_start, ch.range_end, ch.is_compressed,
           row_number() OVER (PARTITION BY ch.hypertable_schema, ch.hypertable_name
                              ORDER BY ch.range_end DESC NULLS LAST, ch.chunk_name DESC) AS newest
    FROM timescaledb_information.chunks ch
)
SELECT
    h.hypertable_schema                                    AS schema,
    h.hypertable_name                                      AS name,
    h.compression_enabled,
    (SELECT count(*)::int FROM c WHERE c.hypertable_schema = h.hypertable_schema
                                    AND c.hypertable_name = h.hypertable_name) AS chunks,
    (SELECT count(*)::int FROM pg_index i
      WHERE i.indrelid = format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass) AS indexes,
    (SELECT pg_total_relation_size(format('%I.%I', c.chunk_schema, c.chunk_name)::regclass)
       FROM c WHERE c.hypertable_schema = h.hypertable_schema
                AND c.hypertable_name = h.hypertable_name AND c.newest = 1) AS newest_chunk_bytes,
    (SELECT min(c.range_start) FROM c WHERE c.hypertable_schema = h.hypertable_schema
                                         AND c.hypertable_name = h.hypertable_name) AS oldest_start,
    (SELECT c.range_start FROM c WHERE c.hypertable_schema = h.hypertable_schema
                                    AND c.hypertable_name = h.hypertable_name AND c.newest = 1) AS newest_start,
    (SELECT max(c.range_end) FROM c WHERE c.hypertable_schema = h.hypertable_schema
                                       AND c.hypertable_name = h.hypertable_name) AS newest_end
FROM timescaledb_information.hypertables h
ORDER BY h.hypertable_schema, h.hypertable_name;
