-- Run a job now, in the foreground, as the scheduler would. $1 job id.
-- Not inside a transaction block: policies may commit as they go.
CALL run_job($1::int);
