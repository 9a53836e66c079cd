-- The retention policy on health_checks, if any (Community edition): its
-- drop_after as interval text and in seconds (the text in the job's config
-- is in whatever IntervalStyle the session that added it used).
SELECT j.job_id,
       (j.config ->> 'drop_after')::interval::text                         AS drop_after,
       extract(epoch FROM (j.config ->> 'drop_after')::interval)::float8  AS drop_after_seconds
FROM timescaledb_information.jobs j
WHERE j.proc_name = 'policy_retention' AND j.hypertable_name = 'health_checks'
  AND (j.config ->> 'drop_after') !~ '^-?[0-9]+$'
ORDER BY j.job_id
LIMIT 1;
