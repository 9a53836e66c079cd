-- Chunks of a hypertable that drop_chunks(older_than => $3) would drop (they
-- lie entirely before now() - $3), and how their rows are counted:
-- - an uncompressed chunk: approximate_row_count, from statistics; analyzed
--   is false when it was never analyzed (its estimate reads 0 but means
--   "unknown");
-- - a compressed chunk (also one partially compressed: rows inserted after
--   compression stay uncompressed in the chunk itself): count_statement, an
--   exact count. approximate_row_count is no count of these: it reads 0 for
--   compressed chunks before TimescaleDB 2.22 (statistics of the compressed
--   chunk never reached it), then reltuples x 1000 or a batch-size guess, and
--   it counted a partially compressed chunk's rows twice. The statement adds
--   the rows of the compressed chunk (the sum of _ts_meta_count, one row per
--   batch of up to 1,000, so cheap) and those in the chunk's own heap (ONLY:
--   without the compressed rows).
-- Names come from TimescaleDB's catalog, quoted by format(). $1 schema, $2 table, $3 interval.
SELECT format('%I.%I', ch.chunk_schema, ch.chunk_name)                     AS chunk,
       k.compressed_chunk_id IS NOT NULL                                   AS compressed,
       CASE WHEN k.compressed_chunk_id IS NULL THEN approximate_row_count(c)::bigint END AS row_estimate,
       (cl.reltuples >= 0 OR k.compressed_chunk_id IS NOT NULL)            AS analyzed,
       CASE WHEN cc.id IS NOT NULL THEN
           format('SELECT (SELECT coalesce(sum(_ts_meta_count), 0) FROM %I.%I)::bigint + (SELECT count(*) FROM ONLY %I.%I)',
                  cc.schema_name, cc.table_name, ch.chunk_schema, ch.chunk_name) END AS count_statement
FROM show_chunks(format('%I.%I', $1::text, $2::text)::regclass, older_than => $3::interval) AS c
JOIN pg_class cl ON cl.oid = c
JOIN timescaledb_information.chunks ch
  ON format('%I.%I', ch.chunk_schema, ch.chunk_name)::regclass = c
JOIN _timescaledb_catalog.chunk k ON k.schema_name = ch.chunk_schema AND k.table_name = ch.chunk_name
LEFT JOIN _timescaledb_catalog.chunk cc ON cc.id = k.compressed_chunk_id
ORDER BY ch.range_start;
