-- Fresh statistics after loading, so the example queries are planned on real row counts.
ANALYZE sites, devices, health_checks
