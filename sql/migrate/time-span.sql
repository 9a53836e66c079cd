-- The time span of a table's rows, to size the verification windows.
-- $1 schema, $2 table, $3 time column (rendered, then run).
SELECT format('SELECT extract(epoch FROM min(%3$I))::float8 AS lo, extract(epoch FROM max(%3$I))::float8 AS hi FROM %1$I.%2$I',
              $1::text, $2::text, $3::text) AS statement;
