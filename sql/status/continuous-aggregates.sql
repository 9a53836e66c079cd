-- Continuous aggregates (Community edition), with their refresh policy if any.
SELECT
    ca.view_schema                             AS schema,
    ca.view_name                               AS name,
    ca.hypertable_schema,
    ca.hypertable_name,
    ca.materialized_only,
    ca.compression_enabled,
    j.job_id                                   AS policy_job_id,
    j.schedule_interval::text                  AS policy_schedule,
    s.last_run_status                          AS policy_last_run_status,
    s.last_successful_finish                   AS policy_last_success
FROM timescaledb_information.continuous_aggregates ca
LEFT JOIN timescaledb_information.jobs j
       ON j.proc_name = 'policy_refresh_continuous_aggregate'
      -- TimescaleDB 2.19 names the materialization hypertable here, 2.23 the view itself.
      AND ((j.hypertable_schema = ca.materialization_hypertable_schema
            AND j.hypertable_name = ca.materialization_hypertable_name)
        OR (j.hypertable_schema = ca.view_schema AND j.hypertable_name = ca.view_name))
LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
ORDER BY ca.view_schema, ca.view_name;
