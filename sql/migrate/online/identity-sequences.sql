-- The identity columns' sequences of the old table and of the new one, for
-- the swap: the new table's sequence takes the old one's name (the
-- application may call nextval or setval on it by name). $1 table oid,
-- $2 new table.
SELECT a.attname::text AS column_name, os.relname::text AS old_seq, ns.relname::text AS new_seq
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL (SELECT pg_catalog.pg_get_serial_sequence(pg_catalog.format('%I.%I', n.nspname, c.relname), a.attname)::pg_catalog.regclass AS seq) o
CROSS JOIN LATERAL (SELECT pg_catalog.pg_get_serial_sequence(pg_catalog.format('%I.%I', n.nspname, $2::text), a.attname)::pg_catalog.regclass AS seq) x
JOIN pg_catalog.pg_class os ON os.oid = o.seq
JOIN pg_catalog.pg_class ns ON ns.oid = x.seq
WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity <> ''
ORDER BY a.attnum;
