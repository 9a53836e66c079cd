-- Each job's latest recorded error (timescaledb_information.job_errors, TimescaleDB >= 2.15),
-- with the job's last run status and failure counts. Read by src/steps/job-failures.ts.
SELECT
    j.job_id,
    j.application_name,
    j.proc_schema,
    j.proc_name,
    s.last_run_status,
    coalesce(s.total_failures, 0)::int              AS total_failures,
    coalesce(s.total_runs, 0)::int                  AS total_runs,
    e.sqlerrcode,
    e.err_message,
    e.finish_time
FROM timescaledb_information.jobs j
LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
LEFT JOIN LATERAL (
    SELECT x.sqlerrcode, x.err_message, x.finish_time
    FROM timescaledb_information.job_errors x
    WHERE x.job_id = j.job_id
    ORDER BY x.finish_time DESC NULLS LAST
    LIMIT 1
) e ON true
WHERE s.last_run_status = 'Failed'
ORDER BY j.job_id;
