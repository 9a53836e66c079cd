-- The retention policy on health_checks, if any (Community edition).
SELECT j.job_id, j.config ->> 'drop_after' AS drop_after
FROM timescaledb_information.jobs j
WHERE j.proc_name = 'policy_retention' AND j.hypertable_name = 'health_checks'
ORDER BY j.job_id
LIMIT 1;
