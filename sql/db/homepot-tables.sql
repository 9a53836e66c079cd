-- HOMEPOT's tables as found through the search_path: kind, owner, size and
-- the planner's row estimate (reltuples; -1 before the first ANALYZE).
-- $1: text[] of table names.
SELECT
    t.name,
    n.nspname                                      AS schema,
    c.oid IS NOT NULL                              AS exists,
    c.relkind::text                                AS relkind,
    pg_get_userbyid(c.relowner)                    AS owner,
    CASE WHEN c.oid IS NULL THEN NULL
         ELSE pg_has_role(current_user, c.relowner, 'USAGE') END AS owned,
    CASE WHEN c.oid IS NULL THEN NULL
         ELSE greatest(c.reltuples, 0)::bigint END AS row_estimate,
    CASE WHEN c.oid IS NULL THEN NULL
         ELSE pg_total_relation_size(c.oid) END    AS total_bytes
FROM unnest($1::text[]) WITH ORDINALITY AS t(name, ord)
LEFT JOIN pg_class c ON c.oid = to_regclass(quote_ident(t.name))
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
ORDER BY t.ord;
