-- On the source server: who may do what on the copied tables, as facts
-- (role names, privilege words, column names), never as text to run: the
-- grants on each table, on its columns, on the sequences of its serial
-- columns (USAGE, so that an INSERT can take the next id) and on the
-- sequences its defaults use without owning them (with their schema and
-- name: seq_schema, seq_name), and the owners (privilege OWNER) of the table
-- and of those sequences (the owned ones follow their table's owner). Grants of the owner to
-- itself are left out. $1 table oids.
WITH t AS (
    SELECT c.oid, c.relacl, c.relowner FROM pg_catalog.pg_class c WHERE c.oid = ANY ($1::pg_catalog.oid[])
), g AS (
    SELECT t.oid AS table_oid, NULL::text AS column_name, false AS is_sequence, NULL::text AS seq_schema, NULL::text AS seq_name,
           a.grantee, a.privilege_type, a.is_grantable
    FROM t, pg_catalog.aclexplode(t.relacl) a
    WHERE a.grantee <> t.relowner
    UNION ALL
    SELECT t.oid, att.attname::text, false, NULL, NULL, a.grantee, a.privilege_type, a.is_grantable
    FROM t JOIN pg_catalog.pg_attribute att ON att.attrelid = t.oid AND att.attnum > 0 AND NOT att.attisdropped,
         pg_catalog.aclexplode(att.attacl) a
    WHERE a.grantee <> t.relowner
    UNION ALL
    SELECT t.oid, att.attname::text, true, NULL, NULL, a.grantee, a.privilege_type, a.is_grantable
    FROM t JOIN pg_catalog.pg_attribute att ON att.attrelid = t.oid AND att.attnum > 0 AND NOT att.attisdropped
    JOIN pg_catalog.pg_depend d ON d.refobjid = t.oid AND d.refobjsubid = att.attnum AND d.deptype = 'a'
         AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
    JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S',
         pg_catalog.aclexplode(s.relacl) a
    WHERE a.grantee <> s.relowner
    UNION ALL
    SELECT DISTINCT t.oid, NULL, true, sn.nspname::text, s.relname::text, a.grantee, a.privilege_type, a.is_grantable
    FROM t JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = t.oid
    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND d.objid = ad.oid
         AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
    JOIN pg_catalog.pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
    JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace,
         pg_catalog.aclexplode(s.relacl) a
    WHERE a.grantee <> s.relowner
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend o
                      WHERE o.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND o.objid = s.oid
                        AND o.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND o.deptype IN ('a', 'i'))
)
SELECT g.table_oid::int AS table_oid, g.column_name, g.is_sequence, g.seq_schema, g.seq_name,
       CASE WHEN g.grantee = 0 THEN NULL ELSE r.rolname::text END AS grantee,
       g.privilege_type::text AS privilege, g.is_grantable AS grantable
FROM g LEFT JOIN pg_catalog.pg_roles r ON r.oid = g.grantee
UNION ALL
SELECT t.oid::int, NULL, false, NULL, NULL, r.rolname::text, 'OWNER', false
FROM t JOIN pg_catalog.pg_roles r ON r.oid = t.relowner
UNION ALL
SELECT DISTINCT t.oid::int, NULL, true, sn.nspname::text, s.relname::text, r.rolname::text, 'OWNER', false
FROM t JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = t.oid
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND d.objid = ad.oid
     AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
JOIN pg_catalog.pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_catalog.pg_roles r ON r.oid = s.relowner
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend o
                  WHERE o.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND o.objid = s.oid
                    AND o.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND o.deptype IN ('a', 'i'))
ORDER BY 1, 2 NULLS FIRST, 3, 4, 5, 6, 7;
