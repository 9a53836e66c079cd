-- Recent job errors, newest first (timescaledb_information.job_errors, TimescaleDB >= 2.15).
-- $1: how many.
SELECT
    e.job_id,
    e.proc_schema,
    e.proc_name,
    e.start_time,
    e.finish_time,
    e.sqlerrcode,
    e.err_message
FROM timescaledb_information.job_errors e
ORDER BY e.finish_time DESC NULLS LAST
LIMIT $1;
