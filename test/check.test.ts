/**
 * Issue 11 §1 and §2, issue 14 "Replicas": `--check` (a dry run whose exit code says whether
 * changes are pending: 0 in place, 7 pending), refusing before anything changes with the plan
 * still printed, and planning on a streaming replica. Through the built CLI on real servers.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { describeWithDatabase, startReplicaOf, type Replica, type TestDatabase } from './support/databases.js';
import { loadPlainRows, loadSchema } from './support/homepot.js';
import { expectExit, oneLineError, outcomes, query, snapshot } from './support/assertions.js';
import { holdJobs } from './support/jobs.js';

const CHECK_FLAVOURS = ['apache', 'postgres-bare', 'timescale'] as const;

/** `<command> --check --json`: its exit code and the pending step ids, after the usual dry-run checks. */
async function check(db: TestDatabase, command: string[], code: 0 | 7, url = db.url): Promise<string[]> {
  const r = await runCli([...command, '--check', '--json', '--database-url', url]);
  expectExit(r, code);
  const j = r.json();
  expect(j.check).toBe(true);
  expect(j.dryRun).toBe(true);
  expect(j.pending).toBe(code === 7);
  expect(j.changesPending.length > 0).toBe(code === 7);
  return j.changesPending;
}

/** Drop one of the aggregates homepot-ts made, whatever kind it is on this server. */
async function dropAggregate(db: TestDatabase, name: string): Promise<void> {
  const [r] = await query<{ relkind: string }>(db, `SELECT relkind::text FROM pg_class WHERE relname = '${name}'`);
  // A continuous aggregate is a view (relkind v) dropped as a materialized view.
  await query(db, `DROP ${r?.relkind === 'r' ? 'TABLE' : 'MATERIALIZED VIEW'} ${name} CASCADE`);
}

for (const flavour of CHECK_FLAVOURS) {
  describeWithDatabase(flavour, `--check on ${flavour}`, (db) => {
    beforeAll(async () => {
      await loadPlainRows(db().sql());
      await db().closeClients();
    });

    it('exit 7 with the pending steps on a fresh database, nothing changed; 0 after setup and create-aggregates; 7 naming the step after a managed object is dropped', async () => {
      const community = flavour === 'timescale';
      const before = await snapshot(db());
      const pending = await check(db(), ['setup'], 7);
      expect(pending).toContain('index:idx_health_checks_device_time');
      const human = await runCli(['setup', '--check', '--database-url', db().url]);
      expectExit(human, 7);
      expect(human.stdout).toContain('idx_health_checks_device_time');
      expect(human.stderr).toMatch(
        /check: setup has changes pending \(exit 7\): .*index:idx_health_checks_device_time/,
      );
      if (flavour !== 'postgres-bare') {
        // "Is there anything to do": a plain table that holds rows is still to migrate.
        expect(await check(db(), ['migrate-from-postgres'], 7)).toEqual(['public.health_checks']);
      }
      expect(await snapshot(db())).toEqual(before);

      expectExit(await runCli(['setup', '--database-url', db().url]), 0);
      if (community) await holdJobs(db());
      expect(await check(db(), ['setup'], 0)).toEqual([]);
      if (flavour !== 'postgres-bare') expect(await check(db(), ['migrate-from-postgres'], 0)).toEqual([]);
      const aggregates = await check(db(), ['create-aggregates'], 7);
      expect(aggregates).toContain('aggregate:site_metrics_hourly');

      expectExit(await runCli(['create-aggregates', '--database-url', db().url]), 0);
      if (community) await holdJobs(db());
      expect(await check(db(), ['create-aggregates'], 0)).toEqual([]);
      const done = await runCli(['create-aggregates', '--check', '--database-url', db().url]);
      expectExit(done, 0);
      expect(done.stderr).toMatch(/check: create-aggregates has nothing to change/);
      expect(await check(db(), ['setup'], 0)).toEqual([]);

      // Someone drops what the tool manages: the check names exactly that step.
      await query(db(), `DROP INDEX idx_health_checks_device_time`);
      expect(await check(db(), ['setup'], 7)).toEqual(['index:idx_health_checks_device_time']);
      if (community) {
        await query(db(), `SELECT remove_retention_policy('health_checks')`);
        expect(await check(db(), ['setup'], 7)).toEqual(['index:idx_health_checks_device_time', 'retention-policy']);
        await query(db(), `SELECT remove_continuous_aggregate_policy('device_metrics_hourly')`);
        expect(await check(db(), ['create-aggregates'], 7)).toEqual(['policy:device_metrics_hourly']);
      }
      await dropAggregate(db(), 'site_metrics_hourly');
      expect(await check(db(), ['create-aggregates'], 7)).toContain('aggregate:site_metrics_hourly');
    }, 300_000);

    it('a blocker in a later aggregate refuses them all before any is created, and the plan is still printed', async () => {
      // State left by the test above: site_metrics_hourly dropped. A table of someone else's takes its name.
      await query(db(), `CREATE TABLE site_metrics_hourly (x int)`);
      await query(
        db(),
        `DROP ${flavour === 'timescale' ? 'MATERIALIZED VIEW' : 'TABLE'} device_metrics_hourly CASCADE`,
      );
      const before = await snapshot(db());
      const r = await runCli(['create-aggregates', '--json', '--database-url', db().url]);
      expectExit(r, 4);
      const j = r.json();
      expect(j.failedStep).toBe('aggregate:site_metrics_hourly');
      const failed = j.steps.find((s: { id: string }) => s.id === 'aggregate:site_metrics_hourly');
      expect(failed.outcome).toBe('failed');
      expect(failed.error.message).toMatch(/is not an aggregate homepot-ts made/);
      expect(outcomes(j)['aggregate:device_metrics_hourly']).toBe('skipped');
      expect(JSON.parse(r.stderr.trim().split('\n').pop()!).error.kind).toBe('unsuitable-table');
      expect(await snapshot(db())).toEqual(before);
      await query(db(), `DROP TABLE site_metrics_hourly`);
    }, 300_000);
  });
}

