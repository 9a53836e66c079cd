-- Dead tuples and last (auto)vacuum/analyze of public.health_checks and, for a hypertable, its
-- three newest chunks (where the rows are). Statistics views only: no lock on any table.
-- Read by src/doctor/tables.ts.
WITH rels AS (
    SELECT to_regclass('public.health_checks') AS oid
    UNION ALL
    SELECT format('%I.%I', x.chunk_schema, x.chunk_name)::regclass
    FROM (SELECT ch.chunk_schema, ch.chunk_name
          FROM timescaledb_information.chunks ch
          WHERE ch.hypertable_schema = 'public' AND ch.hypertable_name = 'health_checks'
          ORDER BY ch.range_end DESC NULLS LAST
          LIMIT 3) x
)
SELECT
    format('%I.%I', s.schemaname, s.relname)                   AS relation,
    s.n_live_tup::bigint                                       AS live,
    s.n_dead_tup::bigint                                       AS dead,
    s.n_mod_since_analyze::bigint                              AS modified,
    greatest(s.last_vacuum, s.last_autovacuum)                 AS vacuumed,
    greatest(s.last_analyze, s.last_autoanalyze)               AS analyzed,
    c.reltuples::bigint                                        AS reltuples
FROM rels r
JOIN pg_stat_user_tables s ON s.relid = r.oid
JOIN pg_class c ON c.oid = r.oid
ORDER BY s.relid = to_regclass('public.health_checks') DESC, s.relname DESC;
