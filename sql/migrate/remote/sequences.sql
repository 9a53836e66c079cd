-- On the source server: where the sequences behind these tables' serial and
-- identity columns stand, by table and column (the target finds its own
-- sequence for the column; the source's sequence names are not used).
-- $1 table oids.
SELECT n.nspname::text AS schema, c.relname::text AS table_name, a.attname::text AS column_name, s.last_value::text AS last_value
FROM pg_catalog.pg_sequences s
JOIN pg_catalog.pg_namespace sn ON sn.nspname = s.schemaname
JOIN pg_catalog.pg_class sc ON sc.relname = s.sequencename AND sc.relnamespace = sn.oid
JOIN pg_catalog.pg_depend d ON d.objid = sc.oid AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')
JOIN pg_catalog.pg_class c ON c.oid = d.refobjid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE d.refobjid = ANY ($1::pg_catalog.oid[]) AND s.last_value IS NOT NULL;
