import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { ROOT, runCli } from './support/cli.js';
import { describeWithDatabase, type Flavour, type TestDatabase } from './support/databases.js';
import { loadSchema } from './support/homepot.js';
import { outcomes, query } from './support/assertions.js';
import { runContending } from './support/contention.js';
import { AGGREGATE_NAMES, expectAggregateRows, plainSqlRows } from './support/aggregates.js';

/**
 * Issue 15, §3: on servers without continuous aggregates (Apache edition,
 * plain PostgreSQL) the aggregates keep their history when retention drops
 * raw rows. The documented cron lines (`retention run`, then `aggregates
 * refresh`) used to REFRESH materialized views from the raw rows left, which
 * deleted every aggregate row of the dropped days.
 */

const BUCKET: Record<string, string> = {
  device_metrics_hourly: 'hour',
  device_metrics_daily: 'day',
  site_metrics_hourly: 'hour',
};

/**
 * 2 sites x 2 devices, a check every 5 minutes for 4 days, with unhealthy
 * checks and missing keys. On TimescaleDB a hypertable with 12-hour chunks,
 * so that dropping chunks cuts a UTC day in half (the daily bucket of that
 * day then has only part of its raw rows).
 */
async function loadData(db: TestDatabase, hypertable: boolean): Promise<void> {
  const sql = db.sql();
  await loadSchema(sql);
  if (hypertable) {
    await sql.unsafe(`CREATE EXTENSION IF NOT EXISTS timescaledb`);
    await sql.unsafe(`SELECT create_hypertable('health_checks', by_range('timestamp', INTERVAL '12 hours'))`);
  }
  await sql.unsafe(`
    INSERT INTO sites (site_id, name) SELECT 'SITE-' || s, 'Site ' || s FROM generate_series(1, 2) s;
    INSERT INTO devices (device_id, name, device_type, site_id)
      SELECT 'dev-' || s || '-' || i, 'Device ' || s || '-' || i, 'pos_terminal', (SELECT id FROM sites WHERE site_id = 'SITE-' || s)
      FROM generate_series(1, 2) s, generate_series(1, 2) i;
    INSERT INTO health_checks (device_id, is_healthy, response_time_ms, status_code, response_data, "timestamp")
    SELECT d.id, random() > 0.05, CASE WHEN random() < 0.02 THEN NULL ELSE (random() * 100)::int END, 200,
           CASE WHEN random() < 0.01 THEN NULL
                ELSE json_build_object(
                  'system', json_build_object('cpu_percent', round((random() * 100)::numeric, 1), 'memory_percent', round((random() * 100)::numeric, 1),
                                              'disk_percent', round((random() * 100)::numeric, 1), 'uptime_seconds', (random() * 1e6)::int),
                  'app_metrics', json_build_object('transactions_count', (random() * 10)::int, 'errors_count', (random() * 2)::int),
                  'network', json_build_object('latency_ms', round((random() * 50)::numeric, 1))) END,
           t
    FROM devices d, generate_series(date_trunc('minute', now()) - INTERVAL '4 days', date_trunc('minute', now()), INTERVAL '5 minutes') t;
    ANALYZE sites, devices, health_checks;`);
  await db.closeClients();
}

/** Every aggregate's plain-SQL rows now. */
async function plainRows(db: TestDatabase): Promise<Record<string, any[]>> {
  const out: Record<string, any[]> = {};
  for (const name of AGGREGATE_NAMES) out[name] = await plainSqlRows(db.sql(), name);
  await db.closeClients();
  return out;
}

/**
 * After retention: each aggregate's buckets older than its oldest complete
 * one (the bucket the oldest raw row starts, else the next) hold what plain
 * SQL gave before the drop; the others what plain SQL gives now. Returns how
 * many rows were kept from before.
 */
async function expectHistoryKept(db: TestDatabase, before: Record<string, any[]>): Promise<Record<string, number>> {
  const now = await plainRows(db);
  const kept: Record<string, number> = {};
  for (const name of AGGREGATE_NAMES) {
    const unit = BUCKET[name];
    const [b] = await query<{ boundary: Date }>(
      db,
      `SELECT CASE WHEN date_trunc('${unit}', min("timestamp") AT TIME ZONE 'UTC') = min("timestamp") AT TIME ZONE 'UTC'
                   THEN date_trunc('${unit}', min("timestamp") AT TIME ZONE 'UTC')
                   ELSE date_trunc('${unit}', min("timestamp") AT TIME ZONE 'UTC') + INTERVAL '1 ${unit}' END AS boundary
       FROM health_checks`,
    );
    const limit = new Date(b.boundary).getTime();
    const old = before[name].filter((r) => new Date(r.t).getTime() < limit);
    const fresh = now[name].filter((r) => new Date(r.t).getTime() >= limit);
    try {
      await expectAggregateRows(db.sql(), name, [...old, ...fresh]);
    } finally {
      await db.closeClients();
    }
    kept[name] = old.length;
  }
  return kept;
}

