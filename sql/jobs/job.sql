-- One background job by id. $1 job id.
SELECT
    j.job_id,
    j.application_name,
    j.proc_schema,
    j.proc_name,
    j.scheduled,
    j.hypertable_schema,
    j.hypertable_name
FROM timescaledb_information.jobs j
WHERE j.job_id = $1::int;
