-- $1 schema, $2 table.
SELECT format('DROP TABLE %I.%I', $1::text, $2::text) AS statement;