for (const flavour of ['apache', 'timescale'] as const) {
  describeWithDatabase(flavour, `setup refuses before changing anything (${flavour})`, (db) => {
    it("HOMEPOT's original PRIMARY KEY (id): exit 4, no extension created, the plan with each step's outcome on stdout", async () => {
      await loadSchema(db().sql());
      await db().sql().unsafe(`ALTER TABLE health_checks DROP CONSTRAINT health_checks_pkey, ADD PRIMARY KEY (id)`);
      await db().closeClients();
      const before = await snapshot(db());
      const extensions = await query(db(), `SELECT extname FROM pg_extension WHERE extname = 'timescaledb'`);
      expect(extensions).toEqual([]);

      const r = await runCli(['setup', '--json', '--database-url', db().url]);
      expectExit(r, 4);
      const j = r.json();
      expect(j.failedStep).toBe('hypertable');
      expect(j.changed).toBe(false);
      expect(outcomes(j).extension).toBe('skipped');
      expect(outcomes(j).hypertable).toBe('failed');
      expect(outcomes(j)['index:idx_health_checks_device_time']).toBe('skipped');
      const failed = j.steps.find((s: { id: string }) => s.id === 'hypertable');
      expect(failed.error.message).toMatch(/unique constraints or indexes without "timestamp".*health_checks_pkey/);
      expect(failed.error.hint).toMatch(/PRIMARY KEY \(id, "timestamp"\)/);
      const err = JSON.parse(r.stderr.trim().split('\n').pop()!).error;
      expect(err.kind).toBe('unsuitable-table');
      expect(err.exitCode).toBe(4);
      expect(await snapshot(db())).toEqual(before);

      const human = await runCli(['setup', '--database-url', db().url]);
      expectExit(human, 4);
      expect(human.stdout).toMatch(/FAILED/);
      expect(human.stdout).toContain('TimescaleDB extension');
      oneLineError(human.stderr, /health_checks_pkey/);
      expect(await snapshot(db())).toEqual(before);
    }, 120_000);
  });
}

describeWithDatabase('apache', 'a streaming replica of the Apache cluster', (db) => {
  let replica: Replica;
  const onReplica = () => replica.urlFor(db().url);
  beforeAll(async () => {
    await loadPlainRows(db().sql());
    await db().closeClients();
    replica = await startReplicaOf(db());
    await replica.caughtUp(db().url);
  }, 120_000);
  afterAll(async () => {
    await replica?.stop();
  });

  it('planning is read-only: --dry-run and --check show what would be done on the primary; changing refuses naming the command', async () => {
    expect(await check(db(), ['setup'], 7, onReplica())).toEqual(
      expect.arrayContaining(['extension', 'hypertable', 'index:idx_health_checks_device_time']),
    );
    const dry = await runCli(['setup', '--dry-run', '--database-url', onReplica()]);
    expectExit(dry, 0);
    expect(dry.stdout).toContain('CREATE EXTENSION IF NOT EXISTS timescaledb CASCADE;');
    expectExit(await runCli(['create-aggregates', '--dry-run', '--json', '--database-url', onReplica()]), 0);
    expect(await check(db(), ['create-aggregates'], 7, onReplica())).toContain('aggregate:device_metrics_hourly');
    expectExit(await runCli(['migrate-from-postgres', '--dry-run', '--json', '--database-url', onReplica()]), 0);
    expect(await check(db(), ['migrate-from-postgres'], 7, onReplica())).toEqual(['public.health_checks']);

    for (const command of [['setup'], ['create-aggregates'], ['migrate-from-postgres'], ['aggregates', 'refresh']]) {
      const r = await runCli([...command, '--database-url', onReplica()]);
      expectExit(r, 6);
      oneLineError(r.stderr, new RegExp(`a replica in recovery\\): ${command.join(' ')} changes nothing here`));
    }
  }, 300_000);

  it('after setup and create-aggregates on the primary, --check on the replica is 0; status says jobs run on the primary', async () => {
    expectExit(await runCli(['setup', '--database-url', db().url]), 0);
    expectExit(await runCli(['create-aggregates', '--database-url', db().url]), 0);
    await replica.caughtUp(db().url);
    expect(await check(db(), ['setup'], 0, onReplica())).toEqual([]);
    expect(await check(db(), ['create-aggregates'], 0, onReplica())).toEqual([]);
    const s = await runCli(['status', '--json', '--database-url', onReplica()]);
    expectExit(s, 0);
    const warnings: string[] = s.json().warnings;
    expect(warnings.join('\n')).toMatch(/replica: background jobs run on the primary/);
    expect(warnings.join('\n')).not.toMatch(/No TimescaleDB job scheduler runs/);
  }, 300_000);
});
