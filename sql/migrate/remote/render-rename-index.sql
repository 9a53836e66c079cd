-- On this server: TimescaleDB's default time index of a hypertable a --source
-- copy creates, renamed so that the source's index of that name keeps it.
-- $1 schema, $2 the index's name, $3 its new name.
SELECT pg_catalog.format('ALTER INDEX %I.%I RENAME TO %I', $1::text, $2::text, $3::text) AS statement;
