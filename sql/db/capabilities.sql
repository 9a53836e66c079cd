-- What this server and role can do; one row. Read by src/capabilities.ts.
-- Safe on any PostgreSQL >= 13, with or without TimescaleDB.
SELECT
    current_setting('server_version')                          AS server_version,
    current_setting('server_version_num')::int                 AS server_version_num,
    -- PGlite (the embedded database) is PostgreSQL compiled to WebAssembly.
    version() ~* 'emscripten'                                  AS pglite,
    current_database()                                         AS database,
    current_user                                               AS role,
    r.rolsuper                                                 AS superuser,
    has_database_privilege(current_database(), 'CREATE')       AS can_create_in_database,
    pg_is_in_recovery()                                        AS in_recovery,
    current_setting('transaction_read_only') = 'on'            AS read_only,
    -- shared_preload_libraries is superuser-only (or pg_read_all_settings):
    -- current_setting() would raise for other roles even with missing_ok, and
    -- pg_settings simply has no row for them, so this is NULL = "can't see".
    (SELECT s.setting FROM pg_settings s WHERE s.name = 'shared_preload_libraries') AS shared_preload_libraries,
    -- Defined only once the timescaledb library is loaded in this backend.
    current_setting('timescaledb.license', true)               AS license,
    a.default_version                                          AS available_version,
    (SELECT bool_or(v.trusted) FROM pg_available_extension_versions v
      WHERE v.name = 'timescaledb')                            AS extension_trusted,
    e.extversion                                               AS installed_version,
    n.nspname                                                  AS extension_schema
FROM pg_roles r
LEFT JOIN pg_available_extensions a ON a.name = 'timescaledb'
LEFT JOIN pg_extension e ON e.extname = 'timescaledb'
LEFT JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE r.rolname = current_user;
