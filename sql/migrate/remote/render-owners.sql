-- On this server, at migrate-from-postgres finish: the tables and sequences a
-- --source copy created, given to their owners on the source (recorded in the
-- state row). Only relations that still exist and roles that exist here and
-- the current role may give to (a member of it, or a superuser); the others
-- come back with statement NULL and why. Sequences owned by a column follow
-- their table. $1 the owners as JSON [{kind, schema, name, owner}].
SELECT o.kind, o.schema, o.name, o.owner,
       CASE WHEN r.oid IS NULL THEN 'the role does not exist here'
            WHEN c.oid IS NULL THEN 'the relation is gone'
            WHEN c.relowner = r.oid THEN 'already owned by it'
            WHEN NOT pg_catalog.pg_has_role(r.oid, 'USAGE')
                 AND NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
              THEN 'the current role is not a member of it'
       END AS why_not,
       pg_catalog.format('ALTER %s %I.%I OWNER TO %I', CASE o.kind WHEN 'sequence' THEN 'SEQUENCE' ELSE 'TABLE' END,
                         o.schema, o.name, o.owner) AS statement
FROM pg_catalog.jsonb_to_recordset($1::text::pg_catalog.jsonb) AS o(kind text, schema text, name text, owner text)
LEFT JOIN pg_catalog.pg_roles r ON r.rolname = o.owner
LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = o.schema
LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = o.name
     AND c.relkind = CASE o.kind WHEN 'sequence' THEN 'S' ELSE c.relkind END
WHERE o.kind IN ('table', 'sequence')
ORDER BY o.kind DESC, o.schema, o.name;
