-- Foreign keys in other tables that reference this one. $1 table oid.
SELECT con.conname AS constraint_name, con.conrelid::regclass::text AS from_table
FROM pg_constraint con
WHERE con.contype = 'f' AND con.confrelid = $1::oid AND con.conrelid <> $1::oid
ORDER BY 1;