/** The materialized views earlier versions made: the same SELECT as sql/aggregates/table/<name>.sql, and their unique index. */
async function createEarlierViews(db: TestDatabase, names: string[]): Promise<void> {
  const sql = db.sql();
  for (const name of names) {
    const file = readFileSync(`${ROOT}sql/aggregates/table/${name}.sql`, 'utf8');
    const select = /^SELECT[\s\S]*?(?=^WITH NO DATA)/m.exec(file)![0];
    const index = /^CREATE UNIQUE INDEX[^;]*/m.exec(file)![0];
    await sql.unsafe(`CREATE MATERIALIZED VIEW ${name} AS ${select} WITH NO DATA`);
    await sql.unsafe(index);
    await sql.unsafe(`REFRESH MATERIALIZED VIEW ${name}`);
  }
  await db.closeClients();
}

async function relkinds(db: TestDatabase): Promise<Record<string, string>> {
  const rows = await query<{ name: string; relkind: string }>(
    db,
    `SELECT relname::text AS name, relkind::text FROM pg_class WHERE relname = ANY ('{${AGGREGATE_NAMES.join(',')}}') AND relnamespace = 'public'::regnamespace`,
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.relkind]));
}

/**
 * `retention run` with a cut-off at 18:00 UTC two days ago: drop_chunks then
 * drops the 12-hour chunks up to 12:00 of that day, leaving half of its raw
 * rows (a daily bucket with incomplete raw data); the batched DELETE on plain
 * PostgreSQL cuts inside an hour as well.
 */
async function retentionRun(db: TestDatabase) {
  const [r] = await query<{ s: number }>(
    db,
    `SELECT extract(epoch FROM now() - (date_trunc('day', now(), 'UTC') - INTERVAL '2 days' + INTERVAL '18 hours'))::int AS s`,
  );
  return runCli(['retention', 'run', '--older-than', `${r.s} seconds`, '--json', '--database-url', db.url], {
    timeoutMs: 120_000,
  });
}

