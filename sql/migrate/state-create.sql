-- Where migrate-from-postgres keeps its place: schema homepot_ts (nobody but
-- its owner may use it) and one row per migrated table, keyed by the table's
-- schema and name. The statements run in order, in one transaction, and the
-- tool checks afterwards that schema and table are its own (owned by the
-- current role or a superuser) before it reads or writes a row.
-- The OIDs recorded are those of the objects the tool created, so abort and
-- cleanup drop exactly those (never by a name read back from this table).
-- phase: copying, catching-up, done (online); copying, finished (--source,
-- ended by migrate-from-postgres finish: finished_at says when).
SELECT statement FROM (VALUES
    (1, 'CREATE SCHEMA IF NOT EXISTS homepot_ts'),
    (2, 'REVOKE ALL ON SCHEMA homepot_ts FROM PUBLIC'),
    (3, $f$CREATE TABLE IF NOT EXISTS homepot_ts.migration (
    schema_name    text NOT NULL,
    table_name     text NOT NULL,
    strategy       text NOT NULL,
    phase          text NOT NULL,
    source         text,
    table_oid      oid,
    new_table      text,
    new_table_oid  oid,
    log_table      text,
    log_table_oid  oid,
    capture_fn     text,
    capture_fn_oid oid,
    old_table      text,
    old_table_oid  oid,
    index_names    jsonb NOT NULL DEFAULT '{}',
    total_blocks   bigint NOT NULL DEFAULT 0,
    next_block     bigint NOT NULL DEFAULT 0,
    copied_blocks  int8multirange NOT NULL DEFAULT '{}',
    -- --source: the integer keys copied from the source (a rerun deletes only rows whose key is here)
    source_keys    int8multirange NOT NULL DEFAULT '{}',
    -- --source: each referenced table's rows as last copied (a hash by natural key), so a rerun
    -- copies what changed on the source and keeps what was changed here
    source_rows    jsonb NOT NULL DEFAULT '{}',
    -- --source: the source's owners of the tables (and sequences) it created here, for roles that
    -- exist here, given to them at finish: [{kind, schema, name, owner}]
    owners         jsonb NOT NULL DEFAULT '[]',
    rows_copied    bigint NOT NULL DEFAULT 0,
    window_seconds integer NOT NULL DEFAULT 3600,
    batches        integer NOT NULL DEFAULT 0,
    started_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    result         jsonb,
    PRIMARY KEY (schema_name, table_name)
)$f$),
    (4, 'REVOKE ALL ON TABLE homepot_ts.migration FROM PUBLIC')
) s(ord, statement) ORDER BY ord;
