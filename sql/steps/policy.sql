-- The policy job of a kind on a hypertable: its config, its interval setting
-- (and whether that equals a wanted one), schedule and last run.
-- $1 schema, $2 table, $3 proc name (policy_retention, policy_compression),
-- $4 config key holding its interval (drop_after, compress_after),
-- $5 wanted interval, or NULL (then matches is NULL).
SELECT
    j.job_id,
    j.config,
    j.config ->> $4                            AS interval_setting,
    CASE WHEN $5::text IS NULL THEN NULL
         -- Compared as PostgreSQL stores them (months, days, time): "2 months" and
         -- "60 days" are equal under interval =, but are not the same interval.
         ELSE (j.config ->> $4)::interval::text = $5::text::interval::text END AS matches,
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
WHERE j.hypertable_schema = $1 AND j.hypertable_name = $2 AND j.proc_name = $3
ORDER BY j.job_id
LIMIT 1;
