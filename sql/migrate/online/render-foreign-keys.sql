-- The old table's foreign keys, for the new table under the same names
-- (constraint names are per table). Added NOT VALID (no scan, no wait; new
-- rows, and the replayed ones, are checked from then on), then validated
-- apart: VALIDATE CONSTRAINT reads the new table under SHARE UPDATE EXCLUSIVE,
-- which blocks no reads or writes, while the verification runs.
-- With them, the CHECK constraints that are NOT VALID on the old table (rows
-- older than them may break them), added after the copy, NOT VALID again.
-- $1 table oid, $2 new table. kind: 'add' | 'validate'.
SELECT 'add' AS kind,
       format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s%s', n.nspname, $2::text, con.conname, pg_get_constraintdef(con.oid),
              CASE WHEN con.convalidated THEN ' NOT VALID' ELSE '' END) AS statement
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.conrelid = $1::oid AND (con.contype = 'f' OR (con.contype = 'c' AND NOT con.convalidated))
  AND NOT EXISTS (SELECT 1 FROM pg_constraint x WHERE x.conrelid = to_regclass(format('%I.%I', n.nspname, $2::text)) AND x.conname = con.conname)
UNION ALL
SELECT 'validate', format('ALTER TABLE %I.%I VALIDATE CONSTRAINT %I', n.nspname, $2::text, con.conname)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.conrelid = $1::oid AND con.contype = 'f' AND con.convalidated
ORDER BY 1, 2;
