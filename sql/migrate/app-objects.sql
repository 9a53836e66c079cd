-- What the application relies on around a table that a hypertable cannot
-- carry, or that a swap would leave with the old table
-- (migrate-from-postgres). $1 table oid.
SELECT
    -- Rules (CREATE RULE ... DO ALSO ...): hypertables refuse them (0A000),
    -- and a swap would leave them on the old table. A view's own _RETURN rule
    -- is not one.
    coalesce((SELECT array_agg(r.rulename::text ORDER BY r.rulename) FROM pg_catalog.pg_rewrite r
              WHERE r.ev_class = $1::pg_catalog.oid AND r.rulename <> '_RETURN'), '{}') AS rules,
    -- Publications that list the table: TimescaleDB refuses a hypertable on a
    -- published table (TS101), and a swap would leave subscribers on the old one.
    -- (FOR ALL TABLES and FOR TABLES IN SCHEMA publications take the new table by themselves.)
    coalesce((SELECT array_agg(p.pubname::text ORDER BY p.pubname) FROM pg_catalog.pg_publication_rel pr
              JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid
              WHERE pr.prrelid = $1::pg_catalog.oid), '{}') AS publications,
    -- Objects bound to the table or its row type by OID (functions returning
    -- SETOF the table or taking it as an argument, columns of that type in other
    -- tables, SQL-standard function bodies): after a swap they stay with the old
    -- table, which cannot be dropped while they do. Views and foreign keys are
    -- checked on their own; the table's own parts depend automatically ('a').
    coalesce((SELECT array_agg(DISTINCT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid))
              FROM pg_catalog.pg_depend d
              WHERE d.deptype = 'n'
                AND d.classid NOT IN ('pg_catalog.pg_rewrite'::pg_catalog.regclass, 'pg_catalog.pg_constraint'::pg_catalog.regclass)
                AND ((d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = $1::pg_catalog.oid)
                     OR (d.refclassid = 'pg_catalog.pg_type'::pg_catalog.regclass
                         AND d.refobjid = (SELECT c.reltype FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.oid)))), '{}') AS dependents,
    -- CHECK constraints added NOT VALID: rows older than them may break them,
    -- and moving the rows into chunks checks every row (23514).
    coalesce((SELECT array_agg(con.conname::text ORDER BY con.conname) FROM pg_catalog.pg_constraint con
              WHERE con.conrelid = $1::pg_catalog.oid AND con.contype = 'c' AND NOT con.convalidated), '{}') AS not_valid_checks;
