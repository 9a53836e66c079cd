-- Whether refresh_continuous_aggregate takes `force` (TimescaleDB 2.18+):
-- recompute every bucket of the window, also those whose raw rows did not
-- change (a device that moved to another site changes no raw row).
SELECT EXISTS (
  SELECT 1
  FROM pg_proc p
  JOIN pg_extension e ON e.extname = 'timescaledb' AND e.extnamespace = p.pronamespace
  WHERE p.proname = 'refresh_continuous_aggregate' AND 'force' = ANY (p.proargnames)
) AS has_force;
