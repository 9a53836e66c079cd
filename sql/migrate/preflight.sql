-- What stands in the way of moving a table's rows into a new hypertable and
-- swapping the names (migrate-from-postgres). $1 table oid, $2 time column.
SELECT
    -- Views and materialized views that read the table: they are bound to the
    -- table itself, not its name, so after a swap they would read the old table.
    coalesce((SELECT array_agg(DISTINCT format('%I.%I', vn.nspname, v.relname)
                               || CASE v.relkind WHEN 'm' THEN ' (materialized view)' ELSE ' (view)' END)
              FROM pg_depend d
              JOIN pg_rewrite r ON r.oid = d.objid
              JOIN pg_class v ON v.oid = r.ev_class
              JOIN pg_namespace vn ON vn.oid = v.relnamespace
              WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
                AND d.refobjid = $1::oid AND r.ev_class <> $1::oid), '{}') AS dependent_views,
    -- Generated columns cannot be copied with INSERT ... SELECT *.
    coalesce((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
              WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated <> ''), '{}') AS generated_columns,
    -- Triggers of the user's own (ours is homepot_ts_capture*): not carried to the new table.
    coalesce((SELECT array_agg(t.tgname::text ORDER BY t.tgname) FROM pg_trigger t
              WHERE t.tgrelid = $1::oid AND NOT t.tgisinternal AND t.tgname NOT LIKE 'homepot\_ts\_%'), '{}') AS user_triggers,
    (SELECT c.relrowsecurity FROM pg_class c WHERE c.oid = $1::oid) AS row_security,
    EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = $1::oid OR inhparent = $1::oid) AS inheritance,
    -- The key that identifies a row: the primary key, else a unique index on
    -- plain NOT NULL columns; it must contain the time column (a hypertable's
    -- unique indexes must). NULL when there is none.
    (SELECT array(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord)
     FROM pg_index i
     WHERE i.indrelid = $1::oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
       AND NOT EXISTS (SELECT 1 FROM unnest(i.indkey::int2[]) k(attnum)
                       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE NOT a.attnotnull)
       AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attname = $2::name AND a.attnum = ANY (i.indkey::int2[]))
     ORDER BY i.indisprimary DESC, i.indexrelid LIMIT 1) AS key_columns,
    pg_relation_size($1::oid) / current_setting('block_size')::bigint AS blocks,
    greatest((SELECT reltuples FROM pg_class WHERE oid = $1::oid), 0)::bigint AS row_estimate,
    pg_total_relation_size($1::oid) AS total_bytes,
    pg_get_userbyid((SELECT relowner FROM pg_class WHERE oid = $1::oid)) AS owner;
