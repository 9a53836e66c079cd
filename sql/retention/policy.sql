-- The retention policy job of a hypertable with its last run and next start.
-- $1 schema, $2 table.
SELECT
    j.job_id,
    j.config ->> 'drop_after'                  AS drop_after,
    j.schedule_interval::text                  AS schedule_interval,
    j.scheduled,
    s.last_run_status,
    s.last_run_started_at,
    s.last_successful_finish,
    coalesce(s.next_start, j.next_start)       AS next_start,
    coalesce(s.total_runs, 0)::int             AS total_runs,
    coalesce(s.total_failures, 0)::int         AS total_failures
FROM timescaledb_information.jobs j
LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
WHERE j.hypertable_schema = $1 AND j.hypertable_name = $2 AND j.proc_name = 'policy_retention'
ORDER BY j.job_id
LIMIT 1;
