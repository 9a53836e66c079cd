-- Is there a public.health_checks (any kind of relation)? Read by src/doctor/doctor.ts.
SELECT to_regclass('public.health_checks') IS NOT NULL AS present;
