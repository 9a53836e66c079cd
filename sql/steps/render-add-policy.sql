-- $1 policy function (add_retention_policy or add_compression_policy: chosen by our code, never typed),
-- $2 schema, $3 table, $4 argument name (drop_after, compress_after), $5 interval.
SELECT format('SELECT %I(%L::regclass, %I => %L::interval)',
              $1::text, format('%I.%I', $2::text, $3::text), $4::text, $5::text) AS statement;
