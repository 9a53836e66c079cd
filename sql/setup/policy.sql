-- The policy job of a kind on a hypertable, its config and whether its
-- interval setting equals the wanted one. $1 schema, $2 table,
-- $3 proc name (policy_retention, policy_compression), $4 config key, $5 wanted interval.
SELECT j.job_id,
       j.config,
       j.config ->> $4                                AS current_value,
       (j.config ->> $4)::interval = $5::interval     AS matches
FROM timescaledb_information.jobs j
WHERE j.hypertable_schema = $1 AND j.hypertable_name = $2 AND j.proc_name = $3
ORDER BY j.job_id
LIMIT 1;
