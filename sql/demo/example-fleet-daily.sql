-- The seed's dashboard query: the whole fleet, daily, over the last 30 days.
SELECT day, count(*)::int AS devices, sum(check_count)::bigint AS checks, avg(avg_cpu) AS avg_cpu,
       sum(total_transactions)::bigint AS total_transactions, sum(unhealthy_count)::bigint AS unhealthy
FROM device_metrics_daily
WHERE day >= NOW() - INTERVAL '30 days'
GROUP BY day ORDER BY day DESC;
