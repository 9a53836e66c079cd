-- Unique indexes and constraints that do not include the time column: a
-- hypertable cannot have them. $1 table oid, $2 time column name.
SELECT
    ic.relname                                   AS index_name,
    con.conname                                  AS constraint_name,
    pg_get_indexdef(i.indexrelid)                AS definition
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
WHERE i.indrelid = $1::oid
  AND i.indisunique
  AND NOT EXISTS (
      SELECT 1 FROM pg_attribute a
      WHERE a.attrelid = i.indrelid AND a.attname = $2::name AND a.attnum = ANY (i.indkey))
ORDER BY 1;
