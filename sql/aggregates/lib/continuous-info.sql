-- A continuous aggregate's catalog entry, the query it was created from (its
-- "direct view", as pg_get_viewdef prints it), and how far it is materialized.
-- $1 view schema, $2 view name.
SELECT ca.mat_hypertable_id,
       ca.materialized_only,
       pg_get_viewdef(format('%I.%I', ca.direct_view_schema, ca.direct_view_name)::regclass) AS definition,
       h.schema_name AS mat_schema,
       h.table_name  AS mat_table,
       -- milliseconds since the Unix epoch (a number: no DateStyle shapes it); -Infinity when nothing is materialized
       (extract(epoch FROM _timescaledb_functions.to_timestamp(_timescaledb_functions.cagg_watermark(ca.mat_hypertable_id))) * 1000)::float8 AS watermark_ms
FROM _timescaledb_catalog.continuous_agg ca
JOIN _timescaledb_catalog.hypertable h ON h.id = ca.mat_hypertable_id
WHERE ca.user_view_schema = $1 AND ca.user_view_name = $2;
