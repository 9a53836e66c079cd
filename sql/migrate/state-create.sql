-- Where an online migration keeps its place, one row per table, in the
-- table's schema (on the target server for --source). $1 schema.
-- phase: copying, catching-up, done (online); copying, finished (--source,
-- finished by migrate-from-postgres finish: finished_at says when).
SELECT format($f$CREATE TABLE IF NOT EXISTS %I.homepot_ts_migration (
    table_name     text PRIMARY KEY,
    strategy       text NOT NULL,
    phase          text NOT NULL,
    source         text,
    new_table      text,
    log_table      text,
    capture_fn     text,
    index_names    jsonb NOT NULL DEFAULT '{}',
    total_blocks   bigint NOT NULL DEFAULT 0,
    next_block     bigint NOT NULL DEFAULT 0,
    copied_blocks  int8multirange NOT NULL DEFAULT '{}',
    -- --source: the integer keys copied from the source (a rerun deletes only rows whose key is here)
    source_keys    int8multirange NOT NULL DEFAULT '{}',
    rows_copied    bigint NOT NULL DEFAULT 0,
    window_seconds integer NOT NULL DEFAULT 3600,
    batches        integer NOT NULL DEFAULT 0,
    started_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    result         jsonb
)$f$, $1::text) AS statement;
