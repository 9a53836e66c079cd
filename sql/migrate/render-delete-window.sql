-- On the target: remove one time window's rows before copying it again.
-- $1 schema, $2 table, $3 time column; rendered statement: $1/$2 the window [from, to).
SELECT format('DELETE FROM %I.%I WHERE %I >= $1::timestamptz AND %I < $2::timestamptz', $1::text, $2::text, $3::text, $3::text) AS statement;
