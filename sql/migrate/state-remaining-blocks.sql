-- The block ranges of an online migration not copied yet (batches finish out of order).
-- $1 schema, $2 table, $3 blocks in all.
SELECT pg_catalog.lower(r)::pg_catalog.text AS lo, pg_catalog.upper(r)::pg_catalog.text AS hi
FROM homepot_ts.migration m,
     pg_catalog.unnest(pg_catalog.int8multirange(pg_catalog.int8range(0, $3::pg_catalog.int8)) - m.copied_blocks) r
WHERE m.schema_name = $1::pg_catalog.text AND m.table_name = $2::pg_catalog.text
ORDER BY pg_catalog.lower(r);
