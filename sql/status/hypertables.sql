-- Hypertables with their chunk counts, compression state, sizes and time dimension.
-- Needs the timescaledb extension (any edition).
SELECT
    h.hypertable_schema                        AS schema,
    h.hypertable_name                          AS name,
    h.num_chunks::int                          AS chunks,
    h.compression_enabled,
    (SELECT count(*) FROM timescaledb_information.chunks c
      WHERE c.hypertable_schema = h.hypertable_schema
        AND c.hypertable_name = h.hypertable_name
        AND c.is_compressed)::int              AS compressed_chunks,
    d.column_name                              AS time_column,
    d.time_interval::text                      AS chunk_interval,
    d.integer_interval                         AS chunk_interval_integer,
    hypertable_size(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass) AS total_bytes,
    approximate_row_count(format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass) AS row_estimate,
    s.before_compression_total_bytes           AS before_compression_bytes,
    s.after_compression_total_bytes            AS after_compression_bytes
FROM timescaledb_information.hypertables h
LEFT JOIN timescaledb_information.dimensions d
       ON d.hypertable_schema = h.hypertable_schema
      AND d.hypertable_name = h.hypertable_name
      AND d.dimension_number = 1
LEFT JOIN LATERAL hypertable_compression_stats(
       format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass) s ON h.compression_enabled
ORDER BY h.hypertable_schema, h.hypertable_name;
