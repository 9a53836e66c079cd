/**
 * `doctor` (issue 12 §4) on real servers: clean (exit 0) on a database that
 * `setup` and `create-aggregates` just prepared, on each server kind; and
 * each condition it looks for, created for real, reported with its fix and
 * the documented exit code (8 warnings, 10 problems).
 */
import { expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { describeWithDatabase, type Flavour, type TestDatabase } from './support/databases.js';
import { loadFleet } from './support/aggregates.js';
import { loadSchema } from './support/homepot.js';
import { holdJobs, NOT_TODAY, recordFailedRun, waitForScheduler } from './support/jobs.js';
import { findPostgres, runAsForRoot, startLocalCluster } from './support/local-cluster.js';
import { client, withDatabase } from './support/pg.js';

const LONG = { timeoutMs: 180_000 };

interface Check {
  id: string;
  group: string;
  status: 'ok' | 'warning' | 'problem' | 'n/a';
  finding: string;
  found: Record<string, any>;
  fix: { kind: string; text: string } | null;
}

async function doctor(db: TestDatabase): Promise<{ code: number | null; checks: Record<string, Check>; report: any }> {
  const r = await runCli(['doctor', '--json', '--database-url', db.url], LONG);
  expect(r.stderr).toBe('');
  const report = r.json();
  return { code: r.code, checks: Object.fromEntries(report.checks.map((c: Check) => [c.id, c])), report };
}

/** Checks that are neither ok nor n/a, as `id: finding`. */
function notOk(checks: Record<string, Check>): string[] {
  return Object.values(checks)
    .filter((c) => c.status === 'warning' || c.status === 'problem')
    .map((c) => `${c.id}: ${c.finding}`);
}

const realScheduler = (db: TestDatabase) => db.source !== 'embedded';

for (const flavour of ['timescale', 'apache', 'postgres-bare'] as Flavour[]) {
  describeWithDatabase(flavour, 'doctor after setup and create-aggregates', (db) => {
    it('is clean: exit 0, every check ok or n/a with why; the table fits 80 columns', async () => {
      const timescale = flavour !== 'postgres-bare';
      await loadFleet(db().sql(), { timescale, days: 3 });
      await db().closeClients();
      for (const args of [['setup'], ['create-aggregates']]) {
        const r = await runCli([...args, '--database-url', db().url], LONG);
        expect(r.code, r.stderr).toBe(0);
      }
      if (flavour === 'timescale') await holdJobs(db(), { internal: true });
      if (timescale && realScheduler(db())) await waitForScheduler(db());
      const { code, checks } = await doctor(db());
      const left = notOk(checks);
      if (flavour === 'timescale' && realScheduler(db()) && left.length > 0) {
        // PostgreSQL 15.20 here: every background job fails ("cannot drop portal"); the jobs that
        // started before holdJobs are reported as such, and nothing else (issue 14).
        expect(
          left.every((l) => /^jobs-(failing|common-error):/.test(l)),
          left.join('\n'),
        ).toBe(true);
        for (const f of checks['jobs-failing'].found.failing) expect(f.message).toMatch(/cannot drop portal/);
        expect(code).toBe(10);
      } else {
        expect(left, left.join('\n')).toEqual([]);
        expect(code).toBe(0);
      }
      for (const c of Object.values(checks)) {
        expect(c.finding.length, c.id).toBeGreaterThan(0);
        if (c.status === 'warning' || c.status === 'problem') expect(c.fix, c.id).not.toBeNull();
      }
      expect(checks['index-recommended'].status).toBe('ok');
      expect(checks['aggregates-present'].status).toBe('ok');
      if (flavour === 'postgres-bare') {
        expect(checks['extension-available']).toMatchObject({
          status: 'n/a',
          finding: expect.stringMatching(/plain PostgreSQL/),
        });
        expect(checks['retention-policy']).toMatchObject({
          status: 'n/a',
          fix: { kind: 'command', text: expect.stringMatching(/retention run --older-than '90 days'/) },
        });
      }
      if (flavour === 'apache') {
        expect(checks['compression-enabled']).toMatchObject({
          status: 'n/a',
          finding: 'the Apache edition has no compression',
        });
        expect(checks.scheduler.status).toBe('ok');
        expect(checks['aggregates-policy'].status).toBe('n/a');
      }
      if (flavour === 'timescale') {
        expect(checks['compression-policy'].status).toBe('ok');
        expect(checks['aggregates-policy'].status).toBe('ok');
      }

      const human = await runCli(['doctor', '--no-color', '--database-url', db().url], {
        ...LONG,
        env: { COLUMNS: '80' },
      });
      expect(human.code).toBe(code);
      const lines = human.stdout.split('\n');
      expect(lines.filter((l) => l.length > 80)).toEqual([]);
      expect(human.stdout).toMatch(/│ index-recommended +│ ok +│/);
      expect(human.stdout).toMatch(/\d+ ok, \d+ warnings?, \d+ problems?, \d+ not applicable/);
    });
  });
}

describeWithDatabase('postgres-bare', 'doctor on plain PostgreSQL: indexes and table health', (db) => {
  it('an un-analyzed table, a missing recommended index and duplicate indexes: warnings (exit 8) with fixes', async () => {
    const sql = db().sql();
    await loadSchema(sql);
    await sql.unsafe(`
      INSERT INTO sites (site_id, name) VALUES ('S1', 'Site 1');
      INSERT INTO devices (device_id, name, device_type, site_id) SELECT 'd' || i, 'D' || i, 'pos', 1 FROM generate_series(1, 3) i;
      INSERT INTO health_checks (device_id, is_healthy, "timestamp")
        SELECT d.id, true, t FROM devices d, generate_series(now() - INTERVAL '1 day', now(), INTERVAL '5 minutes') t;
      CREATE INDEX hc_time_a ON health_checks ("timestamp");
      CREATE INDEX hc_time_b ON health_checks ("timestamp");`);
    // HOMEPOT's schema has no (device_id, "timestamp" DESC) index of its own: setup adds it.
    const [ix] = await sql.unsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'health_checks' AND indexdef ~ 'device_id, "timestamp" DESC'`,
    );
    expect(ix.n).toBe(0);
    await db().closeClients();

    const before = await doctor(db());
    expect(before.code).toBe(8);
    expect(before.checks['table-analyzed']).toMatchObject({
      status: 'warning',
      finding: 'never analyzed: public.health_checks',
      fix: { kind: 'sql', text: 'ANALYZE public.health_checks;' },
    });
    expect(before.checks['index-recommended']).toMatchObject({
      status: 'warning',
      fix: { kind: 'command', text: expect.stringMatching(/^homepot-ts setup/) },
    });
    expect(before.checks['index-duplicates']).toMatchObject({
      status: 'warning',
      found: { duplicates: [{ index: 'hc_time_b', sameAs: 'hc_time_a' }] },
      fix: { kind: 'sql', text: 'DROP INDEX CONCURRENTLY public.hc_time_b;' },
    });
    expect(before.report.status).toBe('warning');

    // The fixes, applied as printed, clear each finding.
    await db().sql().unsafe(before.checks['table-analyzed'].fix!.text);
    await db().sql().unsafe(before.checks['index-duplicates'].fix!.text);
    await db().closeClients();
    expect((await runCli(['setup', '--database-url', db().url], LONG)).code).toBe(0);
    const after = await doctor(db());
    // What is left: this database never had its aggregates made.
    expect(notOk(after.checks)).toEqual([
      'aggregates-present: missing: device_metrics_hourly, device_metrics_daily, site_metrics_hourly',
    ]);
    expect(after.code).toBe(8);
  });
});

describeWithDatabase('timescale', 'doctor and status on jobs that all fail with the same error', (db) => {
  async function addFailingJobs(startNow: boolean): Promise<number[]> {
    const sql = db().sql();
    await sql.unsafe(`CREATE EXTENSION IF NOT EXISTS timescaledb`);
    await sql.unsafe(
      // With a real scheduler the procedure succeeds (as it does in the foreground): only the
      // server makes its background runs fail. Without one, the failures are recorded below.
      `CREATE PROCEDURE public.doctor_boom(job_id int, config jsonb) LANGUAGE plpgsql AS $$ BEGIN ${startNow ? 'NULL' : "RAISE EXCEPTION 'boom'"}; END $$`,
    );
    const start = startNow ? 'now()' : NOT_TODAY;
    const ids: number[] = [];
    for (let i = 0; i < 2; i++) {
      const [r] = await sql.unsafe<{ id: number }[]>(
        `SELECT add_job('public.doctor_boom', INTERVAL '1 hour', initial_start => ${start}) AS id`,
      );
      ids.push(Number(r.id));
    }
    await db().closeClients();
    return ids;
  }

  /** Until both jobs' last background run failed (the real scheduler starts them at once). */
  async function waitForFailures(ids: number[]): Promise<void> {
    const sql = db().sql();
    for (let i = 0; i < 450; i++) {
      const [r] = await sql.unsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM timescaledb_information.job_stats WHERE job_id = ANY($1::int[]) AND last_run_status = 'Failed'`,
        [ids],
      );
      if (r?.n === ids.length) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    await db().closeClients();
  }

  it('says once that every failing job fails with one error, with the cron advice (exit 10)', async () => {
    let ids: number[];
    let expected: { sqlerrcode: string; message: RegExp; advice: RegExp };
    if (realScheduler(db())) {
      // A real Community server on PostgreSQL 15.20: every background job fails the same way
      // (issue 14), whatever its procedure does; the scheduler runs these at once.
      ids = await addFailingJobs(true);
      await waitForFailures(ids);
      await holdJobs(db(), { internal: true });
      expected = { sqlerrcode: '24000', message: /cannot drop portal/, advice: /PostgreSQL 15\.20.*jobs run <id>/ };
    } else {
      // No scheduler (embedded): record two failed background runs as the scheduler would.
      ids = await addFailingJobs(false);
      for (const id of ids) await recordFailedRun(db(), id, 'P0001', 'boom');
      expected = { sqlerrcode: 'P0001', message: /\bboom\b/, advice: /jobs run <id>, run it from cron/ };
    }

    const status = await runCli(['status', '--json', '--database-url', db().url], LONG);
    expect(status.code, status.stderr).toBe(0);
    const s = status.json();
    expect(s.jobFailures.commonError, JSON.stringify([s.warnings, s.jobErrors])).toMatchObject({
      sqlerrcode: expected.sqlerrcode,
      message: expected.message,
    });
    expect(s.jobFailures.commonError.jobIds).toEqual(expect.arrayContaining(ids));
    const lines = s.warnings.filter((w: string) => /fail/.test(w));
    expect(lines).toEqual([expect.stringMatching(/^every failing job \(.*\) fails with the same error/)]);
    expect(lines[0]).toMatch(expected.advice);

    const { code, checks } = await doctor(db());
    expect(code).toBe(10);
    expect(checks['jobs-failing'].status).toBe('problem');
    expect(checks['jobs-common-error']).toMatchObject({
      status: 'problem',
      finding: expect.stringMatching(expected.message),
      found: { commonError: { sqlerrcode: expected.sqlerrcode } },
      fix: { kind: 'command' },
    });
    for (const id of ids) expect(checks['jobs-common-error'].fix!.text).toContain(`homepot-ts jobs run ${id} --quiet`);

    if (!realScheduler(db())) {
      // One of them now fails differently: no common error, and status lists them instead.
      await recordFailedRun(db(), ids[1], 'P0001', 'another failure');
      const again = await doctor(db());
      expect(again.checks['jobs-common-error'].status).toBe('ok');
      expect(again.checks['jobs-failing'].finding).toMatch(/^2 jobs failed on the last run/);
      const st = (await runCli(['status', '--json', '--database-url', db().url], LONG)).json();
      expect(st.jobFailures.commonError).toBeNull();
      expect(st.warnings).toContainEqual(expect.stringMatching(/^2 background jobs failed on the last run/));
    }
  });
});

describeWithDatabase('apache', 'doctor on an aggregate whose refresh stopped', (db) => {
  it('reports the stale aggregate with the refresh command (exit 8), and is clean after it', async () => {
    await loadFleet(db().sql(), { timescale: true, days: 3 });
    await db().closeClients();
    expect((await runCli(['create-aggregates', '--database-url', db().url], LONG)).code).toBe(0);
    await waitForScheduler(db());
    // As if the cron refresh had stopped a day ago.
    await db().sql().unsafe(`DELETE FROM device_metrics_hourly WHERE hour >= now() - INTERVAL '1 day'`);
    await db().closeClients();
    const { code, checks } = await doctor(db());
    expect(checks['aggregates-lag']).toMatchObject({
      status: 'warning',
      finding: expect.stringMatching(/^device_metrics_hourly behind the raw data by \d+ h$/),
      fix: { kind: 'command', text: 'homepot-ts aggregates refresh device_metrics_hourly' },
    });
    expect(code).toBe(8);
    expect(
      (await runCli(['aggregates', 'refresh', 'device_metrics_hourly', '--database-url', db().url], LONG)).code,
    ).toBe(0);
    expect((await doctor(db())).checks['aggregates-lag'].status).toBe('ok');
  });
});

describeWithDatabase('apache', 'doctor on a server with small limits', () => {
  it('1,000+ chunks, few lock slots, small shared_buffers, one background worker: found with fixes (exit 10)', async () => {
    const pg = findPostgres();
    const as = runAsForRoot();
    if ('reason' in pg) throw new Error(pg.reason);
    if (as && 'reason' in as) throw new Error(as.reason);
    const cluster = await startLocalCluster({
      name: 'doctor-limits',
      pg,
      as,
      settings: {
        shared_preload_libraries: "'timescaledb'",
        'timescaledb.license': "'apache'",
        'timescaledb.telemetry_level': 'off',
        'timescaledb.max_background_workers': '1',
        max_worker_processes: '8',
        shared_buffers: "'1MB'",
        max_connections: '40',
        max_locks_per_transaction: '10',
      },
    });
    const url = withDatabase(cluster.adminUrl, 'postgres');
    const sql = client(url, { max: 1 });
    try {
      await loadSchema(sql);
      await sql.unsafe(`CREATE EXTENSION IF NOT EXISTS timescaledb`);
      await sql.unsafe(`SELECT create_hypertable('health_checks', by_range('timestamp', INTERVAL '1 hour'))`);
      await sql.unsafe(`
        INSERT INTO sites (site_id, name) VALUES ('S1', 'Site 1');
        INSERT INTO devices (device_id, name, device_type, site_id) SELECT 'd' || i, 'D' || i, 'pos', 1 FROM generate_series(1, 3) i;`);
      // 1,010 one-hour chunks, 30 per statement: one INSERT into all of them would run out of lock slots.
      for (let h = 1010; h > 0; h -= 30) {
        await sql.unsafe(
          `INSERT INTO health_checks (device_id, is_healthy, "timestamp")
           SELECT 1, true, date_trunc('hour', now()) - make_interval(hours => g) FROM generate_series($1::int - 29, $1::int) g WHERE g > 0`,
          [h],
        );
      }
      // The newest chunk: 20,000 checks in the current hour, bigger than shared_buffers.
      await sql.unsafe(
        `INSERT INTO health_checks (device_id, is_healthy, response_time_ms, "timestamp")
         SELECT 1 + g % 3, true, g % 100, date_trunc('hour', now()) + make_interval(secs => g * 0.1) FROM generate_series(1, 20000) g`,
      );
      await sql.end();

      const r = await runCli(['doctor', '--json', '--database-url', url], LONG);
      expect(r.stderr).toBe('');
      const checks: Record<string, Check> = Object.fromEntries(r.json().checks.map((c: Check) => [c.id, c]));
      expect(checks['chunk-count']).toMatchObject({
        status: 'warning',
        finding: '1,011 chunks in health_checks (over 1,000)',
        fix: { kind: 'command', text: expect.stringMatching(/^homepot-ts chunk-interval set/) },
      });
      expect(checks.locks).toMatchObject({
        status: 'problem',
        found: { maxLocksPerTransaction: 10, lockTableSlots: 400, chunks: 1011 },
        fix: { kind: 'config', text: expect.stringMatching(/^max_locks_per_transaction = \d+/) },
      });
      expect(checks['chunk-memory']).toMatchObject({
        status: 'warning',
        finding: expect.stringMatching(/shared_buffers 1MB \(proxy for 25% of memory\)/),
        fix: { kind: 'command' },
      });
      expect(checks['chunk-memory'].found.recentChunksBytes).toBeGreaterThan(1024 * 1024);
      expect(checks['background-workers']).toMatchObject({
        status: 'warning',
        found: { maxBackgroundWorkers: 1 },
        fix: { kind: 'config', text: expect.stringMatching(/^timescaledb\.max_background_workers = \d+/) },
      });
      expect(r.code).toBe(10);
    } finally {
      await sql.end().catch(() => undefined);
      await cluster.stop();
    }
  }, 300_000);
});
