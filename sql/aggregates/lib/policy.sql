-- The refresh policy of a continuous aggregate and whether it matches the
-- wanted offsets and schedule. $1 view schema, $2 view name,
-- $3 schedule interval, $4 start offset (NULL = from the beginning), $5 end offset.
SELECT j.job_id,
       j.config,
       j.schedule_interval::text                                              AS schedule,
       j.config ->> 'start_offset'                                            AS start_offset,
       j.config ->> 'end_offset'                                              AS end_offset,
       j.schedule_interval = $3::interval
         AND (j.config ->> 'start_offset')::interval IS NOT DISTINCT FROM $4::interval
         AND (j.config ->> 'end_offset')::interval IS NOT DISTINCT FROM $5::interval AS matches,
       s.last_successful_finish                                               AS last_success,
       s.last_run_status
FROM timescaledb_information.jobs j
JOIN _timescaledb_catalog.continuous_agg ca ON ca.mat_hypertable_id = (j.config ->> 'mat_hypertable_id')::int
LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
WHERE j.proc_name = 'policy_refresh_continuous_aggregate'
  AND ca.user_view_schema = $1 AND ca.user_view_name = $2
ORDER BY j.job_id
LIMIT 1;
