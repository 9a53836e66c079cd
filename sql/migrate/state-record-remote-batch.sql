-- One copied batch of a copy from another server, in the batch's transaction.
-- $1 schema, $2 table, $3 next block, $4 total blocks, $5 rows copied,
-- $6 the integer keys the batch copied (int8multirange text, NULL: none).
UPDATE homepot_ts.migration
SET next_block = $3::pg_catalog.int8, total_blocks = $4::pg_catalog.int8,
    rows_copied = rows_copied + $5::pg_catalog.int8, batches = batches + 1,
    source_keys = source_keys + coalesce($6::pg_catalog.int8multirange, '{}'::pg_catalog.int8multirange),
    updated_at = pg_catalog.now()
WHERE schema_name = $1::pg_catalog.text AND table_name = $2::pg_catalog.text;
