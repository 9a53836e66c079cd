-- The seed's dashboard query: one device, hourly, over the last 24 hours. $1 device id.
SELECT * FROM device_metrics_hourly
WHERE device_id = $1 AND hour >= NOW() - INTERVAL '24 hours'
ORDER BY hour DESC;
