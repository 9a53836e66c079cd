-- What forgetting a migration's state runs (shown by --dry-run; the state
-- table goes too once no migration is left in it). $1 schema, $2 table.
SELECT pg_catalog.format('DELETE FROM homepot_ts.migration WHERE schema_name = %L AND table_name = %L', $1::pg_catalog.text, $2::pg_catalog.text) AS statement;
