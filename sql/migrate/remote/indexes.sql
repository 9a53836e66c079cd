-- On the source server: a table's other indexes (not behind a constraint) as
-- parts: access method, key columns with their DESC / NULLS FIRST options,
-- INCLUDE columns, and whether it has expressions, a predicate, an operator
-- class or collation of its own (those are not copied). $1 table oid.
SELECT ic.relname::text AS name,
       am.amname::text AS method,
       i.indisunique AS is_unique,
       i.indpred IS NOT NULL AS partial,
       i.indexprs IS NOT NULL OR 0 = ANY (i.indkey::pg_catalog.int2[]) AS expressions,
       ARRAY(SELECT a.attname::text FROM pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE k.ord <= i.indnkeyatts ORDER BY k.ord) AS columns,
       ARRAY(SELECT o::int FROM pg_catalog.unnest(i.indoption::pg_catalog.int2[]) WITH ORDINALITY x(o, ord) ORDER BY ord) AS options,
       ARRAY(SELECT a.attname::text FROM pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE k.ord > i.indnkeyatts ORDER BY k.ord) AS include,
       coalesce((pg_catalog.to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false) AS nulls_not_distinct,
       EXISTS (SELECT 1 FROM pg_catalog.unnest(i.indclass::pg_catalog.oid[]) c(opc)
               JOIN pg_catalog.pg_opclass oc ON oc.oid = c.opc WHERE NOT oc.opcdefault) AS special_opclass,
       EXISTS (SELECT 1 FROM ROWS FROM (pg_catalog.unnest(i.indcollation::pg_catalog.oid[]), pg_catalog.unnest(i.indkey::pg_catalog.int2[])) c(coll, attnum)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = c.attnum
               WHERE c.coll <> 0 AND c.coll <> a.attcollation) AS special_collation
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_am am ON am.oid = ic.relam
WHERE i.indrelid = $1::pg_catalog.oid
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid)
ORDER BY ic.relname;
