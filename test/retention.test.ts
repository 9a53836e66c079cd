import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliInterrupted } from './support/cli.js';
import { catalogSnapshot } from './support/catalog.js';
import { describeWithDatabase, type Sql, type TestDatabase } from './support/databases.js';
import { loadSchema } from './support/homepot.js';
import { expectReadOnlyRefusal, oneLineError, outcomes, query } from './support/assertions.js';
import { holdJobs, lastRunStartedAt, NOT_TODAY } from './support/jobs.js';

/**
 * HOMEPOT's schema with 3 devices reporting every hour for the last 120 days
 * (8,643 rows), offset by 30 minutes so no row sits on a 90-day cutoff while
 * a test runs. hypertable: 7-day chunks (the seed's design).
 */
async function loadOldRows(sql: Sql, hypertable: boolean): Promise<void> {
  await loadSchema(sql);
  if (hypertable) {
    await sql.unsafe(`
      CREATE EXTENSION IF NOT EXISTS timescaledb;
      SELECT create_hypertable('health_checks', by_range('timestamp', INTERVAL '7 days'));`);
  }
  await sql.unsafe(`
    INSERT INTO sites (site_id, name) VALUES ('SITE-R', 'Retention site');
    INSERT INTO devices (device_id, name, device_type, site_id)
      SELECT 'dev-' || i, 'Device ' || i, 'pos_terminal', (SELECT id FROM sites WHERE site_id = 'SITE-R')
      FROM generate_series(1, 3) i;
    INSERT INTO health_checks (device_id, is_healthy, response_time_ms, status_code, "timestamp")
      SELECT d.id, true, 20, 200, t
      FROM devices d, generate_series(now() - INTERVAL '120 days' + INTERVAL '30 minutes', now(), INTERVAL '1 hour') t;
    ANALYZE health_checks;`);
}

/** Run a query on the test's own client, then let go of it (embedded: one connection at a time). */
async function snapshot(db: TestDatabase) {
  const s = await catalogSnapshot(db.sql());
  const [n] = await db.sql().unsafe(`SELECT count(*)::int AS n FROM health_checks`);
  await db.closeClients();
  return { s, rows: n.n };
}

/** What drop_chunks(older_than => 90 days) must remove, worked out from the chunk catalog. */
async function expectedDrop(db: TestDatabase) {
  const [r] = await query<{ chunks: number; rows: number; boundary: Date }>(
    db,
    `
    WITH old AS (SELECT range_end FROM timescaledb_information.chunks
                 WHERE hypertable_name = 'health_checks' AND range_end <= now() - INTERVAL '90 days')
    SELECT (SELECT count(*)::int FROM old) AS chunks,
           (SELECT count(*)::int FROM health_checks WHERE "timestamp" < (SELECT max(range_end) FROM old)) AS rows,
           (SELECT max(range_end) FROM old) AS boundary`,
  );
  return r;
}

describe('retention and chunk-interval: bad input is refused before connecting', () => {
  for (const args of [
    ['retention', 'set', '7 dayz'],
    ['retention', 'run', '--older-than', '-1 day'],
    ['retention', 'run', '--batch-rows', '0'],
    ['chunk-interval', 'set', '0 days'],
  ]) {
    it(args.join(' '), async () => {
      const r = await runCli([...args, '--database-url', 'postgres://u@127.0.0.1:1/db']);
      expect(r.code).toBe(2);
      expect(
        r.stderr
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('error:')),
      ).toHaveLength(1);
    });
  }
});

