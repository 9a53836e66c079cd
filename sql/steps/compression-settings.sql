-- Current compression settings of a hypertable: segment-by columns in order,
-- order-by columns in order with their direction. $1 schema, $2 table.
SELECT
    h.compression_enabled,
    coalesce((SELECT array_agg(s.attname::text ORDER BY s.segmentby_column_index)
              FROM timescaledb_information.compression_settings s
              WHERE s.hypertable_schema = $1 AND s.hypertable_name = $2
                AND s.segmentby_column_index IS NOT NULL), '{}') AS segment_by,
    coalesce((SELECT array_agg(s.attname::text ORDER BY s.orderby_column_index)
              FROM timescaledb_information.compression_settings s
              WHERE s.hypertable_schema = $1 AND s.hypertable_name = $2
                AND s.orderby_column_index IS NOT NULL), '{}') AS order_by,
    coalesce((SELECT array_agg(NOT s.orderby_asc ORDER BY s.orderby_column_index)
              FROM timescaledb_information.compression_settings s
              WHERE s.hypertable_schema = $1 AND s.hypertable_name = $2
                AND s.orderby_column_index IS NOT NULL), '{}') AS order_by_desc
FROM timescaledb_information.hypertables h
WHERE h.hypertable_schema = $1 AND h.hypertable_name = $2;
