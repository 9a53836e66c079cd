-- The relation a name resolves to through search_path, whatever its kind.
-- $1 name (one of our three aggregate names).
SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind, c.relispopulated AS populated,
       current_schema() AS current_schema,
       CASE WHEN c.relkind = 'm' THEN pg_get_viewdef(c.oid) END AS definition,
       CASE WHEN c.relkind = 'm' THEN EXISTS (
           SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL) END
         AS has_unique_index
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass($1::text);
