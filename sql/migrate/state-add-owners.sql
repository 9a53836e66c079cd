-- The column for the source's owners of the copied tables, in a state table
-- made by an older homepot-ts (a no-op when it is there).
ALTER TABLE homepot_ts.migration ADD COLUMN IF NOT EXISTS owners pg_catalog.jsonb NOT NULL DEFAULT '[]'
