-- Who owns a table, and whether rows may be moved in it with the current
-- role's rights: only when that role owns it, or when a superuser role does.
-- $1 table oid.
SELECT pg_catalog.pg_get_userbyid(c.relowner) AS owner,
       (c.relowner = r.oid OR coalesce(o.rolsuper, false)) AS trusted
FROM pg_catalog.pg_class c
CROSS JOIN (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) r
LEFT JOIN pg_catalog.pg_roles o ON o.oid = c.relowner
WHERE c.oid = $1::pg_catalog.oid;
