-- On this server: the source's column types (and collations), looked up here
-- by schema and name among the built-in ones (pg_catalog) only, and rendered
-- here. A row whose type_sql is NULL names a type this tool does not create.
-- $1 the columns as JSON: [{ord, name, type_schema, type_name, typmod, collation_schema, collation_name}].
SELECT c.ord, c.name, c.type_schema, c.type_name,
       pg_catalog.format_type(t.oid, c.typmod) AS type_sql,
       pg_catalog.format_type(t.oid, NULL) AS type_plain,
       coalesce(t.oid = 'pg_catalog.json'::pg_catalog.regtype, false) AS is_json,
       coalesce(t.typname IN ('int2', 'int4', 'int8'), false) AS is_integer,
       c.collation_name IS NULL
         OR (c.collation_schema = 'pg_catalog'
             AND EXISTS (SELECT 1 FROM pg_catalog.pg_collation co
                         WHERE co.collnamespace = 'pg_catalog'::pg_catalog.regnamespace AND co.collname = c.collation_name
                           AND co.collencoding IN (-1, pg_catalog.pg_char_to_encoding(pg_catalog.getdatabaseencoding())))) AS collation_ok
FROM pg_catalog.jsonb_to_recordset($1::text::pg_catalog.jsonb)
     AS c(ord int, name text, type_schema text, type_name text, typmod int, collation_schema text, collation_name text)
LEFT JOIN pg_catalog.pg_type t
       ON c.type_schema = 'pg_catalog' AND t.typnamespace = 'pg_catalog'::pg_catalog.regnamespace
      AND t.typname = c.type_name AND t.typisdefined AND t.typtype IN ('b', 'r', 'm')
ORDER BY c.ord;
