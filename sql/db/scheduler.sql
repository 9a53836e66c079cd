-- Is TimescaleDB's job scheduler running for this database, and what can this
-- role see to tell? Read by src/db/capabilities.ts (only where TimescaleDB is installed).
-- pg_stat_activity shows other roles' sessions (the scheduler's among them) only to
-- superusers and members of pg_read_all_stats; for anyone else job_stats is the
-- evidence: only background runs write it (a foreground run_job does not), so a run
-- started after the server started proves a scheduler ran since.
SELECT
    EXISTS (SELECT 1 FROM pg_stat_activity
            WHERE backend_type = 'TimescaleDB Background Worker Scheduler'
              AND datname = current_database())                         AS visible,
    (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user)
      OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER')       AS sees_all_sessions,
    current_setting('timescaledb.max_background_workers', true)         AS max_background_workers,
    (SELECT max(s.last_run_started_at)
       FROM timescaledb_information.job_stats s
      WHERE s.last_run_started_at > pg_postmaster_start_time()
        AND s.last_run_started_at < 'infinity')                         AS last_background_run,
    to_regclass('timescaledb_information.job_errors') IS NOT NULL       AS job_errors;
