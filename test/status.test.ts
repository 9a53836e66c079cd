import { beforeAll, expect, it } from 'vitest';
import { getStatus } from '../src/status.js';
import { detectCapabilities } from '../src/db/capabilities.js';
import { runCli } from './support/cli.js';
import { describeWithDatabase } from './support/databases.js';
import { loadHypertable, loadPlainRows } from './support/homepot.js';
import { failedJobs, holdJobs, NOT_TODAY } from './support/jobs.js';
import type { Sql as LibSql } from '../src/db/connection.js';

// eslint-disable-next-line no-control-regex -- ESC starts the colour codes this looks for
const ANSI = /\u001b\[/;

describeWithDatabase('timescale', 'status on TimescaleDB Community', (db) => {
  beforeAll(async () => {
    const sql = db().sql();
    await loadHypertable(sql);
    await sql.unsafe(
      `ALTER TABLE health_checks SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id', timescaledb.compress_orderby = '"timestamp" DESC, id')`,
    );
    await sql.unsafe(`SELECT compress_chunk(c) FROM show_chunks('health_checks') c ORDER BY c LIMIT 1`);
    // Not due today: a real scheduler's run (it fails on this machine) would add a warning.
    await sql.unsafe(`SELECT add_retention_policy('health_checks', INTERVAL '90 days', initial_start => ${NOT_TODAY})`);
    await db().closeClients();
    // TimescaleDB's own jobs run on a real server (and fail on this machine): hold them.
    await holdJobs(db(), { internal: true });
  });

  it('library: reports the Community edition, the hypertable, compression and the policy job', async () => {
    const sql = db().sql() as unknown as LibSql;
    const caps = await detectCapabilities(sql);
    expect(caps.timescaledb.edition).toBe('community');
    expect(caps.timescaledb.license).toBe('timescale');
    expect(caps.timescaledb.installedVersion).toMatch(/^2\./);
    expect(caps.features).toMatchObject({
      hypertables: true,
      compression: true,
      policies: true,
      continuousAggregates: true,
    });
    const report = await getStatus(sql, { capabilities: caps });
    const ht = report.hypertables.find((h) => h.name === 'health_checks');
    expect(ht).toMatchObject({
      schema: 'public',
      timeColumn: 'timestamp',
      chunks: 4,
      compressionEnabled: true,
      compressedChunks: 1,
    });
    expect(ht!.totalBytes).toBeGreaterThan(0);
    expect(ht!.beforeCompressionBytes).toBeGreaterThan(0);
    expect(report.tables.find((t) => t.name === 'health_checks')?.kind).toBe('hypertable');
    expect(
      report.jobs.some((j) => j.proc.endsWith('policy_retention') && j.hypertable === 'public.health_checks'),
    ).toBe(true);
    if (db().source === 'embedded') {
      // PGlite runs no background workers: status says policies won't run by themselves.
      expect(caps.features.jobScheduler).toBe(false);
      expect(report.warnings).toEqual([expect.stringMatching(/No TimescaleDB job scheduler.*jobs run/)]);
    } else {
      expect(caps.features.jobScheduler).toBe(true);
      // TimescaleDB's own jobs may have run (and failed) before they were held.
      const failed = await failedJobs(db());
      expect(report.warnings).toEqual(
        failed.length ? [expect.stringContaining(`failed on the last run (${failed.join(', ')})`)] : [],
      );
    }
    await db().closeClients();
  });

  it('CLI --json: the documented keys, exit 0, no colour', async () => {
    const r = await runCli(['status', '--json', '--database-url', db().url], { env: { FORCE_COLOR: undefined } });
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    // The README promises these keys; new keys may be added and order is not part of the shape.
    expect(Object.keys(j)).toEqual(
      expect.arrayContaining([
        'connection',
        'server',
        'timescaledb',
        'role',
        'features',
        'tables',
        'hypertables',
        'continuousAggregates',
        'aggregates',
        'jobs',
        'jobErrors',
        'warnings',
      ]),
    );
    expect(j.connection.source).toBe('--database-url');
    expect(j.timescaledb.edition).toBe('community');
    expect(j.hypertables[0]).toMatchObject({
      name: 'health_checks',
      chunks: 4,
      compressedChunks: 1,
      compressionEnabled: true,
    });
    expect(j.jobs.find((x: any) => x.proc.endsWith('policy_retention')).config).toMatchObject({
      drop_after: '90 days',
    });
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('CLI human: one screen naming the edition, hypertable and jobs; colour only when forced', async () => {
    // --wide: full names (terminal.test.ts checks what fits 80 columns).
    const plain = await runCli(['status', '--wide', '--database-url', db().url]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('Community');
    expect(plain.stdout).toContain('public.health_checks');
    expect(plain.stdout).toContain('Background jobs');
    expect(plain.stdout).toContain('Retention Policy');
    expect(plain.stdout).not.toMatch(ANSI);
    const forced = await runCli(['status', '--database-url', db().url], { env: { FORCE_COLOR: '1' } });
    expect(forced.stdout).toMatch(ANSI);
    const noColor = await runCli(['status', '--no-color', '--database-url', db().url], { env: { NO_COLOR: '1' } });
    expect(noColor.stdout).not.toMatch(ANSI);
  });
});

describeWithDatabase('apache', 'status on TimescaleDB Apache edition', (db) => {
  beforeAll(async () => {
    await loadHypertable(db().sql());
    await db().closeClients();
  });

  it('says Apache edition, lists the hypertable, warns what is missing', async () => {
    const r = await runCli(['status', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j.timescaledb).toMatchObject({ edition: 'apache', license: 'apache', preloaded: true });
    expect(j.features).toMatchObject({
      hypertables: true,
      compression: false,
      policies: false,
      continuousAggregates: false,
      jobScheduler: true,
    });
    expect(j.hypertables).toEqual([
      expect.objectContaining({ name: 'health_checks', chunks: 4, compressionEnabled: false }),
    ]);
    expect(j.warnings.join(' ')).toMatch(/Apache-2 edition/);
    const human = await runCli(['status', '--database-url', db().url]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('Apache-2');
    expect(human.stderr).toMatch(/warning: .*Community edition/);
  });
});

describeWithDatabase('postgres', 'status on PostgreSQL without TimescaleDB preloaded', (db) => {
  beforeAll(async () => {
    await loadPlainRows(db().sql());
    await db().closeClients();
  });

  it('exits 0, shows the HOMEPOT tables with sizes and estimates, and says what to do', async () => {
    const r = await runCli(['status', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j.timescaledb.installedVersion).toBeNull();
    expect(j.hypertables).toEqual([]);
    const hc = j.tables.find((t: any) => t.name === 'health_checks');
    expect(hc).toMatchObject({ exists: true, kind: 'table', schema: 'public' });
    expect(hc.rowEstimate).toBeGreaterThan(300);
    expect(hc.totalBytes).toBeGreaterThan(0);
    if (db().info.facts.timescaledb.available) {
      expect(j.warnings.join(' ')).toMatch(/not preloaded.*shared_preload_libraries.*restart/);
    } else {
      expect(j.warnings.join(' ')).toMatch(/not installed/);
    }
    const human = await runCli(['status', '--database-url', db().url]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('health_checks');
    expect(human.stderr).toMatch(/warning: TimescaleDB/);
  });
});

describeWithDatabase('postgres-bare', 'status on PostgreSQL with no TimescaleDB at all', (db) => {
  beforeAll(async () => {
    await loadPlainRows(db().sql());
    await db().closeClients();
  });

  it('exits 0 and says plainly TimescaleDB is not installed, with where to get it', async () => {
    const r = await runCli(['status', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j.timescaledb.availableVersion).toBeNull();
    expect(j.server.kind).toMatch(/no TimescaleDB/);
    expect(j.warnings[0]).toMatch(/TimescaleDB is not installed on this server.*install the timescaledb package/);
    expect(j.tables.map((t: any) => t.exists)).toEqual([true, true, true]);
  });
});
