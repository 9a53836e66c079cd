-- On this server: a foreign key of a table copied from another server, rebuilt
-- from its parts; the actions come from pg_constraint's letters, mapped to
-- fixed keywords here. $1 schema, $2 table, $3 constraint name, $4 columns,
-- $5 referenced schema, $6 referenced table, $7 referenced columns, $8 match
-- type (s simple, f full), $9 ON UPDATE and $10 ON DELETE (a no action,
-- r restrict, c cascade, n set null, d set default), $11 deferrable,
-- $12 initially deferred.
WITH a(letter, words) AS (VALUES ('r', 'RESTRICT'), ('c', 'CASCADE'), ('n', 'SET NULL'), ('d', 'SET DEFAULT'))
SELECT pg_catalog.format('ALTER TABLE %I.%I ADD CONSTRAINT %I FOREIGN KEY (%s) REFERENCES %I.%I (%s)%s%s%s%s', $1::text, $2::text, $3::text,
       (SELECT pg_catalog.string_agg(pg_catalog.format('%I', c), ', ' ORDER BY o) FROM pg_catalog.unnest($4::text[]) WITH ORDINALITY u(c, o)),
       $5::text, $6::text,
       (SELECT pg_catalog.string_agg(pg_catalog.format('%I', c), ', ' ORDER BY o) FROM pg_catalog.unnest($7::text[]) WITH ORDINALITY u(c, o)),
       CASE WHEN $8::text = 'f' THEN ' MATCH FULL' ELSE '' END,
       coalesce((SELECT ' ON UPDATE ' || words FROM a WHERE letter = $9::text), ''),
       coalesce((SELECT ' ON DELETE ' || words FROM a WHERE letter = $10::text), ''),
       CASE WHEN $11::boolean THEN CASE WHEN $12::boolean THEN ' DEFERRABLE INITIALLY DEFERRED' ELSE ' DEFERRABLE' END ELSE '' END) AS statement;
