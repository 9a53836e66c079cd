-- The refresh windows of the continuous aggregates built on a hypertable:
-- each refresh policy's start offset, as interval text and in seconds (NULL:
-- the policy refreshes from the beginning of the data). What `retention set`
-- and create-aggregates compare a retention with. $1 schema, $2 table.
SELECT ca.user_view_name::text                                                          AS name,
       (j.config ->> 'start_offset')::interval::text                                  AS start_offset,
       extract(epoch FROM (j.config ->> 'start_offset')::interval)::float8            AS start_offset_seconds
FROM timescaledb_information.jobs j
JOIN _timescaledb_catalog.continuous_agg ca ON ca.mat_hypertable_id = (j.config ->> 'mat_hypertable_id')::int
JOIN _timescaledb_catalog.hypertable h ON h.id = ca.raw_hypertable_id
WHERE j.proc_name = 'policy_refresh_continuous_aggregate'
  AND h.schema_name = $1 AND h.table_name = $2
  AND coalesce(j.config ->> 'start_offset', '') !~ '^-?[0-9]+$'
ORDER BY 1;
