-- The device and site the demo's example queries show: the first of each.
SELECT (SELECT id FROM devices ORDER BY id LIMIT 1) AS device_id,
       (SELECT id FROM sites ORDER BY id LIMIT 1)   AS site_id;
