/**
 * Fixtures for migrate-from-postgres tests: HOMEPOT's plain (not yet
 * hypertable) health_checks with rows, and ways to fingerprint a table's rows
 * so a migration can be proven to keep every one of them exactly once.
 */
import { loadSchema } from './homepot.js';
import type { Sql } from './pg.js';

export interface PlainHealthChecks {
  /** Health checks to insert (ids 1..rows from the id sequence, in time order). */
  rows: number;
  /** Spread over this many days, ending at the last full hour (default 7). */
  days?: number;
  /** Devices the checks are spread over (default 20). */
  devices?: number;
  /** ANALYZE afterwards (default true); false: no statistics, like a table just restored. */
  analyze?: boolean;
}

/**
 * HOMEPOT's schema (sql/demo/homepot.sql: plain tables, primary key
 * (id, "timestamp")), the index HOMEPOT reads by (idx_health_checks_device_time),
 * one site, `devices` devices and `rows` health checks, deterministic except for
 * the anchor (the last full hour). ANALYZEd (unless analyze: false), so estimates are exact.
 * Works on every flavour (a single INSERT ... SELECT, no COPY).
 */
export async function loadPlainHealthChecks(sql: Sql, opts: PlainHealthChecks): Promise<void> {
  const days = opts.days ?? 7;
  const devices = opts.devices ?? 20;
  await loadSchema(sql);
  await sql.unsafe(`
    CREATE INDEX IF NOT EXISTS idx_health_checks_device_time ON health_checks (device_id, "timestamp" DESC);
    INSERT INTO sites (site_id, name) VALUES ('SITE-MIG', 'Migration site') ON CONFLICT DO NOTHING;
    INSERT INTO devices (device_id, name, device_type, site_id)
      SELECT 'mig-dev-' || i, 'Device ' || i, 'pos_terminal', (SELECT id FROM sites WHERE site_id = 'SITE-MIG')
      FROM generate_series(1, ${devices}) i ON CONFLICT DO NOTHING;`);
  await sql.unsafe(`
    INSERT INTO health_checks (device_id, is_healthy, response_time_ms, status_code, endpoint, response_data, error_message, "timestamp")
    SELECT d.id, i % 17 <> 0, 20 + (i * 7919) % 500, CASE WHEN i % 17 = 0 THEN 503 ELSE 200 END, '/health',
           json_build_object('seq', i, 'ok', i % 17 <> 0), CASE WHEN i % 17 = 0 THEN 'timeout after 5 s' END,
           date_trunc('hour', now()) - interval '${days} days' + (i * interval '${days} days' / ${opts.rows})
    FROM generate_series(1, ${opts.rows}) i
    JOIN devices d ON d.device_id = 'mig-dev-' || (1 + i % ${devices})`);
  if (opts.analyze ?? true) await sql.unsafe(`ANALYZE sites, devices, health_checks`);
}

export interface Fingerprint {
  rows: number;
  /** Sum of a 64-bit hash of every row's text: equal sums, equal rows (order does not matter). */
  checksum: string;
}

/**
 * Row count and checksum of `relation` (optionally filtered by `where`, which may
 * use $1 for `param`): the same function on the expected and the actual side.
 */
export async function fingerprint(sql: Sql, relation: string, where = 'true', param?: unknown): Promise<Fingerprint> {
  const text = `SELECT count(*)::int AS rows, coalesce(sum(hashtextextended(h::text, 0)), 0)::text AS checksum FROM ${relation} h WHERE ${where}`;
  const [r] = param === undefined ? await sql.unsafe(text) : await sql.unsafe(text, [param as never]);
  return { rows: r.rows as number, checksum: r.checksum as string };
}

/** Whether `name` (in public) is a hypertable. */
export async function isHypertable(sql: Sql, name: string): Promise<boolean> {
  const [ext] = await sql.unsafe(`SELECT to_regclass('timescaledb_information.hypertables') IS NOT NULL AS ok`);
  if (!ext?.ok) return false;
  const rows = await sql.unsafe(
    `SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_schema = 'public' AND hypertable_name = $1`,
    [name],
  );
  return rows.length === 1;
}

/**
 * What an online migration leaves behind while it runs (and what abort must
 * remove): the capture triggers, new table, change log, capture function and
 * state row of health_checks.
 */
export async function migrationLeftovers(sql: Sql): Promise<Record<string, unknown>> {
  const [r] = await sql.unsafe(`
    SELECT (SELECT coalesce(array_agg(tgname::text ORDER BY tgname), '{}') FROM pg_trigger
             WHERE tgrelid = to_regclass('public.health_checks') AND tgname LIKE 'homepot_ts_%') AS triggers,
           to_regclass('public.health_checks_tsdb_new')::text AS new_table,
           to_regclass('public.health_checks_tsdb_log')::text AS log_table,
           to_regprocedure('public.health_checks_tsdb_capture()')::text AS capture_fn,
           to_regclass('homepot_ts.migration')::text AS state_table`);
  return { ...r };
}
