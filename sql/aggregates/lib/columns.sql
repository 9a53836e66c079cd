-- A relation's columns with their types, as relation.sql prints a table's
-- ("hour timestamp with time zone, device_id integer, ..."). $1 relation (regclass text).
SELECT string_agg(format('%s %s', quote_ident(a.attname), format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum) AS d
FROM pg_attribute a
WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped;
