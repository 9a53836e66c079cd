-- $1 remove function (remove_retention_policy, remove_compression_policy or remove_columnstore_policy:
-- chosen by our code), $2 schema, $3 table, $4 true when $1 is a procedure (remove_columnstore_policy): CALL.
SELECT format('%s %I(%L::regclass, if_exists => true)',
              CASE WHEN $4::boolean THEN 'CALL' ELSE 'SELECT' END,
              $1::text, format('%I.%I', $2::text, $3::text)) AS statement;
