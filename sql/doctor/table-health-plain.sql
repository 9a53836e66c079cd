-- Dead tuples and last (auto)vacuum/analyze of public.health_checks, where TimescaleDB is not
-- installed (no chunks). Read by src/doctor/tables.ts.
SELECT
    format('%I.%I', s.schemaname, s.relname)                   AS relation,
    s.n_live_tup::bigint                                       AS live,
    s.n_dead_tup::bigint                                       AS dead,
    s.n_mod_since_analyze::bigint                              AS modified,
    greatest(s.last_vacuum, s.last_autovacuum)                 AS vacuumed,
    greatest(s.last_analyze, s.last_autoanalyze)               AS analyzed,
    c.reltuples::bigint                                        AS reltuples
FROM pg_stat_user_tables s
JOIN pg_class c ON c.oid = s.relid
WHERE s.relid = to_regclass('public.health_checks');
