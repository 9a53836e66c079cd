-- On the source server (search_path pinned to pg_catalog, pg_temp; catalog
-- functions schema-qualified): the facts of a table's columns, as data. None
-- of it is SQL for the target: types are looked up there by name and schema
-- (render-types.sql), a default's text is only matched against a short
-- allow-list and re-rendered on the target (see columnDefault in
-- src/migrate/remote/schema.ts). A default that uses a sequence the column
-- does not own (CREATE SEQUENCE ...; DEFAULT nextval(...)) comes with that
-- sequence's facts (default_sequence), and whether the default is exactly
-- nextval of it. $1 table oid.
SELECT a.attnum::int AS attnum,
       a.attname::text AS name,
       tn.nspname::text AS type_schema,
       t.typname::text AS type_name,
       -- e enum, d domain (with its base type, for messages only): not created here
       t.typtype::text AS type_kind,
       CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END AS domain_base,
       a.atttypmod::int AS typmod,
       a.attnotnull AS not_null,
       a.attidentity::text AS identity,
       a.attgenerated::text AS generated,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN cn.nspname::text END AS collation_schema,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN co.collname::text END AS collation_name,
       pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) AS default_text,
       -- serial: the column owns a sequence (an 'a' dependency; identity columns have 'i')
       (SELECT st.typname::text
        FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_sequence s ON s.seqrelid = d.objid
        JOIN pg_catalog.pg_type st ON st.oid = s.seqtypid
        WHERE d.refobjid = a.attrelid AND d.refobjsubid = a.attnum AND d.deptype = 'a'
          AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
        LIMIT 1) AS serial_type,
       (SELECT pg_catalog.jsonb_build_object(
                   'schema', sn.nspname::text, 'name', sc.relname::text, 'type', st.typname::text,
                   'start', s.seqstart::text, 'increment', s.seqincrement::text, 'min', s.seqmin::text,
                   'max', s.seqmax::text, 'cache', s.seqcache::text, 'cycle', s.seqcycle,
                   'plain_nextval', pg_catalog.pg_get_expr(ad.adbin, ad.adrelid)
                                    = pg_catalog.format('nextval(%L::regclass)', sc.oid::pg_catalog.regclass::text))
        FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_class sc ON sc.oid = d.refobjid AND sc.relkind = 'S'
        JOIN pg_catalog.pg_namespace sn ON sn.oid = sc.relnamespace
        JOIN pg_catalog.pg_sequence s ON s.seqrelid = sc.oid
        JOIN pg_catalog.pg_type st ON st.oid = s.seqtypid
        WHERE d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND d.objid = ad.oid
          AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
        ORDER BY sc.oid LIMIT 1) AS default_sequence
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;
