-- Does health_checks hold any row? (the demo loads its synthetic fleet only into an empty table)
SELECT EXISTS (SELECT 1 FROM health_checks) AS n
