-- Turn a materialized view an earlier homepot-ts made (same definition as
-- ours) into the aggregate table that replaces it, keeping every row and the
-- grants: copy the rows into a new table, drop the view (no CASCADE: a view
-- built on it makes the step fail, rolled back, and is named), give the table
-- the view's name. Run in order, in one transaction, under the change lock.
-- The comment and unique index come after, from sql/aggregates/table/<name>.sql.
-- $1 schema, $2 name, $3 temporary name, $4 populated (an unpopulated view
-- cannot be read: the table starts empty, as the view was).
SELECT statement FROM (
    SELECT 1 AS ord, 0 AS sub,
           format('CREATE TABLE %I.%I AS SELECT * FROM %I.%I%s', $1::text, $3::text, $1::text, $2::text,
                  CASE WHEN $4::boolean THEN '' ELSE ' WITH NO DATA' END) AS statement
    UNION ALL
    SELECT 2, row_number() OVER (ORDER BY a.grantee, a.privilege_type)::int,
           format('GRANT %s ON %I.%I TO %s%s', a.privilege_type, $1::text, $3::text,
                  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                  CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
    FROM pg_class c, aclexplode(c.relacl) a
    WHERE c.oid = format('%I.%I', $1::text, $2::text)::regclass AND a.grantee <> c.relowner
    UNION ALL
    SELECT 3, 0, format('DROP MATERIALIZED VIEW %I.%I', $1::text, $2::text)
    UNION ALL
    SELECT 4, 0, format('ALTER TABLE %I.%I RENAME TO %I', $1::text, $3::text, $2::text)
) s
ORDER BY ord, sub;
