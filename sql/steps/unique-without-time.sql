-- Unique indexes and constraints that do not include the time column: a
-- hypertable cannot have them. $1 table oid, $2 time column name.
-- columns: the index's columns (NULL when it has expressions), to write the fix.
SELECT
    ic.relname                                   AS index_name,
    con.conname                                  AS constraint_name,
    con.contype::text                            AS constraint_type,
    CASE WHEN i.indexprs IS NULL THEN
        (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) END AS columns,
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
