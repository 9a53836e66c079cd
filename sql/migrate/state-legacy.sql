-- A relation named homepot_ts_migration in the table's schema: where homepot-ts
-- kept its state before it had the homepot_ts schema (or something planted
-- there). Never read: a view there would run its owner's functions.
-- $1 schema.
SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS display,
       c.relkind::pg_catalog.text AS relkind,
       pg_catalog.pg_get_userbyid(c.relowner) AS owner
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1::pg_catalog.text AND c.relname = 'homepot_ts_migration';