for (const flavour of ['apache', 'postgres-bare'] as Flavour[]) {
  describeWithDatabase(flavour, 'aggregates keep their history after retention', (db) => {
    it('retention run, then aggregates refresh (the cron lines): old buckets keep their numbers, the rest equal plain SQL', async () => {
      await loadData(db(), flavour === 'apache');
      const c = await runCli(['create-aggregates', '--json', '--window', '1 day', '--database-url', db().url], {
        timeoutMs: 120_000,
      });
      expect(c.code, c.stderr).toBe(0);
      expect(c.json().kind).toBe('table');
      expect(await relkinds(db())).toEqual(Object.fromEntries(AGGREGATE_NAMES.map((n) => [n, 'r'])));
      const before = await plainRows(db());
      await expectHistoryKept(db(), before); // nothing dropped yet: plain SQL

      const r = await retentionRun(db());
      expect(r.code, r.stderr).toBe(0);
      const refresh = await runCli(['aggregates', 'refresh', '--json', '--database-url', db().url], {
        timeoutMs: 120_000,
      });
      expect(refresh.code, refresh.stderr).toBe(0);
      const kept = await expectHistoryKept(db(), before);
      // At least a day of buckets had their raw rows dropped, and survived.
      expect(kept.device_metrics_hourly).toBeGreaterThanOrEqual(4 * 24);
      expect(kept.site_metrics_hourly).toBeGreaterThanOrEqual(2 * 24);
      expect(kept.device_metrics_daily).toBeGreaterThanOrEqual(4);

      // Asked for a range reaching below the oldest raw row: still nothing old is recomputed.
      const wide = await runCli(['aggregates', 'refresh', '--from', '7 days', '--json', '--database-url', db().url], {
        timeoutMs: 120_000,
      });
      expect(wide.code, wide.stderr).toBe(0);
      for (const m of wide.json().results) {
        expect(m.notes.join(' '), m.aggregate).toMatch(
          /started at .*, not .*, so the buckets before it keep their rows/,
        );
      }
      await expectHistoryKept(db(), before);
    }, 240_000);

    it('aggregates drop refuses a table homepot-ts did not make; drops its own', async () => {
      const sql = db().sql();
      await sql.unsafe(`DROP TABLE site_metrics_hourly`);
      await sql.unsafe(`CREATE TABLE site_metrics_hourly (hour timestamptz, site_id int, note text)`);
      await sql.unsafe(`INSERT INTO site_metrics_hourly VALUES (now(), 1, 'keep me')`);
      await db().closeClients();
      const r = await runCli(['aggregates', 'drop', 'site_metrics_hourly', '--database-url', db().url]);
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/did not make: not dropped/);
      const [row] = await query(db(), `SELECT note FROM site_metrics_hourly`);
      expect(row!.note).toBe('keep me');
      const refresh = await runCli(['aggregates', 'refresh', 'site_metrics_hourly', '--database-url', db().url]);
      expect(refresh.code).toBe(4);
      await query(db(), `DROP TABLE site_metrics_hourly`);
      const own = await runCli(['aggregates', 'drop', 'device_metrics_daily', '--json', '--database-url', db().url]);
      expect(own.code, own.stderr).toBe(0);
      expect(own.json().steps[0].statements).toEqual(['DROP TABLE IF EXISTS public.device_metrics_daily']);
      expect((await relkinds(db())).device_metrics_daily).toBeUndefined();
    }, 120_000);
  });

  describeWithDatabase(flavour, 'materialized views of earlier versions become tables', (db) => {
    it('create-aggregates (3 at once) turns them into tables: every row and grant kept, one run converts each', async () => {
      await loadData(db(), flavour === 'apache');
      await createEarlierViews(db(), AGGREGATE_NAMES);
      const role = `dash_${db().name}`.slice(0, 60);
      await query(db(), `DROP ROLE IF EXISTS ${role}`);
      await query(db(), `CREATE ROLE ${role}`);
      await query(db(), `GRANT SELECT ON device_metrics_hourly TO ${role}`);
      const before = await plainRows(db());
      const r = await retentionRun(db());
      expect(r.code, r.stderr).toBe(0);

      const dry = await runCli(['create-aggregates', '--dry-run', '--database-url', db().url], { timeoutMs: 120_000 });
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(
        /CREATE TABLE public\.device_metrics_hourly_homepot_ts_new AS SELECT \* FROM public\.device_metrics_hourly/,
      );
      expect(await relkinds(db())).toEqual(Object.fromEntries(AGGREGATE_NAMES.map((n) => [n, 'm'])));

      const runs = await runContending(
        db(),
        [0, 1, 2].map(() => ['create-aggregates', '--json', '--database-url', db().url]),
        { timeoutMs: 120_000 },
      );
      for (const run of runs) expect(run.code, run.stderr).toBe(0);
      for (const name of AGGREGATE_NAMES) {
        const o = runs.map((run) => outcomes(run.json())[`aggregate:${name}`]).sort();
        expect(o, name).toEqual(['unchanged', 'unchanged', 'updated']);
      }
      expect(await relkinds(db())).toEqual(Object.fromEntries(AGGREGATE_NAMES.map((n) => [n, 'r'])));
      const [grant] = await query(
        db(),
        `SELECT has_table_privilege('${role}', 'device_metrics_hourly', 'SELECT') AS ok`,
      );
      expect(grant!.ok).toBe(true);
      const kept = await expectHistoryKept(db(), before);
      expect(kept.device_metrics_hourly).toBeGreaterThanOrEqual(4 * 24);

      // The cron line alone (aggregates refresh) converts a view it finds, too.
      await query(db(), `DROP TABLE site_metrics_hourly`);
      const [check] = await query(db(), `SELECT count(*)::int AS n FROM health_checks`);
      expect(check!.n).toBeGreaterThan(0);
      await createEarlierViews(db(), ['site_metrics_hourly']);
      const refresh = await runCli(['aggregates', 'refresh', '--json', '--database-url', db().url], {
        timeoutMs: 120_000,
      });
      expect(refresh.code, refresh.stderr).toBe(0);
      expect(refresh.json().warnings.join(' ')).toMatch(
        /site_metrics_hourly was a materialized view .* turned into an aggregate table/,
      );
      expect((await relkinds(db())).site_metrics_hourly).toBe('r');
      const list = await runCli(['aggregates', 'list', '--json', '--database-url', db().url]);
      expect(list.json().aggregates.map((a: any) => [a.name, a.kind, a.definitionMatches])).toEqual(
        AGGREGATE_NAMES.map((n) => [n, 'table', true]),
      );
      await query(db(), `DROP OWNED BY ${role}`);
      await query(db(), `DROP ROLE ${role}`);
    }, 300_000);
  });
}
