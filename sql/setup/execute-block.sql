-- Second half of execute.sql (a DO block takes no parameters).
DO $$ BEGIN EXECUTE current_setting('homepot_ts.statement'); END $$;
