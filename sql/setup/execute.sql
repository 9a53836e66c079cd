-- Runs one statement that the server itself rendered with format() (%I for
-- names, %L for values) from one of the sql/setup/*.sql templates. The text
-- arrives as a bind parameter, is stashed in a transaction-local setting, and
-- executed by this fixed block: no text typed by a user is ever parsed as SQL
-- on the client side. $1: the statement.
SELECT set_config('homepot_ts.statement', $1, true);
