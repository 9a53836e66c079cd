-- Sizes before and after compression for one hypertable (hypertable_compression_stats).
-- $1 schema, $2 table. No row when compression was never enabled.
SELECT
    total_chunks::int                           AS total_chunks,
    number_compressed_chunks::int               AS compressed_chunks,
    before_compression_total_bytes              AS before_bytes,
    after_compression_total_bytes               AS after_bytes
FROM hypertable_compression_stats(format('%I.%I', $1::text, $2::text)::regclass);
