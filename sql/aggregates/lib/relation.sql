-- The relation a name resolves to through search_path, whatever its kind.
-- $1 name (one of our three aggregate names).
-- definition: a materialized view's query as the server prints it; a table's
-- columns with their types ("hour timestamp with time zone, ..."), which is
-- what an aggregate table's definition is compared by. comment: the table's
-- comment (homepot-ts marks its aggregate tables with one). trusted: owned by
-- the current role or a superuser role (a DELETE or INSERT on it runs its
-- owner's triggers with our rights, and only such a relation can be the tool's own).
SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind, c.relispopulated AS populated,
       current_schema() AS current_schema,
       CASE WHEN c.relkind = 'm' THEN pg_get_viewdef(c.oid)
            WHEN c.relkind = 'r' THEN (
                SELECT string_agg(format('%s %s', quote_ident(a.attname), format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
                FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) END AS definition,
       CASE WHEN c.relkind IN ('m', 'r') THEN EXISTS (
           SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL) END
         AS has_unique_index,
       obj_description(c.oid, 'pg_class') AS comment,
       pg_get_userbyid(c.relowner) AS owner,
       (c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
        OR coalesce((SELECT rolsuper FROM pg_roles WHERE oid = c.relowner), false)) AS trusted
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass($1::text);
