-- migrate-from-postgres finish: the --source copy has ended (HOMEPOT writes to
-- this server now); later --source runs refuse. $1 schema, $2 table.
UPDATE homepot_ts.migration
SET phase = 'finished', finished_at = pg_catalog.now(), updated_at = pg_catalog.now()
WHERE schema_name = $1::pg_catalog.text AND table_name = $2::pg_catalog.text
RETURNING finished_at AS at;
