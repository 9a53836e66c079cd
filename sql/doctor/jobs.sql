-- Background jobs with what doctor judges them by: scheduled, due long ago (overdue by more
-- than their schedule interval), never run, last run failed, failures since the last success.
-- Read by src/doctor/jobs.ts.
SELECT
    j.job_id,
    j.application_name,
    j.proc_schema || '.' || j.proc_name                                  AS proc,
    j.scheduled,
    j.schedule_interval::text                                            AS schedule_interval,
    coalesce(s.total_runs, 0)::int                                       AS total_runs,
    coalesce(s.total_failures, 0)::int                                   AS total_failures,
    s.last_run_status,
    s.job_status,
    coalesce(s.next_start, j.next_start)                                 AS next_start,
    extract(epoch FROM now() - coalesce(s.next_start, j.next_start))::bigint AS due_seconds,
    extract(epoch FROM j.schedule_interval)::bigint                      AS schedule_seconds
FROM timescaledb_information.jobs j
LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
ORDER BY j.job_id;
