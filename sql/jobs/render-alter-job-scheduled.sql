-- Pause (false) or resume (true) a job's schedule. $1 job id, $2 scheduled.
-- (A boolean through %s would print as t/f: spell it out.)
SELECT format('SELECT alter_job(%s, scheduled => %s)', $1::int,
              CASE WHEN $2::boolean THEN 'true' ELSE 'false' END) AS statement;
