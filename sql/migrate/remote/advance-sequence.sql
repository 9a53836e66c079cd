-- On this server: let the sequence behind a copied serial or identity column
-- continue after the source's last value (never moving it back). The sequence
-- is found here, by table and column. $1 schema, $2 table, $3 column, $4 the
-- source's last value.
SELECT pg_catalog.setval(s.seq, GREATEST($4::bigint, (SELECT last_value FROM pg_catalog.pg_sequences q
                                                         WHERE pg_catalog.format('%I.%I', q.schemaname, q.sequencename)::pg_catalog.regclass = s.seq
                                                           AND q.last_value IS NOT NULL), 1))
FROM (SELECT pg_catalog.pg_get_serial_sequence(pg_catalog.format('%I.%I', $1::text, $2::text), $3::text)::pg_catalog.regclass AS seq) s
WHERE s.seq IS NOT NULL;
