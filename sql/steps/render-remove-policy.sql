-- $1 remove function (remove_retention_policy or remove_compression_policy: chosen by our code), $2 schema, $3 table.
SELECT format('SELECT %I(%L::regclass, if_exists => true)', $1::text, format('%I.%I', $2::text, $3::text)) AS statement;
