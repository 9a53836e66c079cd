import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbedded } from '../src/db/embedded.js';
import { AGGREGATE_NAMES, expectAggregateMatchesSql } from './support/aggregates.js';
import { runCli } from './support/cli.js';

// `demo` needs no server: it starts the embedded TimescaleDB itself.
describe('demo (embedded TimescaleDB, no server)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'homepot-ts-demo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const db = path.join(dir, 'db');

  it('loads a synthetic fleet, runs setup and create-aggregates, and shows status and the seed queries', async () => {
    // DATABASE_URL pointing at a dead server must not be used: demo only writes to the embedded database.
    const r = await runCli(['demo', '--json', '--sites', '2', '--devices', '2', '--days', '2', '--embedded', db], {
      env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/nothing' },
      timeoutMs: 240_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j.load).toMatchObject({ sites: 2, devices: 4, healthChecks: 4 * 2 * 1440 });
    expect(j.setup.steps.find((s: any) => s.id === 'hypertable').outcome).toBe('created');
    expect(j.aggregates.steps.filter((s: any) => s.outcome === 'failed')).toEqual([]);
    expect(j.status.timescaledb.edition).toBe('community');
    expect(j.status.hypertables[0]).toMatchObject({ name: 'health_checks' });
    expect(j.status.aggregates.map((a: any) => a.name).sort()).toEqual([
      'device_metrics_daily',
      'device_metrics_hourly',
      'site_metrics_hourly',
    ]);
    const [device, site, fleet] = j.examples;
    expect(device.rows.length).toBeGreaterThanOrEqual(24);
    expect(device.rows.every((row: any) => row.check_count <= 60)).toBe(true);
    expect(site.rows.length).toBeGreaterThan(24);
    const checks = fleet.rows.reduce((n: number, row: any) => n + Number(row.checks), 0);
    expect(checks).toBe(4 * 2 * 1440);

    // The listed names are not enough: open the demo's database and compare each view, row by
    // row, with plain SQL over health_checks (a missing, extra or wrong row fails).
    const server = await startEmbedded({ dir: db });
    const sql = postgres(server.url, { max: 1, onnotice: () => {} });
    try {
      const kinds = await sql<{ name: string; continuous: boolean }[]>`
        SELECT c.relname AS name, EXISTS (SELECT FROM timescaledb_information.continuous_aggregates a
                                          WHERE a.view_schema = 'public' AND a.view_name = c.relname) AS continuous
        FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY(${AGGREGATE_NAMES})
        ORDER BY 1`;
      expect(kinds).toEqual([...AGGREGATE_NAMES].sort().map((name) => ({ name, continuous: true })));
      for (const name of AGGREGATE_NAMES) expect(await expectAggregateMatchesSql(sql, name), name).toBeGreaterThan(0);
    } finally {
      await sql.end();
      await server.stop();
    }
  }, 300_000);

  it('the saved database keeps its Community edition when each command reopens it', async () => {
    // Each command is a new process that opens the saved directory again: TimescaleDB must be
    // loaded there as on a real server, and PGlite's rollback traces are no server warnings.
    const noWarnings = (stderr: string) =>
      expect(stderr.split('\n').filter((l) => /^warning: server/.test(l))).toEqual([]);
    const status = await runCli(['status', '--json', '--embedded', db]);
    expect(status.code, status.stderr).toBe(0);
    const s = status.json();
    expect(s.timescaledb).toMatchObject({ license: 'timescale', edition: 'community' });
    expect(s.features).toMatchObject({ compression: true, policies: true, continuousAggregates: true });
    noWarnings(status.stderr);

    const retention = await runCli(['retention', 'show', '--json', '--embedded', db]);
    expect(retention.code, retention.stderr).toBe(0);
    expect(retention.json()).toMatchObject({ edition: 'community', policiesAvailable: true });
    const jobId = String(retention.json().policy.jobId);
    const run = await runCli(['jobs', 'run', jobId, '--embedded', db]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`job ${jobId}`);
    noWarnings(run.stderr);

    const list = await runCli(['aggregates', 'list', '--embedded', db]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain('device_metrics_hourly');
    noWarnings(list.stderr);
  }, 300_000);

  it('run again on the same directory: does not load twice, setup reports unchanged', async () => {
    const r = await runCli(['demo', '--embedded', db], { timeoutMs: 240_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('health_checks already holds data');
    expect(r.stdout).toContain('Community (license timescale)');
    expect(r.stdout).toContain('device_metrics_hourly');
    const s = await runCli(['setup', '--json', '--embedded', db]);
    expect(s.code, s.stderr).toBe(0);
    expect(s.json().changed).toBe(false);
  }, 300_000);
});
