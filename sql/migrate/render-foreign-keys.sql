-- The old table's foreign keys, added to the new table under the same names
-- (constraint names are per table). Validating them reads the new table and
-- briefly blocks writes to the referenced tables (devices), not health_checks.
-- $1 table oid, $2 new table.
SELECT format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', n.nspname, $2::text, con.conname, pg_get_constraintdef(con.oid)) AS statement
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.conrelid = $1::oid AND con.contype = 'f'
  AND NOT EXISTS (SELECT 1 FROM pg_constraint x WHERE x.conrelid = to_regclass(format('%I.%I', n.nspname, $2::text)) AND x.conname = con.conname)
ORDER BY con.conname;
