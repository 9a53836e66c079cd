-- On the source server: a table's foreign keys, to add on the target once
-- every table exists. $1 table oid.
SELECT format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', n.nspname, c.relname, con.conname, pg_get_constraintdef(con.oid)) AS statement
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.conrelid = $1::oid AND con.contype = 'f'
ORDER BY con.conname;
