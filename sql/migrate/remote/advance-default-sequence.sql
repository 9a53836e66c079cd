-- On this server: let a sequence that a copied default uses (created here
-- from the source's facts, same schema and name) continue after the source's
-- last value, never moving it back (for a descending sequence: never up).
-- $1 schema, $2 name, $3 the source's last value.
SELECT pg_catalog.setval(s.seq, CASE WHEN q.increment_by > 0 THEN GREATEST($3::bigint, coalesce(q.last_value, q.min_value))
                                     ELSE LEAST($3::bigint, coalesce(q.last_value, q.max_value)) END)
FROM (SELECT pg_catalog.format('%I.%I', $1::text, $2::text)::pg_catalog.regclass AS seq) s
JOIN pg_catalog.pg_sequences q ON q.schemaname = $1::text AND q.sequencename = $2::text;
