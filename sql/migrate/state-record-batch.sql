-- One copied batch of an online migration, in the batch's transaction.
-- $1 schema, $2 table, $3 first block, $4 block after the last, $5 rows copied.
UPDATE homepot_ts.migration
SET copied_blocks = copied_blocks + pg_catalog.int8multirange(pg_catalog.int8range($3::pg_catalog.int8, $4::pg_catalog.int8)),
    next_block = next_block + ($4::pg_catalog.int8 - $3::pg_catalog.int8),
    rows_copied = rows_copied + $5::pg_catalog.int8, batches = batches + 1, updated_at = pg_catalog.now()
WHERE schema_name = $1::pg_catalog.text AND table_name = $2::pg_catalog.text;
