import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { describeWithDatabase, type Flavour, type Sql, type TestDatabase } from './support/databases.js';

import { outcomes, snapshot } from './support/assertions.js';
import { runContending } from './support/contention.js';
import { holdJobs } from './support/jobs.js';
import { AGGREGATE_NAMES, expectAggregateMatchesSql, insertChecks, loadFleet } from './support/aggregates.js';

type Step = { id: string; state: string; outcome: string; reason?: string; statements: string[] };

/** HOMEPOT-shaped data, small: 2 sites x 3 devices x 3 days at one check a minute (loadFleet). */
const loadData = (sql: Sql, timescale: boolean) => loadFleet(sql, { timescale, days: 3 });

/** Every row of the aggregate equals the plain-SQL numbers (test/support/aggregates.ts). */
async function expectCorrect(db: TestDatabase, name: string): Promise<number> {
  try {
    return await expectAggregateMatchesSql(db.sql(), name);
  } finally {
    await db.closeClients();
  }
}

const NAMES = AGGREGATE_NAMES;

for (const flavour of ['timescale', 'apache', 'postgres-bare'] as Flavour[]) {
  const continuous = flavour === 'timescale';
  describeWithDatabase(flavour, 'create-aggregates', (db) => {
    beforeAll(async () => {
      await loadData(db().sql(), flavour !== 'postgres-bare');
      await db().closeClients();
    });

    it('--dry-run shows the plan and the SQL, and changes nothing', async () => {
      const before = await snapshot(db());
      const r = await runCli(['create-aggregates', '--dry-run', '--database-url', db().url], { timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        continuous
          ? /CREATE MATERIALIZED VIEW IF NOT EXISTS device_metrics_hourly/
          : /CREATE TABLE IF NOT EXISTS device_metrics_hourly AS/,
      );
      if (continuous)
        expect(r.stdout).toMatch(
          /add_continuous_aggregate_policy\('public\.device_metrics_daily'::regclass, start_offset => '7 days'::interval, end_offset => '1 hour'::interval, schedule_interval => '6 hours'::interval\)/,
        );
      else expect(r.stdout).toMatch(/CREATE UNIQUE INDEX IF NOT EXISTS device_metrics_hourly_device_id_hour_key/);
      expect(await snapshot(db())).toEqual(before);
    });

    it('first run creates the three aggregates, materializes the history in windows, and the numbers are right', async () => {
      const r = await runCli(['create-aggregates', '--json', '--window', '1 day', '--database-url', db().url], {
        timeoutMs: 120_000,
      });
      expect(r.code, r.stderr).toBe(0);
      const j = r.json();
      expect(j.kind).toBe(continuous ? 'continuous' : 'table');
      const o = outcomes(j);
      for (const name of NAMES) {
        expect(o[`aggregate:${name}`]).toBe('created');
        if (continuous) expect(o[`policy:${name}`]).toBe('created');
        else expect(o[`index:${name}`]).toBe('created');
      }
      for (const m of j.materialized) {
        if (continuous) expect(m.windows, m.aggregate).toBeGreaterThanOrEqual(m.aggregate.endsWith('hourly') ? 3 : 1); // 3 days in 1-day windows (2 days at least for daily buckets)
        expect(m.windowsDone).toBe(m.windows);
      }
      for (const name of NAMES) expect(await expectCorrect(db(), name), name).toBeGreaterThan(0);
      if (continuous) {
        const jobs = await db()
          .sql()
          .unsafe(
            // The job's hypertable_name is the view (2.23+) or its materialization hypertable (2.19).
            `SELECT ca.view_name, j.schedule_interval::text AS s, j.config->>'start_offset' AS so, j.config->>'end_offset' AS eo
             FROM timescaledb_information.jobs j JOIN timescaledb_information.continuous_aggregates ca
               ON j.hypertable_name IN (ca.view_name, ca.materialization_hypertable_name)
             WHERE j.proc_name = 'policy_refresh_continuous_aggregate' ORDER BY 1`,
          );
        await db().closeClients();
        expect(jobs.map((x) => [x.view_name, x.s, x.so, x.eo])).toEqual([
          ['device_metrics_daily', '06:00:00', '7 days', '01:00:00'],
          ['device_metrics_hourly', '01:00:00', '3 days', '01:00:00'],
          ['site_metrics_hourly', '01:00:00', '3 days', '01:00:00'],
        ]);
      }
    }, 180_000);

    it("the seed's example queries answer from the aggregates", async () => {
      const sql = db().sql();
      const [d] = await sql.unsafe(`SELECT min(id) AS id FROM devices`);
      const rows = await sql.unsafe(
        `SELECT * FROM device_metrics_hourly WHERE device_id = $1 AND hour >= NOW() - INTERVAL '24 hours'`,
        [d.id],
      );
      const [s] = await sql.unsafe(`SELECT min(id) AS id FROM sites`);
      const site = await sql.unsafe(
        `SELECT hour, device_count, avg_cpu, total_transactions FROM site_metrics_hourly WHERE site_id = $1 AND hour >= NOW() - INTERVAL '7 days'`,
        [s.id],
      );
      await db().closeClients();
      // 24 whole hours plus the current one (real-time rows on Community; the last refresh elsewhere).
      // One less when the clock passed an hour between loading the rows and this query: the oldest
      // hour then falls out of the window while no newer hour has rows yet (seen in CI at 09:00).
      expect(rows.length).toBeGreaterThanOrEqual(23);
      expect(site.length).toBeGreaterThanOrEqual(72);
      expect(site.every((x) => Number(x.device_count) === 3)).toBe(true);
    });

    it('second run: everything unchanged, nothing changed in the catalog', async () => {
      const before = await snapshot(db());
      const r = await runCli(['create-aggregates', '--json', '--database-url', db().url], { timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(new Set(Object.values(outcomes(r.json())))).toEqual(
        new Set(continuous ? ['unchanged'] : ['unchanged', 'skipped']),
      );
      expect(await snapshot(db())).toEqual(before);
    });

    it('late data in an old hour appears after the next refresh', async () => {
      // Extra checks 26 hours ago: a device that buffered while offline.
      await insertChecks(
        db().sql(),
        `date_trunc('hour', now()) - INTERVAL '26 hours'`,
        `date_trunc('hour', now()) - INTERVAL '25 hours 1 minute'`,
        '20 seconds',
      );
      await db().closeClients();
      if (continuous) {
        const sql = db().sql();
        const jobs = await sql.unsafe(
          `SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = 'policy_refresh_continuous_aggregate' ORDER BY 1`,
        );
        for (const job of jobs) await sql.unsafe(`CALL run_job(${Number(job.job_id)})`);
        await db().closeClients();
      } else {
        const r = await runCli(['aggregates', 'refresh', '--database-url', db().url], { timeoutMs: 120_000 });
        expect(r.code, r.stderr).toBe(0);
      }
      for (const name of NAMES) await expectCorrect(db(), name);
    }, 120_000);

    it('aggregates list shows kind, policy, freshness, rows and size; status shows freshness', async () => {
      const r = await runCli(['aggregates', 'list', '--json', '--database-url', db().url]);
      expect(r.code, r.stderr).toBe(0);
      const list = r.json().aggregates;
      expect(list.map((a: any) => [a.name, a.kind, a.definitionMatches])).toEqual(
        NAMES.map((n) => [n, continuous ? 'continuous' : 'table', true]),
      );
      for (const a of list) {
        expect(a.rows, a.name).toBeGreaterThan(0);
        expect(a.materializedUpTo, a.name).not.toBeNull();
        expect(Boolean(a.policy), a.name).toBe(continuous);
      }
      const human = await runCli(['aggregates', 'list', '--database-url', db().url]);
      expect(human.stdout).toMatch(continuous ? /job \d+, every 6 hours/ : /table .*cron aggregates refresh/);
      const s = await runCli(['status', '--json', '--database-url', db().url]);
      expect(s.json().aggregates.map((a: any) => a.name)).toEqual(NAMES);
      // What was listed exists in the catalog as that kind, and the rows listed are the rows it holds.
      const sql = db().sql();
      const catalog = continuous
        ? await sql.unsafe(
            `SELECT view_name::text AS name, format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name) AS stored FROM timescaledb_information.continuous_aggregates WHERE view_schema = 'public' ORDER BY 1`,
          )
        : await sql.unsafe(
            `SELECT tablename::text AS name, format('public.%I', tablename) AS stored FROM pg_tables
             WHERE schemaname = 'public' AND obj_description(format('public.%I', tablename)::regclass, 'pg_class') LIKE 'homepot-ts aggregate table%' ORDER BY 1`,
          );
      const held: Record<string, number> = {};
      for (const c of catalog)
        held[c.name] = Number((await sql.unsafe(`SELECT count(*)::int AS n FROM ${c.stored}`))[0].n);
      await db().closeClients();
      expect(catalog.map((c) => c.name)).toEqual([...NAMES].sort());
      for (const a of list) expect(a.rows, a.name).toBe(held[a.name]);
      for (const name of NAMES) await expectCorrect(db(), name);
    });

    it('a definition that differs is detected and left alone; --recreate --dry-run shows the drop; --recreate rebuilds it', async () => {
      const sql = db().sql();
      const kind = continuous ? 'WITH (timescaledb.continuous) ' : '';
      const bucket = continuous
        ? `time_bucket(INTERVAL '1 day', "timestamp")`
        : `date_trunc('day', "timestamp", 'UTC')`;
      await sql.unsafe(continuous ? `DROP MATERIALIZED VIEW device_metrics_daily` : `DROP TABLE device_metrics_daily`);
      await sql.unsafe(
        `CREATE MATERIALIZED VIEW device_metrics_daily ${kind}AS SELECT ${bucket} AS day, device_id, count(*) AS check_count FROM health_checks GROUP BY 1, 2 WITH NO DATA`,
      );
      await db().closeClients();
      const r = await runCli(['create-aggregates', '--json', '--database-url', db().url], { timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
      const step = r.json().steps.find((s: Step) => s.id === 'aggregate:device_metrics_daily');
      expect([step.state, step.outcome]).toEqual(['different', 'skipped']);
      expect(step.reason).toMatch(/--recreate/);
      expect(r.json().warnings.join(' ')).toMatch(/device_metrics_daily.*--recreate/);
      // A real scheduler runs the other views' refresh policies at any time: hold them, so the
      // snapshots compare only what the dry run did.
      if (continuous) await holdJobs(db());
      const before = await snapshot(db());
      const dry = await runCli(['create-aggregates', '--recreate', '--dry-run', '--database-url', db().url], {
        timeoutMs: 120_000,
      });
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(/DROP MATERIALIZED VIEW IF EXISTS public\.device_metrics_daily;/);
      expect(dry.stderr).toMatch(/drops the .* and its materialized rows/);
      expect(await snapshot(db())).toEqual(before);
      const re = await runCli(['create-aggregates', '--recreate', '--json', '--database-url', db().url], {
        timeoutMs: 120_000,
      });
      expect(re.code, re.stderr).toBe(0);
      expect(outcomes(re.json())['aggregate:device_metrics_daily']).toBe('updated');
      await expectCorrect(db(), 'device_metrics_daily');
      const again = await runCli(['create-aggregates', '--json', '--database-url', db().url], { timeoutMs: 120_000 });
      expect(again.json().changed).toBe(false);
    }, 240_000);

    if (continuous) {
      it('aggregates policy changes the job; create-aggregates sets the configured one back', async () => {
        const r = await runCli([
          'aggregates',
          'policy',
          'device_metrics_hourly',
          '--start-offset',
          '1 day',
          '--end-offset',
          '5 minutes',
          '--schedule',
          '5 minutes',
          '--json',
          '--database-url',
          db().url,
        ]);
        expect(r.code, r.stderr).toBe(0);
        expect(outcomes(r.json())).toEqual({ 'policy:device_metrics_hourly': 'updated' });
        const [job] = await db()
          .sql()
          .unsafe(
            `SELECT schedule_interval::text AS s, config->>'start_offset' AS so, config->>'end_offset' AS eo FROM timescaledb_information.jobs WHERE proc_name = 'policy_refresh_continuous_aggregate' AND hypertable_name = 'device_metrics_hourly'`,
          );
        await db().closeClients();
        expect([job.s, job.so, job.eo]).toEqual(['00:05:00', '1 day', '5 minutes']);
        const c = await runCli(['create-aggregates', '--json', '--database-url', db().url], { timeoutMs: 120_000 });
        expect(outcomes(c.json())['policy:device_metrics_hourly']).toBe('updated');
        // The job itself is back to the configured policy (one job, not a second one).
        const back = await db().sql().unsafe(
          // As intervals: the job's config keeps the text it was given ('1 hour' or '01:00:00').
          `SELECT schedule_interval::text AS s, (config->>'start_offset')::interval::text AS so, (config->>'end_offset')::interval::text AS eo FROM timescaledb_information.jobs WHERE proc_name = 'policy_refresh_continuous_aggregate' AND hypertable_name = 'device_metrics_hourly'`,
        );
        await db().closeClients();
        expect(back.map((x) => [x.s, x.so, x.eo])).toEqual([['01:00:00', '3 days', '01:00:00']]);
        const bad = await runCli([
          'aggregates',
          'policy',
          'device_metrics_daily',
          '--start-offset',
          '1 day',
          '--end-offset',
          '1 hour',
          '--database-url',
          db().url,
        ]);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/at least two 1 day buckets/);
      }, 120_000);
    } else {
      it('aggregates policy: exit 5, says to use cron', async () => {
        const r = await runCli([
          'aggregates',
          'policy',
          'device_metrics_hourly',
          '--schedule',
          '5 minutes',
          '--database-url',
          db().url,
        ]);
        expect(r.code).toBe(5);
        expect(r.stderr).toMatch(/cron/);
      });
    }

    it('aggregates drop: --dry-run changes nothing; drop removes it; create-aggregates brings it back', async () => {
      const before = await snapshot(db());
      const dry = await runCli(['aggregates', 'drop', 'site_metrics_hourly', '--dry-run', '--database-url', db().url]);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(
        continuous
          ? /DROP MATERIALIZED VIEW IF EXISTS public\.site_metrics_hourly;/
          : /DROP TABLE IF EXISTS public\.site_metrics_hourly;/,
      );
      expect(await snapshot(db())).toEqual(before);
      const r = await runCli(['aggregates', 'drop', 'site_metrics_hourly', '--json', '--database-url', db().url]);
      expect(r.code, r.stderr).toBe(0);
      const [gone] = await db().sql().unsafe(`SELECT to_regclass('site_metrics_hourly') IS NULL AS gone`);
      await db().closeClients();
      expect(gone.gone).toBe(true);
      const c = await runCli(['create-aggregates', '--json', '--database-url', db().url], { timeoutMs: 120_000 });
      expect(outcomes(c.json())['aggregate:site_metrics_hourly']).toBe('created');
      await expectCorrect(db(), 'site_metrics_hourly');
    }, 120_000);
  });
}

describeWithDatabase('apache', 'create-aggregates: concurrent runs', (db) => {
  beforeAll(async () => {
    await loadData(db().sql(), true);
    await db().closeClients();
  });
  it('3 processes waiting for the change lock at once all exit 0; each aggregate is created once', async () => {
    const runs = await runContending(
      db(),
      [0, 1, 2].map(() => ['create-aggregates', '--json', '--database-url', db().url]),
      { timeoutMs: 120_000 },
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    for (const name of NAMES) {
      expect(
        runs.filter((r) => outcomes(r.json())[`aggregate:${name}`] === 'created'),
        name,
      ).toHaveLength(1);
    }
    await expectCorrect(db(), 'device_metrics_hourly');
  }, 180_000);
});

describe('create-aggregates: bad options are refused before connecting', () => {
  it('--window nonsense: exit 2', async () => {
    const r = await runCli(['create-aggregates', '--window', 'soon', '--database-url', 'postgres://u@127.0.0.1:1/db']);
    expect(r.code).toBe(2);
  });
  it('unknown aggregate name: exit 2', async () => {
    const r = await runCli(['aggregates', 'refresh', 'nosuch', '--database-url', 'postgres://u@127.0.0.1:1/db']);
    expect(r.code).toBe(2);
  });
});
