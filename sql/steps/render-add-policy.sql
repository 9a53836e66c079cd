-- $1 policy function (add_retention_policy, add_compression_policy or add_columnstore_policy: chosen by
-- our code, never typed), $2 schema, $3 table, $4 argument name (drop_after, compress_after, after),
-- $5 interval, $6 true when $1 is a procedure (add_columnstore_policy, TimescaleDB 2.18+): CALL, not SELECT.
SELECT format('%s %I(%L::regclass, %I => %L::interval)',
              CASE WHEN $6::boolean THEN 'CALL' ELSE 'SELECT' END,
              $1::text, format('%I.%I', $2::text, $3::text), $4::text, $5::text) AS statement;
