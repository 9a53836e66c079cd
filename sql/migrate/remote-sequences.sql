-- On the source server: where the sequences owned by these tables stand.
-- $1 table oids.
SELECT format('%I.%I', s.schemaname, s.sequencename) AS sequence, s.last_value::text AS last_value
FROM pg_sequences s
JOIN pg_class sc ON sc.relname = s.sequencename
JOIN pg_namespace sn ON sn.oid = sc.relnamespace AND sn.nspname = s.schemaname
JOIN pg_depend d ON d.objid = sc.oid AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
WHERE d.refobjid = ANY ($1::oid[]) AND s.last_value IS NOT NULL;
