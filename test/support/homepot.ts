/** HOMEPOT fixtures for tests: the real schema from sql/, plus test-only data. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Sql } from './pg.js';

const read = (rel: string) => readFileSync(fileURLToPath(new URL(rel, import.meta.url)), 'utf8');

/** HOMEPOT's tables, empty (sql/demo/homepot.sql, as the CLI applies it). */
export async function loadSchema(sql: Sql): Promise<void> {
  await sql.unsafe(read('../../sql/demo/homepot.sql'));
}

/** Schema + health_checks as a hypertable with 4 one-day chunks of rows (needs TimescaleDB). */
export async function loadHypertable(sql: Sql): Promise<void> {
  await loadSchema(sql);
  await sql.unsafe(read('../fixtures/hypertable.sql'));
}

/** Schema + a few rows in plain tables (for servers without TimescaleDB). */
export async function loadPlainRows(sql: Sql): Promise<void> {
  await loadSchema(sql);
  await sql.unsafe(`
    INSERT INTO sites (site_id, name) VALUES ('SITE-T1', 'Test site') ON CONFLICT DO NOTHING;
    INSERT INTO devices (device_id, name, device_type, site_id)
      SELECT 'dev-' || i, 'Device ' || i, 'pos_terminal', (SELECT id FROM sites WHERE site_id = 'SITE-T1')
      FROM generate_series(1, 3) i ON CONFLICT DO NOTHING;
    INSERT INTO health_checks (device_id, is_healthy, "timestamp")
      SELECT d.id, true, t FROM devices d, generate_series(now() - INTERVAL '1 day', now(), INTERVAL '10 minutes') t;
    ANALYZE sites, devices, health_checks;`);
}

/** The names of all tables in public: to prove a command changed nothing. */
export async function publicTables(sql: Sql): Promise<string[]> {
  const rows = await sql<{ relname: string }[]>`
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1`;
  return rows.map((r) => r.relname);
}
