-- A plain public.health_checks' oldest "timestamp" (by its time index), and whether rows older
-- than now() - $1 (the retention period) are still there. Read by src/doctor/policies.ts.
SELECT min(h."timestamp") AS oldest,
       coalesce(min(h."timestamp") < now() - $1::interval, false) AS older
FROM public.health_checks h;
