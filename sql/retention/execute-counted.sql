-- Runs the statement stashed by setup/execute.sql (a rendered DELETE) and
-- keeps the number of rows it affected in a transaction-local setting: read it
-- with SELECT current_setting('homepot_ts.result').
DO $$
DECLARE
    affected bigint;
BEGIN
    EXECUTE current_setting('homepot_ts.statement');
    GET DIAGNOSTICS affected = ROW_COUNT;
    PERFORM set_config('homepot_ts.result', affected::text, true);
END $$;
