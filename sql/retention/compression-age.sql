-- The compression policy's compress_after of a hypertable, and whether a
-- retention of $3 would drop chunks no later than they get compressed.
-- $1 schema, $2 table, $3 retention interval.
SELECT j.config ->> 'compress_after'                                  AS compress_after,
       $3::interval <= (j.config ->> 'compress_after')::interval     AS retention_not_longer
FROM timescaledb_information.jobs j
WHERE j.hypertable_schema = $1 AND j.hypertable_name = $2 AND j.proc_name = 'policy_compression'
  AND j.config ? 'compress_after'
  AND (j.config ->> 'compress_after') !~ '^-?[0-9]+$'
ORDER BY j.job_id
LIMIT 1;
