-- The source's owners of the tables and sequences a --source copy created
-- here (roles that exist here), in the transaction that created them; finish
-- gives the relations to them. $1 schema, $2 table, $3 owners as JSON
-- [{kind: table | sequence, schema, name, owner}].
UPDATE homepot_ts.migration
SET owners = $3::pg_catalog.text::pg_catalog.jsonb, updated_at = pg_catalog.now()
WHERE schema_name = $1::pg_catalog.text AND table_name = $2::pg_catalog.text;
