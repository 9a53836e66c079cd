-- $1 schema, $2 name, $3 concurrently (boolean: needs a populated view with a unique index).
SELECT format('REFRESH MATERIALIZED VIEW %s%I.%I', CASE WHEN $3::boolean THEN 'CONCURRENTLY ' ELSE '' END, $1::text, $2::text) AS statement;
