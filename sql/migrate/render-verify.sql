-- Row count and checksum per time window of a table: the same query on both
-- sides of a migration. The checksum sums a 64-bit hash of each row's text,
-- so it does not depend on row order. $1 schema, $2 table, $3 time column.
-- Rendered statement: $1 window length in seconds; $2/$3 optional time range
-- [from, to) as timestamptz (NULL: everything).
SELECT format($q$SELECT floor(extract(epoch FROM %3$I) / $1::float8)::bigint AS w,
       count(*)::bigint AS n,
       sum(hashtextextended(t::text, 0))::text AS h
FROM %1$I.%2$I t
WHERE ($2::timestamptz IS NULL OR %3$I >= $2::timestamptz) AND ($3::timestamptz IS NULL OR %3$I < $3::timestamptz)
GROUP BY 1 ORDER BY 1$q$, $1::text, $2::text, $3::text) AS statement;
