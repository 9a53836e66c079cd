-- Runs the statement stashed by setup/execute.sql (rendered by the server
-- from one of our templates) and keeps the first column of its first row,
-- as text, in a transaction-local setting: read it with
-- SELECT current_setting('homepot_ts.result').
DO $$
DECLARE
    result text;
BEGIN
    EXECUTE current_setting('homepot_ts.statement') INTO result;
    PERFORM set_config('homepot_ts.result', coalesce(result, ''), true);
END $$;
