-- The table setup would convert, and its time column. $1 table oid, $2 time column name.
SELECT
    a.attname IS NOT NULL                                   AS column_exists,
    format_type(a.atttypid, a.atttypmod)                    AS column_type,
    a.atttypid::regtype::text IN ('timestamp with time zone', 'timestamp without time zone', 'date')
                                                            AS column_is_time,
    coalesce(a.attnotnull, false)                           AS column_not_null,
    EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = $1::oid AND c.relkind = 'r') AS is_plain_table,
    greatest((SELECT reltuples FROM pg_class WHERE oid = $1::oid), 0)::bigint AS row_estimate,
    pg_total_relation_size($1::oid)                         AS total_bytes
FROM (SELECT 1) one
LEFT JOIN pg_attribute a ON a.attrelid = $1::oid AND a.attname = $2::name AND a.attnum > 0 AND NOT a.attisdropped;
