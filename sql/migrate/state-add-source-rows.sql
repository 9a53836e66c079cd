-- The column for the referenced tables' rows as last copied, in a state
-- table made by an older homepot-ts (a no-op when it is there).
ALTER TABLE homepot_ts.migration ADD COLUMN IF NOT EXISTS source_rows pg_catalog.jsonb NOT NULL DEFAULT '{}'
