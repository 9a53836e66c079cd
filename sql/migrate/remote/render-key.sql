-- On this server: a primary key or unique constraint of a table copied from
-- another server, rebuilt from its parts. $1 schema, $2 table, $3 constraint
-- name, $4 'p' (primary key) or 'u' (unique), $5 key columns, $6 INCLUDE
-- columns, $7 NULLS NOT DISTINCT, $8 deferrable, $9 initially deferred.
SELECT pg_catalog.format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s%s (%s)%s%s', $1::text, $2::text, $3::text,
       CASE $4::text WHEN 'p' THEN 'PRIMARY KEY' WHEN 'u' THEN 'UNIQUE' END,
       CASE WHEN $7::boolean THEN ' NULLS NOT DISTINCT' ELSE '' END,
       (SELECT pg_catalog.string_agg(pg_catalog.format('%I', c), ', ' ORDER BY o) FROM pg_catalog.unnest($5::text[]) WITH ORDINALITY u(c, o)),
       CASE WHEN pg_catalog.cardinality($6::text[]) > 0
            THEN pg_catalog.format(' INCLUDE (%s)', (SELECT pg_catalog.string_agg(pg_catalog.format('%I', c), ', ' ORDER BY o) FROM pg_catalog.unnest($6::text[]) WITH ORDINALITY u(c, o)))
            ELSE '' END,
       CASE WHEN $8::boolean THEN CASE WHEN $9::boolean THEN ' DEFERRABLE INITIALLY DEFERRED' ELSE ' DEFERRABLE' END ELSE '' END) AS statement;
