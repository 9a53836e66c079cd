-- The newest "timestamp" of public.health_checks at or after $1 (a hypertable's newest chunk
-- start, so only that chunk is planned and locked; NULL for a plain table: all of it).
SELECT max(h."timestamp") AS newest
FROM public.health_checks h
WHERE h."timestamp" >= coalesce($1::timestamptz, '-infinity');