describeWithDatabase('timescale', 'retention on TimescaleDB Community', (db) => {
  beforeAll(async () => {
    const sql = db().sql();
    await loadOldRows(sql, true);
    // The compression policy is there for compress_after; a real scheduler running it would
    // compress the old chunks under the counts below, so it is not due while this file runs.
    await sql.unsafe(`
      ALTER TABLE health_checks SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id');
      SELECT add_compression_policy('health_checks', INTERVAL '7 days', initial_start => ${NOT_TODAY});`);
    await db().closeClients();
  });

  const policies = () =>
    query<{ job_id: number; config: { drop_after: string } }>(
      db(),
      `SELECT job_id, config FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' AND hypertable_name = 'health_checks'`,
    );

  /**
   * Each test sets up the retention policy it needs, whatever the tests before it did:
   * none, or one dropping after `dropAfter` (added as the CLI adds it, not due today).
   */
  async function usePolicy(dropAfter: string | null): Promise<void> {
    await query(db(), `SELECT remove_retention_policy('health_checks', if_exists => true)`);
    if (dropAfter)
      await query(
        db(),
        `SELECT add_retention_policy('health_checks', drop_after => INTERVAL '${dropAfter}', initial_start => ${NOT_TODAY})`,
      );
    expect((await policies()).map((p) => p.config.drop_after)).toEqual(dropAfter ? [dropAfter] : []);
  }

  it('show: no policy yet', async () => {
    await usePolicy(null);
    const r = await runCli(['retention', 'show', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      table: 'public.health_checks',
      hypertable: true,
      policiesAvailable: true,
      policy: null,
      compressAfter: '7 days',
      runMethod: 'drop_chunks',
    });
  });

  it('set creates the policy; the same again is unchanged; another interval updates the one job', async () => {
    await usePolicy(null);
    const first = await runCli(['retention', 'set', '90d', '--json', '--database-url', db().url]);
    expect(first.code, first.stderr).toBe(0);
    expect(outcomes(first.json())).toEqual({ 'retention-policy': 'created' });
    expect((await policies()).map((p) => p.config.drop_after)).toEqual(['90 days']);
    // A real scheduler starts the new policy at once: hold it, so the snapshots compare only
    // what the CLI did (the run test below puts back any rows a background run dropped).
    await holdJobs(db());

    const again = await runCli(['retention', 'set', '90 days', '--json', '--database-url', db().url]);
    expect(outcomes(again.json())).toEqual({ 'retention-policy': 'unchanged' });
    expect(again.json().changed).toBe(false);

    const before = await snapshot(db());
    const dry = await runCli(['--wide', 'retention', 'set', '180 days', '--dry-run', '--database-url', db().url]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/SELECT alter_job\(\d+, config => '\{.*"drop_after": "180 days".*\}'::jsonb\);/);
    expect(await snapshot(db())).toEqual(before);

    const changed = await runCli(['retention', 'set', '180 days', '--json', '--database-url', db().url]);
    expect(outcomes(changed.json())).toEqual({ 'retention-policy': 'updated' });
    const jobs = await policies();
    expect(jobs).toHaveLength(1);
    expect(jobs[0].config.drop_after).toBe('180 days');
    const human = await runCli(['retention', 'set', '180 days', '--database-url', db().url]);
    expect(human.stderr).toMatch(/nothing to change/);
  });

  it('set compares intervals as PostgreSQL stores them: 2 months replaces a 60 days policy', async () => {
    await usePolicy('60 days');
    await holdJobs(db());
    // '2 months' = '60 days' under interval =, yet one is months and the other days.
    const r = await runCli(['retention', 'set', '2 months', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    expect(outcomes(r.json())).toEqual({ 'retention-policy': 'updated' });
    expect((await policies()).map((p) => p.config.drop_after)).toEqual(['2 months']);
    const again = await runCli(['retention', 'set', '2 months', '--json', '--database-url', db().url]);
    expect(outcomes(again.json())).toEqual({ 'retention-policy': 'unchanged' });
  });

  it("run without --older-than uses the live policy's drop_after and says so", async () => {
    await usePolicy('30 days');
    await holdJobs(db());
    const before = await snapshot(db());
    const dry = await runCli(['retention', 'run', '--dry-run', '--json', '--database-url', db().url]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json()).toMatchObject({ olderThan: '30 days', olderThanSource: 'policy', dryRun: true });
    expect(dry.json().steps[0].statements.join('')).toContain(`older_than => '30 days'::interval`);
    const human = await runCli(['retention', 'run', '--dry-run', '--database-url', db().url]);
    expect(human.stderr).toMatch(/older than 30 days \(the retention policy's drop_after;/);
    const option = await runCli([
      'retention',
      'run',
      '--dry-run',
      '--json',
      '--older-than',
      '400d',
      '--database-url',
      db().url,
    ]);
    expect(option.json()).toMatchObject({ olderThan: '400 days', olderThanSource: 'option' });
    // The dry runs changed nothing.
    expect(await snapshot(db())).toEqual(before);
    await usePolicy(null);
    const config = await runCli(['retention', 'run', '--dry-run', '--json', '--database-url', db().url]);
    expect(config.json()).toMatchObject({ olderThan: '90 days', olderThanSource: 'config' });
  });

  it('warns when retention is not longer than compress_after', async () => {
    const r = await runCli(['retention', 'set', '5 days', '--dry-run', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().warnings.join(' ')).toMatch(
      /retention \(5 days\) is not longer than the compression policy's compress_after \(7 days\)/,
    );
  });

  it('show: the policy with its job, drop_after and schedule', async () => {
    await usePolicy('180 days');
    const [job] = await policies();
    const r = await runCli(['retention', 'show', '--json', '--database-url', db().url]);
    expect(r.json().policy).toMatchObject({
      jobId: job.job_id,
      dropAfter: '180 days',
      scheduleInterval: '1 day',
      scheduled: true,
    });
    // Never on the embedded server (no scheduler); a real one may have started it before it was held.
    const lastRun = await lastRunStartedAt(db(), job.job_id);
    expect(r.json().policy.lastRunStartedAt).toBe(lastRun);
    if (db().source === 'embedded') expect(lastRun).toBeNull();
    const human = await runCli(['retention', '--database-url', db().url]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`job ${job.job_id}: drop chunks older than 180 days`);
    if (lastRun === null) expect(human.stdout).toMatch(/last run\s+never/);
    else expect(human.stdout).not.toMatch(/last run\s+never/);
  });

  it('remove removes it; again is unchanged', async () => {
    await usePolicy('180 days');
    const r = await runCli(['retention', 'remove', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    expect(outcomes(r.json())).toEqual({ 'retention-policy': 'updated' });
    expect(await policies()).toHaveLength(0);
    const again = await runCli(['retention', 'remove', '--json', '--database-url', db().url]);
    expect(outcomes(again.json())).toEqual({ 'retention-policy': 'unchanged' });
    expect(again.json().changed).toBe(false);
  });

  it('run: --dry-run counts, the run drops the old chunks, a second run drops nothing', async () => {
    // No policy (a background run of one could drop chunks under the counts), and put back
    // the old rows a background run of an earlier test's policy may have dropped.
    await usePolicy(null);
    await query(
      db(),
      `INSERT INTO health_checks (device_id, is_healthy, response_time_ms, status_code, "timestamp")
       SELECT d.id, true, 20, 200, t FROM devices d,
         generate_series(now() - INTERVAL '120 days' + INTERVAL '30 minutes', now(), INTERVAL '1 hour') t
       WHERE t < (SELECT min("timestamp") FROM health_checks);
       ANALYZE health_checks;`,
    );
    const want = await expectedDrop(db());
    expect(want.chunks).toBeGreaterThan(2);
    const before = await snapshot(db());

    const dry = await runCli(['retention', 'run', '--dry-run', '--json', '--database-url', db().url]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json()).toMatchObject({
      method: 'drop_chunks',
      dryRun: true,
      chunksDropped: want.chunks,
      rowsEstimate: want.rows,
      olderThan: '90 days',
    });
    expect(await snapshot(db())).toEqual(before);

    const r = await runCli(['retention', 'run', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j).toMatchObject({
      method: 'drop_chunks',
      dryRun: false,
      changed: true,
      chunksDropped: want.chunks,
      rowsEstimate: want.rows,
      rowsDeleted: null,
    });
    expect(j.steps[0].statements).toEqual([
      `SELECT drop_chunks('public.health_checks'::regclass, older_than => '90 days'::interval)`,
    ]);
    const [after] = await query(
      db(),
      `SELECT count(*)::int AS n, min("timestamp") AS oldest,
      count(*) FILTER (WHERE "timestamp" >= now() - INTERVAL '90 days')::int AS recent FROM health_checks`,
    );
    expect(after!.n).toBe(before.rows - want.rows);
    expect(new Date(after!.oldest).getTime()).toBeGreaterThanOrEqual(new Date(want.boundary).getTime());
    expect(after!.recent).toBe(3 * 24 * 90);
    const [left] = await query(
      db(),
      `SELECT count(*)::int AS n FROM timescaledb_information.chunks WHERE hypertable_name = 'health_checks' AND range_end <= now() - INTERVAL '90 days'`,
    );
    expect(left!.n, 'chunks entirely older than 90 days left in the catalog').toBe(0);

    const settled = await snapshot(db());
    const again = await runCli(['retention', 'run', '--database-url', db().url]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/nothing to drop/);
    const againJson = (await runCli(['retention', 'run', '--json', '--database-url', db().url])).json();
    expect(againJson).toMatchObject({ changed: false, chunksDropped: 0 });
    expect(outcomes(againJson)).toEqual({ 'drop-chunks': 'unchanged' });
    // The second runs dropped nothing: the chunks, the rows and their checksum are what they were.
    expect(await snapshot(db())).toEqual(settled);
  });
});

describeWithDatabase('apache', 'retention and chunk-interval on the Apache edition', (db) => {
  beforeAll(async () => {
    await loadOldRows(db().sql(), true);
    await db().closeClients();
  });

  it('retention set: exit 5, one line naming the Community edition, retention run and a crontab line; nothing changed', async () => {
    const before = await snapshot(db());
    const r = await runCli(['retention', 'set', '90d', '--database-url', db().url]);
    expect(r.code).toBe(5);
    oneLineError(
      r.stderr,
      /needs the TimescaleDB Community edition.*Apache-2 edition.*homepot-ts retention run.*17 3 \* \* \* homepot-ts retention run --older-than '90 days'/,
    );
    expect(await snapshot(db())).toEqual(before);
  });

  it('retention show says policies are not available and what retention run does', async () => {
    const r = await runCli(['retention', 'show', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      edition: 'apache',
      hypertable: true,
      policiesAvailable: false,
      policy: null,
      runMethod: 'drop_chunks',
    });
    expect(r.json().note).toMatch(/Community edition.*drop_chunks.*cron/);
  });

  it('retention run drops the old chunks with drop_chunks; a second run removes nothing', async () => {
    const want = await expectedDrop(db());
    const before = await snapshot(db());
    const r = await runCli(['retention', 'run', '--older-than', '90 days', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      method: 'drop_chunks',
      chunksDropped: want.chunks,
      rowsEstimate: want.rows,
      changed: true,
    });
    expect(r.json().chunks).toHaveLength(want.chunks);
    const [after] = await query(db(), `SELECT count(*)::int AS n FROM health_checks`);
    expect(after!.n).toBe(before.rows - want.rows);

    expect(r.json().olderThanSource).toBe('option');

    const again = await runCli(['retention', 'run', '--json', '--database-url', db().url]);
    expect(again.code, again.stderr).toBe(0);
    // No policies on Apache: the config's retention (its default here).
    expect(again.json()).toMatchObject({ chunksDropped: 0, changed: false, olderThanSource: 'config' });
    expect(outcomes(again.json())).toEqual({ 'drop-chunks': 'unchanged' });
  });

  it('retention remove: unchanged (there is no policy)', async () => {
    const r = await runCli(['retention', 'remove', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    expect(outcomes(r.json())).toEqual({ 'retention-policy': 'unchanged' });
  });

  it('chunk-interval: show, set (new chunks only), set again unchanged', async () => {
    const show = await runCli(['chunk-interval', 'show', '--json', '--database-url', db().url]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.json()).toMatchObject({
      table: 'public.health_checks',
      timeColumn: 'timestamp',
      chunkInterval: '7 days',
    });

    const dry = await runCli(['--wide', 'chunk-interval', 'set', '1d', '--dry-run', '--database-url', db().url]);
    expect(dry.stdout).toContain(
      `SELECT set_chunk_time_interval('public.health_checks'::regclass, '1 day'::interval);`,
    );

    const set = await runCli(['chunk-interval', 'set', '1d', '--database-url', db().url]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/updated/);
    expect(set.stderr).toMatch(/NEW chunks only/);
    const again = await runCli(['chunk-interval', 'set', '24 hours', '--json', '--database-url', db().url]);
    expect(outcomes(again.json())).toEqual({ 'chunk-interval': 'unchanged' });
    const after = await runCli(['chunk-interval', '--json', '--database-url', db().url]);
    expect(after.json().chunkInterval).toBe('1 day');
  });

  it('an unknown table: exit 4', async () => {
    for (const args of [
      ['retention', 'run'],
      ['retention', 'show'],
      ['chunk-interval', 'set', '1d'],
    ]) {
      const r = await runCli([...args, '--table', 'nosuch', '--database-url', db().url]);
      expect(r.code, args.join(' ')).toBe(4);
      oneLineError(r.stderr, /table "nosuch" does not exist/);
    }
  });

  it('a read-only session: exit 6 before anything runs', async () => {
    await expectReadOnlyRefusal(
      db(),
      [
        ['retention', 'run'],
        ['retention', 'remove'],
        ['chunk-interval', 'set', '2d'],
      ],
      /read-only.*changes nothing here/,
    );
  });
});

describeWithDatabase('postgres-bare', 'retention on plain PostgreSQL', (db) => {
  beforeAll(async () => {
    await loadOldRows(db().sql(), false);
    await db().sql().unsafe(`CREATE TABLE text_time (id int, "timestamp" text NOT NULL)`);
    await db().closeClients();
  });

  /**
   * Each test that counts starts from the same old rows, whatever the tests before it deleted:
   * 3 devices, one row an hour for the 30 days before the 90-day cutoff (half past the hour).
   */
  async function useOldRows(): Promise<number> {
    await query(db(), `DELETE FROM health_checks WHERE "timestamp" < now() - INTERVAL '90 days'`);
    await query(
      db(),
      `INSERT INTO health_checks (device_id, is_healthy, response_time_ms, status_code, "timestamp")
       SELECT d.id, true, 20, 200, t FROM devices d,
         generate_series(now() - INTERVAL '120 days' + INTERVAL '30 minutes', now() - INTERVAL '90 days', INTERVAL '1 hour') t`,
    );
    const [r] = await query(
      db(),
      `SELECT count(*)::int AS n FROM health_checks WHERE "timestamp" < now() - INTERVAL '90 days'`,
    );
    return r!.n as number;
  }

  it('retention set and chunk-interval set: exit 5', async () => {
    const r = await runCli(['retention', 'set', '90d', '--database-url', db().url]);
    expect(r.code).toBe(5);
    oneLineError(
      r.stderr,
      /needs the TimescaleDB Community edition.*not installed.*deletes old rows in batches.*17 3 \* \* \* homepot-ts retention run/,
    );
    const c = await runCli(['chunk-interval', 'set', '1d', '--database-url', db().url]);
    expect(c.code).toBe(5);
    oneLineError(c.stderr, /chunk-interval set needs TimescaleDB/);
  });

  it('retention show: no policies here; retention run deletes in batches', async () => {
    const r = await runCli(['retention', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ hypertable: false, policiesAvailable: false, runMethod: 'delete' });
    expect(r.json().note).toMatch(/not installed.*deletes the rows.*batches.*cron/);
  });

  it('a time column that holds no times: exit 4', async () => {
    const r = await runCli(['retention', 'run', '--table', 'text_time', '--database-url', db().url]);
    expect(r.code).toBe(4);
    oneLineError(r.stderr, /text_time\."timestamp" is text, not a time type/);
  });

  it('--dry-run counts exactly and changes nothing', async () => {
    const expected = await useOldRows();
    expect(expected).toBe(3 * 24 * 30);
    const before = await snapshot(db());
    const r = await runCli([
      'retention',
      'run',
      '--dry-run',
      '--batch-rows',
      '500',
      '--json',
      '--database-url',
      db().url,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({
      method: 'delete',
      dryRun: true,
      changed: false,
      rowsDeleted: expected,
      batches: 0,
      // No policies on plain PostgreSQL: the config's retention (its default here).
      olderThanSource: 'config',
    });
    const human = await runCli([
      '--wide',
      'retention',
      'run',
      '--dry-run',
      '--batch-rows',
      '500',
      '--database-url',
      db().url,
    ]);
    expect(human.stdout).toMatch(
      /DELETE FROM ONLY public\.health_checks WHERE ctid = ANY \(ARRAY\(SELECT ctid FROM ONLY public\.health_checks WHERE "timestamp" < '[^']+'::timestamptz LIMIT 500\)\);/,
    );
    expect(human.stderr).toContain(`would delete ${expected.toLocaleString('en-US')} rows`);
    expect(await snapshot(db())).toEqual(before);
  });

  it('run deletes the old rows in batches (exact count); a second run deletes nothing', async () => {
    const expected = await useOldRows();
    expect(expected).toBe(3 * 24 * 30);
    const before = await snapshot(db());
    const r = await runCli(['retention', 'run', '--batch-rows', '500', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j).toMatchObject({
      method: 'delete',
      changed: true,
      rowsDeleted: expected,
      chunksDropped: null,
      interrupted: false,
      timeColumn: 'timestamp',
    });
    expect(j.batches).toBe(Math.floor(expected / 500) + 1);
    expect(outcomes(j)).toEqual({ 'delete-rows': 'updated' });
    const [after] = await query(
      db(),
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE "timestamp" < now() - INTERVAL '90 days')::int AS old FROM health_checks`,
    );
    expect(after).toEqual({ n: before.rows - expected, old: 0 });

    const again = await runCli(['retention', 'run', '--batch-rows', '500', '--json', '--database-url', db().url]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ changed: false, rowsDeleted: 0, batches: 0 });
    expect(outcomes(again.json())).toEqual({ 'delete-rows': 'unchanged' });
    const human = await runCli(['retention', 'run', '--database-url', db().url]);
    expect(human.stderr).toMatch(/nothing to delete/);
  });

  it('Ctrl-C stops between batches: what was deleted stays deleted, a rerun finishes the rest', async () => {
    await query(
      db(),
      `INSERT INTO health_checks (device_id, is_healthy, "timestamp")
      SELECT d.id, false, t FROM devices d, generate_series(now() - INTERVAL '120 days', now() - INTERVAL '91 days', INTERVAL '1 minute') t`,
    );
    const old = async () =>
      (
        await query(db(), `SELECT count(*)::int AS n FROM health_checks WHERE "timestamp" < now() - INTERVAL '90 days'`)
      )[0]!.n as number;
    const inserted = await old();
    const r = await runCliInterrupted(
      ['retention', 'run', '--batch-rows', '100', '--database-url', db().url],
      /deleting old rows: [\d,]+\//,
    );
    expect(r.signalled, r.stderr).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    const left = await old();
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(inserted);
    // The message names what really went: every batch deleted --batch-rows rows.
    const deleted = inserted - left;
    expect(deleted % 100).toBe(0);
    expect(r.stderr).toMatch(
      new RegExp(
        `error: interrupted: ${deleted.toLocaleString('en-US')} rows deleted in ${deleted / 100} batches stay deleted.*run again to continue`,
      ),
    );

    const rest = await runCli(['retention', 'run', '--batch-rows', '5000', '--json', '--database-url', db().url]);
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.json().rowsDeleted).toBe(left);
    expect(await old()).toBe(0);
  });
});

describeWithDatabase('timescale', "retention set against the aggregates' refresh windows", (db) => {
  it('retention set 4d warns that device_metrics_daily refreshes 7 days back (the check create-aggregates makes); 8d does not', async () => {
    await loadOldRows(db().sql(), true);
    await db().closeClients();
    const c = await runCli(['create-aggregates', '--no-materialize', '--json', '--database-url', db().url], {
      timeoutMs: 120_000,
    });
    expect(c.code, c.stderr).toBe(0);
    await holdJobs(db());
    const inside = (j: { warnings: string[] }) => j.warnings.filter((w) => /refresh window/.test(w));
    const r = await runCli(['retention', 'set', '4d', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    expect(inside(r.json())).toEqual([
      "device_metrics_daily: this retention drops raw health checks after 4 days, inside this aggregate's refresh window (start offset 7 days): a refresh over dropped data deletes the aggregate's rows for it. Use a start offset shorter than 4 days, or a longer retention.",
    ]);
    const human = await runCli(['retention', 'set', '4d', '--database-url', db().url]);
    expect(human.stderr).toMatch(/device_metrics_daily: this retention drops raw health checks after 4 days/);
    // create-aggregates says the same of the policy now in place.
    const dry = await runCli(['create-aggregates', '--dry-run', '--json', '--database-url', db().url], {
      timeoutMs: 120_000,
    });
    expect(inside(dry.json())).toEqual([
      expect.stringMatching(
        /^device_metrics_daily: the retention policy \(job \d+\) drops raw health checks after 4 days, inside this aggregate's refresh window \(start offset 7 days\)/,
      ),
    ]);
    const longer = await runCli(['retention', 'set', '8d', '--json', '--database-url', db().url]);
    expect(longer.code, longer.stderr).toBe(0);
    expect(inside(longer.json())).toEqual([]);
  }, 180_000);
});

describeWithDatabase('timescale', 'retention run counts the rows of compressed chunks', (db) => {
  it('--dry-run and the run report the exact rows of compressed and partially compressed chunks', async () => {
    await loadOldRows(db().sql(), true);
    await query(
      db(),
      `ALTER TABLE health_checks SET (timescaledb.compress, timescaledb.compress_segmentby = 'device_id');
       SELECT compress_chunk(c) FROM show_chunks('health_checks', older_than => INTERVAL '90 days') c;
       -- Late rows into the oldest compressed chunk: it becomes partially compressed.
       INSERT INTO health_checks (device_id, is_healthy, response_time_ms, status_code, "timestamp")
         SELECT d.id, true, 20, 200, t FROM devices d,
           generate_series((SELECT min("timestamp") FROM health_checks) + INTERVAL '1 minute',
                           (SELECT min("timestamp") FROM health_checks) + INTERVAL '5 hours', INTERVAL '20 minutes') t;
       ANALYZE health_checks;`,
    );
    const [p] = await query<{ compressed: number; partial: number }>(
      db(),
      `SELECT count(*) FILTER (WHERE k.status & 1 <> 0)::int AS compressed, count(*) FILTER (WHERE k.status & 8 <> 0)::int AS partial
       FROM _timescaledb_catalog.chunk k
       JOIN timescaledb_information.chunks c ON c.chunk_schema = k.schema_name AND c.chunk_name = k.table_name
       WHERE c.hypertable_name = 'health_checks'`,
    );
    expect(p.partial).toBe(1);
    const want = await expectedDrop(db());
    expect(want.chunks).toBeGreaterThan(2);
    expect(p.compressed).toBeGreaterThanOrEqual(want.chunks);

    const dry = await runCli(['retention', 'run', '--dry-run', '--json', '--database-url', db().url]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json()).toMatchObject({ chunksDropped: want.chunks, rowsEstimate: want.rows, rowsCounted: want.rows });
    const human = await runCli(['retention', 'run', '--dry-run', '--database-url', db().url]);
    expect(human.stderr).toContain(`would drop ${want.chunks} chunks of public.health_checks`);
    expect(human.stderr).toContain(`${want.rows.toLocaleString('en-US')} rows (counted)`);

    const before = await snapshot(db());
    const r = await runCli(['retention', 'run', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ chunksDropped: want.chunks, rowsEstimate: want.rows, rowsCounted: want.rows });
    const [after] = await query(db(), `SELECT count(*)::int AS n FROM health_checks`);
    expect(after!.n).toBe(before.rows - want.rows);
  }, 180_000);
});
