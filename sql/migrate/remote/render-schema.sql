-- On this server: the schema of something a --source copy creates (a
-- sequence a copied default uses, in a schema other than its table's).
-- $1 schema.
SELECT pg_catalog.format('CREATE SCHEMA IF NOT EXISTS %I', $1::text) AS statement;
