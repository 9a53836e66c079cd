-- The old table's index names (constraint indexes under their constraint's
-- name), for the temporary names of their copies. $1 table oid.
SELECT coalesce(con.conname, ic.relname)::text AS name, con.conname IS NOT NULL AS is_constraint
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
WHERE i.indrelid = $1::oid
ORDER BY 1;
