-- On the target: let a sequence continue after the source's last value (never
-- moving it back). $1 qualified sequence name, $2 the source's last value.
SELECT setval($1::regclass, greatest($2::bigint, (SELECT last_value FROM pg_sequences
                                                   WHERE format('%I.%I', schemaname, sequencename) = $1::text AND last_value IS NOT NULL), 1));
