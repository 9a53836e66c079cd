import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import postgres from 'postgres';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbedded, type EmbeddedServer } from '../src/db/embedded.js';
import { loadFleet, planFleet, type FleetSpec, type LoadProgress } from '../src/demo/fleet-data.js';

// Database: a throwaway embedded PGlite + TimescaleDB server started here (src/embedded.ts),
// with sql/demo/homepot.sql applied and health_checks made a hypertable, as `demo` does.
// (To be switched to the shared harness in test/support/databases.ts.)

const SLOW = { timeout: 240_000 };
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const END = new Date('2025-03-05T00:00:00Z'); // a Wednesday
/** 12 devices (3 UK sites, UTC) x 2 days x 1/min = 34 560 rows. */
const SPEC: FleetSpec = { sites: 3, devicesPerSite: 4, days: 2, end: END, seed: 7 };
const INTERVALS = 2 * 1440;
const ROWS = 12 * INTERVALS;

const JSON_PATHS = [
  ['system', 'cpu_percent'],
  ['system', 'memory_percent'],
  ['system', 'disk_percent'],
  ['system', 'uptime_seconds'],
  ['app_metrics', 'transactions_count'],
  ['app_metrics', 'errors_count'],
  ['network', 'latency_ms'],
] as const;

describe('fleet data on embedded PGlite + TimescaleDB', SLOW, () => {
  let server: EmbeddedServer;
  let sql: postgres.Sql;

  beforeAll(async () => {
    server = await startEmbedded({ timescaledb: true });
    sql = postgres(server.url, { max: 1, connect_timeout: 60, onnotice: () => {} });
    await sql.unsafe(await readFile(join(ROOT, 'sql/demo/homepot.sql'), 'utf8'));
    await sql`CREATE EXTENSION IF NOT EXISTS timescaledb`;
    await sql`SELECT create_hypertable('health_checks', 'timestamp', chunk_time_interval => interval '1 day')`;
  }, SLOW.timeout);
  afterAll(async () => {
    await sql?.end();
    await server?.stop();
  }, SLOW.timeout);

  /** Order-independent fingerprint of the loaded data (ids excluded: they come from the sequence). */
  async function checksum() {
    const fields = JSON_PATHS.map(([a, b]) => `h.response_data->'${a}'->>'${b}'`).join(', ');
    const [row] = await sql.unsafe<{ n: number; cpu: number; md5: string }[]>(`
      SELECT count(*)::int AS n,
             round(sum((h.response_data->'system'->>'cpu_percent')::numeric), 1)::float8 AS cpu,
             md5(string_agg(concat_ws('|', d.device_id, h."timestamp", h.is_healthy, h.response_time_ms, h.status_code,
                                      h.endpoint, h.error_message, ${fields}), ','
                            ORDER BY d.device_id, h."timestamp")) AS md5
      FROM health_checks h JOIN devices d ON d.id = h.device_id`);
    return row;
  }

  it('plans sizes and the time range without a database, and rejects bad specs', () => {
    const plan = planFleet(SPEC);
    expect(plan).toMatchObject({
      sites: 3,
      devices: 12,
      intervals: INTERVALS,
      healthChecks: ROWS,
      intervalSeconds: 60,
    });
    expect(plan.to).toEqual(END);
    expect(plan.from).toEqual(new Date(END.getTime() - (INTERVALS - 1) * 60_000));
    // default end: now truncated to the interval
    const p2 = planFleet({ sites: 1, devicesPerSite: 1, days: 1, intervalSeconds: 300 });
    expect(p2.to.getTime() % 300_000).toBe(0);
    expect(Date.now() - p2.to.getTime()).toBeLessThan(300_000);
    expect(() => planFleet({ ...SPEC, sites: 0 })).toThrow(RangeError);
    expect(() => planFleet({ ...SPEC, days: -1 })).toThrow(RangeError);
    expect(() => planFleet({ ...SPEC, intervalSeconds: 1.5 })).toThrow(RangeError);
  });

  it('loads one check per device per interval, with progress', async () => {
    const progress: Array<LoadProgress & { at: number }> = [];
    const result = await loadFleet(sql, SPEC, (p) => progress.push({ ...p, at: performance.now() }));

    expect(result).toMatchObject({ sites: 3, devices: 12, healthChecks: ROWS, method: 'unnest' });
    expect(result.from).toEqual(planFleet(SPEC).from);
    expect(result.to).toEqual(END);
    expect(result.rowsPerSecond).toBeGreaterThan(0);

    const [totals] = await sql`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM health_checks`;
    expect(totals).toEqual({ n: ROWS, ids: ROWS });

    const perDevice = await sql<
      { device_id: string; device_type: string; n: number; ts: number; first: Date; last: Date; misaligned: number }[]
    >`
      SELECT d.device_id, d.device_type, count(*)::int AS n, count(DISTINCT h."timestamp")::int AS ts,
             min(h."timestamp") AS first, max(h."timestamp") AS last,
             count(*) FILTER (WHERE extract(epoch FROM h."timestamp")::bigint % 60 <> 0)::int AS misaligned
      FROM health_checks h JOIN devices d ON d.id = h.device_id
      GROUP BY d.device_id, d.device_type ORDER BY d.device_id`;
    expect(perDevice).toHaveLength(12);
    for (const d of perDevice) {
      expect(d).toMatchObject({ n: INTERVALS, ts: INTERVALS, misaligned: 0, first: result.from, last: result.to });
    }
    expect(perDevice.map((d) => d.device_id)).toContain('pos-terminal-001');
    expect(new Set(perDevice.map((d) => d.device_type)).size).toBeGreaterThanOrEqual(4);

    // Progress: at most ~10 a second, rowsDone monotonic, ending at the total.
    expect(progress.length).toBeGreaterThan(0);
    const last = progress.at(-1)!;
    expect(last).toMatchObject({ rowsDone: ROWS, rowsTotal: ROWS, etaMs: 0 });
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i].rowsDone).toBeGreaterThanOrEqual(progress[i - 1].rowsDone);
      expect(progress[i].elapsedMs).toBeGreaterThanOrEqual(progress[i - 1].elapsedMs);
      if (i < progress.length - 1) expect(progress[i].at - progress[i - 1].at).toBeGreaterThanOrEqual(95);
    }
    for (const p of progress) {
      expect(p.rowsTotal).toBe(ROWS);
      if (p.rowsDone > 0) expect(p.rowsPerSecond).toBeGreaterThan(0);
      if (p.rowsDone > 0 && p.rowsDone < ROWS) expect(p.etaMs).toBeGreaterThan(0);
    }
  });

  it('writes values in range, with JSON numbers at the documented paths', async () => {
    for (const [a, b] of JSON_PATHS) {
      const [row] = await sql.unsafe(
        `SELECT count(*) FILTER (WHERE json_typeof(response_data->'${a}'->'${b}') IS DISTINCT FROM 'number')::int AS bad,
                min((response_data->'${a}'->>'${b}')::float8) AS lo, max((response_data->'${a}'->>'${b}')::float8) AS hi
         FROM health_checks`,
      );
      expect(row.bad, `${a}.${b}`).toBe(0);
      expect(row.lo, `${a}.${b}`).toBeGreaterThanOrEqual(0);
      if (b.endsWith('_percent')) expect(row.hi, `${a}.${b}`).toBeLessThanOrEqual(100);
    }
    const [r] = await sql`
      SELECT count(*) FILTER (WHERE is_healthy <> (status_code = 200))::int AS status_mismatch,
             count(*) FILTER (WHERE is_healthy <> (error_message IS NULL))::int AS message_mismatch,
             count(*) FILTER (WHERE status_code NOT IN (200, 500, 503))::int AS odd_status,
             count(*) FILTER (WHERE endpoint IS NULL OR response_time_ms IS NULL OR response_time_ms <= 0)::int AS missing,
             count(*) FILTER (WHERE NOT is_healthy)::int AS unhealthy,
             avg(response_time_ms) FILTER (WHERE is_healthy)::float8 AS healthy_ms,
             avg(response_time_ms) FILTER (WHERE NOT is_healthy)::float8 AS unhealthy_ms
      FROM health_checks`;
    expect(r).toMatchObject({ status_mismatch: 0, message_mismatch: 0, odd_status: 0, missing: 0 });
    // occasional unhealthy spells: some, but a small share
    expect(r.unhealthy).toBeGreaterThan(0);
    expect(r.unhealthy).toBeLessThan(ROWS * 0.05);
    expect(r.unhealthy_ms).toBeGreaterThan(5 * r.healthy_ms);
  });

  it('looks like a fleet: busy hours, growing disks, uptime that runs and resets', async () => {
    // These three sites are in the UK (UTC): busy in the afternoon, quiet at night.
    const [cycle] = await sql`
      SELECT avg((h.response_data->'system'->>'cpu_percent')::float8)
               FILTER (WHERE extract(hour FROM h."timestamp" AT TIME ZONE 'UTC') BETWEEN 12 AND 18)::float8 AS busy_cpu,
             avg((h.response_data->'system'->>'cpu_percent')::float8)
               FILTER (WHERE extract(hour FROM h."timestamp" AT TIME ZONE 'UTC') BETWEEN 1 AND 5)::float8 AS night_cpu,
             sum((h.response_data->'app_metrics'->>'transactions_count')::int)
               FILTER (WHERE extract(hour FROM h."timestamp" AT TIME ZONE 'UTC') BETWEEN 12 AND 18)::int AS busy_tx,
             sum((h.response_data->'app_metrics'->>'transactions_count')::int)
               FILTER (WHERE extract(hour FROM h."timestamp" AT TIME ZONE 'UTC') BETWEEN 1 AND 5)::int AS night_tx,
             sum((h.response_data->'app_metrics'->>'transactions_count')::int) FILTER (WHERE d.device_type = 'router')::int AS router_tx
      FROM health_checks h JOIN devices d ON d.id = h.device_id WHERE d.device_type = 'pos_terminal' OR d.device_type = 'router'`;
    expect(cycle.busy_cpu).toBeGreaterThan(cycle.night_cpu * 1.5);
    expect(cycle.busy_tx).toBeGreaterThan(cycle.night_tx * 5);
    expect(cycle.router_tx).toBe(0);

    const [disk] = await sql`
      SELECT avg((response_data->'system'->>'disk_percent')::float8) FILTER (WHERE "timestamp" < ${END} - interval '1 day')::float8 AS day1,
             avg((response_data->'system'->>'disk_percent')::float8) FILTER (WHERE "timestamp" >= ${END} - interval '1 day')::float8 AS day2
      FROM health_checks`;
    expect(disk.day2).toBeGreaterThan(disk.day1);

    // Uptime goes up by the interval from one check to the next, except after a reboot.
    const [up] = await sql`
      SELECT count(*) FILTER (WHERE up - prev = 60)::int AS running,
             count(*) FILTER (WHERE up < prev)::int AS reboots,
             count(*) FILTER (WHERE up - prev <> 60 AND up >= prev)::int AS odd
      FROM (SELECT (response_data->'system'->>'uptime_seconds')::bigint AS up,
                   lag((response_data->'system'->>'uptime_seconds')::bigint) OVER (PARTITION BY device_id ORDER BY "timestamp") AS prev
            FROM health_checks) t
      WHERE prev IS NOT NULL`;
    expect(up.odd).toBe(0);
    expect(up.reboots).toBeGreaterThan(0);
    expect(up.running + up.reboots).toBe(ROWS - 12);
  });

  it('is deterministic for a seed, whatever the method and batch size; sites and devices are idempotent', async () => {
    const first = await checksum();
    expect(first.n).toBe(ROWS);
    const fleet = async () =>
      sql`SELECT (SELECT count(*)::int FROM sites) AS sites, (SELECT count(*)::int FROM devices) AS devices,
                 (SELECT string_agg(id || ':' || device_id, ',' ORDER BY id) FROM devices) AS ids`;
    const [before] = await fleet();
    expect(before).toMatchObject({ sites: 3, devices: 12 });

    await sql`TRUNCATE health_checks`;
    const again = await loadFleet(sql, { ...SPEC, method: 'insert', batchRows: 777 });
    expect(again.method).toBe('insert');
    expect(await checksum()).toEqual(first);
    const [after] = await fleet();
    expect(after).toEqual(before);

    await sql`TRUNCATE health_checks`;
    await loadFleet(sql, { ...SPEC, seed: 8 });
    const other = await checksum();
    expect(other.n).toBe(ROWS);
    expect(other.md5).not.toBe(first.md5);
    expect(other.cpu).not.toBe(first.cpu);
  });

  it('refuses COPY on PGlite without harming the server', async () => {
    await expect(loadFleet(sql, { ...SPEC, method: 'copy' })).rejects.toThrow(/COPY FROM STDIN is not supported/);
    const [row] = await sql`SELECT 1 AS ok`;
    expect(row).toEqual({ ok: 1 });
  });

  it('stops between batches when aborted, leaving nothing behind and the connection usable', async () => {
    await sql`TRUNCATE health_checks`;
    const controller = new AbortController();
    const reason = new Error('user pressed Ctrl-C');
    const load = loadFleet(
      sql,
      { ...SPEC, batchRows: 1000 },
      (p) => {
        if (p.rowsDone > 0) controller.abort(reason);
      },
      controller.signal,
    );
    await expect(load).rejects.toBe(reason);
    const [row] = await sql`SELECT count(*)::int AS n FROM health_checks`;
    expect(row.n).toBe(0); // one transaction, rolled back

    const already = AbortSignal.abort(reason);
    await expect(loadFleet(sql, SPEC, undefined, already)).rejects.toBe(reason);
  });

  it('splits large statements for the embedded server (a fleet of 600 devices)', async () => {
    await sql`TRUNCATE health_checks`;
    // One check per device: ~160 kB of rows and ~60 kB of devices, over pglite-socket's 64 kB limit.
    const result = await loadFleet(sql, {
      sites: 30,
      devicesPerSite: 20,
      days: 1 / 24,
      intervalSeconds: 3600,
      end: END,
    });
    expect(result).toMatchObject({ devices: 600, healthChecks: 600 });
    const [row] = await sql`
      SELECT count(*)::int AS n, count(DISTINCT device_id)::int AS devices,
             (SELECT count(*)::int FROM sites WHERE site_id LIKE 'SITE-%') AS sites
      FROM health_checks`;
    expect(row).toEqual({ n: 600, devices: 600, sites: 30 });
  });
});
