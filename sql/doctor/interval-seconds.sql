-- Intervals as the server prints them ('01:00:00', '1 day'), in seconds, in order. $1 text[].
SELECT extract(epoch FROM x.i::interval)::float8 AS seconds
FROM unnest($1::text[]) WITH ORDINALITY AS x(i, n)
ORDER BY x.n;
