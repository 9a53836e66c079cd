-- The compression policy of a hypertable with its schedule and last run.
-- $1 schema, $2 table.
SELECT
    j.job_id,
    j.config ->> 'compress_after'               AS compress_after,
    j.schedule_interval::text                   AS schedule_interval,
    j.scheduled,
    s.last_run_started_at,
    s.last_run_status,
    coalesce(s.next_start, j.next_start)        AS next_start
FROM timescaledb_information.jobs j
LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
WHERE j.hypertable_schema = $1 AND j.hypertable_name = $2 AND j.proc_name = 'policy_compression'
ORDER BY j.job_id
LIMIT 1;
