-- $1 schema, $2 table, $3 older-than interval.
SELECT format('SELECT drop_chunks(%L::regclass, older_than => %L::interval)',
              format('%I.%I', $1::text, $2::text), $3::text) AS statement;
