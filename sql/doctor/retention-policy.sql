-- health_checks' retention policy (drop_after), when TimescaleDB is installed.
-- $1 schema, $2 table. Read by src/doctor/policies.ts.
SELECT j.config ->> 'drop_after' AS drop_after
FROM timescaledb_information.jobs j
WHERE j.proc_name = 'policy_retention' AND j.hypertable_schema = $1 AND j.hypertable_name = $2
LIMIT 1;
