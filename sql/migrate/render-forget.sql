-- What forgetting a migration's state runs (shown by --dry-run; the tool
-- also drops the state table once no migration is left in it). $1 schema, $2 table.
SELECT format('DELETE FROM %I.homepot_ts_migration WHERE table_name = %L', $1::text, $2::text) AS statement;
