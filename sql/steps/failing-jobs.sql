-- Jobs whose last run failed, for TimescaleDB < 2.15 (no job_errors view: no message).
-- Read by src/steps/job-failures.ts.
SELECT
    j.job_id,
    j.application_name,
    j.proc_schema,
    j.proc_name,
    coalesce(s.total_failures, 0)::int AS total_failures,
    coalesce(s.total_runs, 0)::int     AS total_runs,
    NULL::text                         AS sqlerrcode,
    NULL::text                         AS err_message,
    NULL::timestamptz                  AS finish_time
FROM timescaledb_information.jobs j
JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
WHERE s.last_run_status = 'Failed'
ORDER BY j.job_id;
