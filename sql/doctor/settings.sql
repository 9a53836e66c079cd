-- The server settings doctor compares (readable by any role), and what this role may see.
-- Read by src/doctor/server.ts.
SELECT
    current_setting('shared_buffers')                                        AS shared_buffers,
    (SELECT s.setting::bigint * pg_size_bytes(s.unit)
       FROM pg_settings s WHERE s.name = 'shared_buffers')                   AS shared_buffers_bytes,
    current_setting('max_worker_processes')::int                             AS max_worker_processes,
    current_setting('max_parallel_workers')::int                             AS max_parallel_workers,
    current_setting('max_locks_per_transaction')::int                        AS max_locks_per_transaction,
    current_setting('max_connections')::int                                  AS max_connections,
    current_setting('max_prepared_transactions')::int                        AS max_prepared_transactions,
    nullif(current_setting('timescaledb.max_background_workers', true), '')::int AS max_background_workers,
    (SELECT count(*)::int FROM pg_stat_activity
      WHERE backend_type = 'TimescaleDB Background Worker Scheduler')        AS schedulers_visible,
    (SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user)
      OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER')            AS sees_all_sessions;
