-- On the source server: where the sequences that the copied tables' column
-- defaults use without owning them (CREATE SEQUENCE ...; DEFAULT nextval(...))
-- stand, by the sequence's schema and name (the target has a sequence of that
-- name, created from these facts: render-sequence.sql). Owned (serial) and
-- identity sequences: sequences.sql. $1 table oids.
SELECT DISTINCT sn.nspname::text AS schema, sc.relname::text AS name, q.last_value::text AS last_value
FROM pg_catalog.pg_attrdef ad
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND d.objid = ad.oid
     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
JOIN pg_catalog.pg_class sc ON sc.oid = d.refobjid AND sc.relkind = 'S'
JOIN pg_catalog.pg_namespace sn ON sn.oid = sc.relnamespace
JOIN pg_catalog.pg_sequences q ON q.schemaname = sn.nspname AND q.sequencename = sc.relname
WHERE ad.adrelid = ANY ($1::pg_catalog.oid[]) AND q.last_value IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend o
                  WHERE o.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND o.objid = sc.oid
                    AND o.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND o.deptype IN ('a', 'i'))
ORDER BY 1, 2;
