-- $1 schema, $2 table, $3 text[] segment-by columns, $4 text[] order-by columns, $5 bool[] order-by descending,
-- $6 true for the columnstore option names (TimescaleDB 2.18+: enable_columnstore, segmentby, orderby),
-- false for the compression ones they replaced (compress, compress_segmentby, compress_orderby).
SELECT format(CASE WHEN $6::boolean
                   THEN 'ALTER TABLE %I.%I SET (timescaledb.enable_columnstore, timescaledb.segmentby = %L, timescaledb.orderby = %L)'
                   ELSE 'ALTER TABLE %I.%I SET (timescaledb.compress, timescaledb.compress_segmentby = %L, timescaledb.compress_orderby = %L)' END,
              $1::text, $2::text,
              coalesce((SELECT string_agg(format('%I', s), ', ' ORDER BY n) FROM unnest($3::text[]) WITH ORDINALITY AS t(s, n)), ''),
              (SELECT string_agg(format('%I', c.col) || CASE WHEN c.descending THEN ' DESC' ELSE '' END, ', ' ORDER BY c.n)
               FROM unnest($4::text[], $5::text[]::boolean[]) WITH ORDINALITY AS c(col, descending, n))) AS statement;
