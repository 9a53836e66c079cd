-- Background jobs with their last run, and whether each is overdue. $1: true = only jobs whose last run failed.
SELECT
    j.job_id,
    j.application_name,
    j.proc_schema,
    j.proc_name,
    j.schedule_interval::text                  AS schedule_interval,
    j.scheduled,
    j.hypertable_schema,
    j.hypertable_name,
    j.config,
    s.job_status,
    s.last_run_status,
    s.last_run_started_at,
    s.last_successful_finish,
    s.last_run_duration::text                  AS last_run_duration,
    coalesce(s.next_start, j.next_start)       AS next_start,
    coalesce(s.total_runs, 0)::int             AS total_runs,
    coalesce(s.total_successes, 0)::int        AS total_successes,
    coalesce(s.total_failures, 0)::int         AS total_failures,
    -- Overdue: scheduled, not running, and due longer ago than its own schedule interval (a
    -- scheduler out of background workers leaves jobs so: "failed to launch job ... out of
    -- background workers" in the server log). now() is the server's clock, as next_start is.
    coalesce(j.scheduled AND coalesce(s.job_status, '') <> 'Running'
             AND coalesce(s.next_start, j.next_start) < now() - j.schedule_interval, false) AS overdue
FROM timescaledb_information.jobs j
LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
WHERE NOT $1::boolean OR s.last_run_status = 'Failed'
ORDER BY j.job_id;
