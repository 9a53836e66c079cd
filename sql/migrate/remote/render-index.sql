-- On this server: an index of a table copied from another server, rebuilt
-- from its parts (plain columns only: indexes on expressions, partial ones and
-- ones with their own operator class or collation are not copied).
-- $1 schema, $2 table, $3 index name, $4 access method (one of the built-in
-- ones), $5 unique, $6 key columns, $7 their options (pg_index.indoption: 1
-- DESC, 2 NULLS FIRST), $8 INCLUDE columns, $9 NULLS NOT DISTINCT.
SELECT pg_catalog.format('CREATE %sINDEX %I ON %I.%I USING %s (%s)%s%s',
       CASE WHEN $5::boolean THEN 'UNIQUE ' ELSE '' END, $3::text, $1::text, $2::text,
       CASE $4::text WHEN 'btree' THEN 'btree' WHEN 'hash' THEN 'hash' WHEN 'gist' THEN 'gist'
                     WHEN 'gin' THEN 'gin' WHEN 'brin' THEN 'brin' WHEN 'spgist' THEN 'spgist' END,
       (SELECT pg_catalog.string_agg(pg_catalog.format('%I', u.c)
                                     || CASE WHEN u.opt & 1 = 1 THEN ' DESC' ELSE '' END
                                     || CASE WHEN u.opt & 3 = 1 THEN ' NULLS LAST' WHEN u.opt & 3 = 2 THEN ' NULLS FIRST' ELSE '' END,
                                     ', ' ORDER BY u.n)
        FROM unnest($6::text[], $7::int[]) WITH ORDINALITY u(c, opt, n)),
       CASE WHEN pg_catalog.cardinality($8::text[]) > 0
            THEN pg_catalog.format(' INCLUDE (%s)', (SELECT pg_catalog.string_agg(pg_catalog.format('%I', c), ', ' ORDER BY o) FROM pg_catalog.unnest($8::text[]) WITH ORDINALITY u(c, o)))
            ELSE '' END,
       CASE WHEN $9::boolean THEN ' NULLS NOT DISTINCT' ELSE '' END) AS statement;
