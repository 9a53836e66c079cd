-- The names in $2 that are not columns of the table with oid $1, in the order given.
SELECT c.name
FROM unnest($2::text[]) WITH ORDINALITY AS c(name, n)
WHERE NOT EXISTS (
  SELECT 1 FROM pg_attribute a
  WHERE a.attrelid = $1::oid AND a.attname = c.name AND a.attnum > 0 AND NOT a.attisdropped
)
ORDER BY c.n;
