-- The seed's dashboard query: one site, hourly, over the last 7 days. $1 site id.
SELECT hour, device_count, avg_cpu, total_transactions
FROM site_metrics_hourly
WHERE site_id = $1 AND hour >= NOW() - INTERVAL '7 days'
ORDER BY hour DESC;
