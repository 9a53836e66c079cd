-- An index on the table with exactly these key columns and directions, or
-- one with the wanted name. $1 table oid, $2 text[] columns, $3 bool[] descending, $4 index name.
SELECT ic.relname AS index_name, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = $1::oid
  AND (ic.relname = $4::name
       OR (i.indnkeyatts = cardinality($2::text[])
           AND i.indexprs IS NULL AND i.indpred IS NULL
           AND (SELECT bool_and(
                    a.attname = ($2::text[])[k.n]
                    AND ((i.indoption[k.n - 1] & 1) = 1) = ($3::text[]::boolean[])[k.n])
                FROM generate_series(1, cardinality($2::text[])) AS k(n)
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k.n - 1])))
ORDER BY ic.relname = $4::name DESC
LIMIT 1;
