-- On this server: a sequence that a copied column's default uses without
-- owning it, created from the facts read on the source (its data type from
-- the three integer types, its numbers bound as bigint), never from the
-- source's text. IF NOT EXISTS: a sequence of that name already here is used
-- as it is (and advanced past the source's value after each copy).
-- $1 schema, $2 name, $3 type (int2 | int4 | int8), $4 start, $5 increment,
-- $6 min, $7 max, $8 cache, $9 cycle.
SELECT pg_catalog.format('CREATE SEQUENCE IF NOT EXISTS %I.%I AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s',
       $1::text, $2::text,
       CASE $3::text WHEN 'int2' THEN 'smallint' WHEN 'int4' THEN 'integer' WHEN 'int8' THEN 'bigint' END,
       $5::bigint, $6::bigint, $7::bigint, $4::bigint, $8::bigint,
       CASE WHEN $9::boolean THEN 'CYCLE' ELSE 'NO CYCLE' END) AS statement
WHERE $3::text IN ('int2', 'int4', 'int8');
