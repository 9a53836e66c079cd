/**
 * Issue 9, item 6: time values never travel as text that the server parses
 * back under the session's DateStyle or TimeZone. Real deployments set both on
 * the database or the role (ALTER DATABASE ... SET datestyle/timezone); with
 * 'Postgres, MDY' and 'Asia/Shanghai' the server prints a timestamptz as
 * 'Wed Nov 05 08:00:00 2025 CST', and reads "CST" back as US Central time
 * (UTC-6, not UTC+8): a cutoff rendered with %L, or a Date parsed from such
 * text, is 14 hours off.
 *
 * The test client itself runs under those settings too, so every time it
 * reads comes back as an epoch number, and every time it sends is bound.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { describeWithDatabase, type Sql, type TestDatabase } from './support/databases.js';
import { loadSchema } from './support/homepot.js';
import { runCreateAggregates } from '../src/aggregates/create.js';
import { resolveAggregateOptions } from '../src/cli/options.js';
import { parseInterval } from '../src/core/intervals.js';

const DAY_MS = 86_400_000;
const HOSTILE = { datestyle: 'Postgres, MDY', timezone: 'Asia/Shanghai', intervalstyle: 'iso_8601' };

/**
 * HOMEPOT's schema, 2 devices reporting every hour for the last 10 days,
 * offset by 30 minutes so no row lies within minutes of a 7-day cutoff.
 * hypertable: 1-day chunks.
 */
async function loadHourlyRows(sql: Sql, hypertable: boolean): Promise<void> {
  await loadSchema(sql);
  if (hypertable) {
    await sql.unsafe(`
      CREATE EXTENSION IF NOT EXISTS timescaledb;
      SELECT create_hypertable('health_checks', by_range('timestamp', INTERVAL '1 day'));`);
  }
  await sql.unsafe(`
    INSERT INTO sites (site_id, name) VALUES ('SITE-T', 'Time site');
    INSERT INTO devices (device_id, name, device_type, site_id)
      SELECT 'dev-' || i, 'Device ' || i, 'pos_terminal', (SELECT id FROM sites WHERE site_id = 'SITE-T')
      FROM generate_series(1, 2) i;
    INSERT INTO health_checks (device_id, is_healthy, response_time_ms, status_code, "timestamp")
      SELECT d.id, true, 20, 200, t
      FROM devices d, generate_series(now() - INTERVAL '10 days' + INTERVAL '30 minutes', now(), INTERVAL '1 hour') t;
    ANALYZE health_checks;`);
}

/** Set the hostile DateStyle and TimeZone on the database, as its owner or a DBA would; new sessions get them. */
async function setHostileDefaults(db: TestDatabase): Promise<void> {
  const sql = db.sql();
  const name = `"${db.name.replace(/"/g, '""')}"`;
  await sql.unsafe(`ALTER DATABASE ${name} SET datestyle = '${HOSTILE.datestyle}'`);
  await sql.unsafe(`ALTER DATABASE ${name} SET timezone = '${HOSTILE.timezone}'`);
  await sql.unsafe(`ALTER DATABASE ${name} SET intervalstyle = '${HOSTILE.intervalstyle}'`);
  await db.closeClients();
  const [s] = await db
    .sql()
    .unsafe(
      `SELECT current_setting('datestyle') AS ds, current_setting('timezone') AS tz, now()::text AS now, INTERVAL '7 days'::text AS week`,
    );
  await db.closeClients();
  // The settings are in effect for a new session: the server prints times the hostile way.
  expect(s).toMatchObject({ ds: HOSTILE.datestyle, tz: HOSTILE.timezone, week: 'P7D' });
  expect(s.now).toMatch(/ CST$/);
}

/** Rows with "timestamp" before `at` and in all, counted with the instant bound as a parameter. */
async function countRows(db: TestDatabase, at: Date): Promise<{ old: number; total: number }> {
  const [r] = await db.sql()<{ old: number; total: number }[]>`
    SELECT count(*) FILTER (WHERE "timestamp" < ${at}::timestamptz)::int AS old, count(*)::int AS total FROM health_checks`;
  await db.closeClients();
  return r;
}

/** What a literal of the printed statement means, read by the server under the hostile settings (ms since the epoch). */
async function literalMeans(db: TestDatabase, literal: string): Promise<number> {
  const [r] = await db.sql()<
    { ms: number }[]
  >`SELECT (extract(epoch FROM ${literal}::text::timestamptz) * 1000)::float8 AS ms`;
  await db.closeClients();
  return r.ms;
}

/** The one '...'::timestamptz literal in the statement. */
function timestamptzLiteral(statement: string): string {
  const literals = [...statement.matchAll(/'([^']*)'::timestamptz/g)].map((m) => m[1]);
  expect(new Set(literals).size, statement).toBe(1);
  return literals[0];
}

/** The cutoff in the human summary on stderr: "older than 7 days (before 2025-11-05 08:00:00Z)". */
function printedCutoff(stderr: string): number {
  // "older than 7 days (the option; before 2025-11-05 03:17:00Z)": where the age came from, then the cutoff.
  const m = stderr.match(/[(;] ?before (\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ)\)/);
  expect(m, stderr).not.toBeNull();
  return new Date(m![1].replace(' ', 'T')).getTime();
}

const withinAMinute = (actual: number, expected: number, what: string) =>
  expect(
    Math.abs(actual - expected),
    `${what}: ${new Date(actual).toISOString()} vs ${new Date(expected).toISOString()}`,
  ).toBeLessThan(60_000);

describeWithDatabase('postgres', 'retention run under a database DateStyle and TimeZone: DELETE in batches', (db) => {
  beforeAll(async () => {
    await loadHourlyRows(db().sql(), false);
    await db().closeClients();
    await setHostileDefaults(db());
  });

  it('--dry-run: the statement and the printed cutoff mean now - 7 days', async () => {
    const t0 = Date.now();
    const r = await runCli([
      '--wide',
      'retention',
      'run',
      '--older-than',
      '7d',
      '--dry-run',
      '--database-url',
      db().url,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const statement = r.stdout.split('\n').find((l) => l.includes('DELETE FROM ONLY'));
    expect(statement, r.stdout).toBeDefined();
    withinAMinute(await literalMeans(db(), timestamptzLiteral(statement!)), t0 - 7 * DAY_MS, 'DELETE literal');
    // Whole seconds in the summary.
    withinAMinute(printedCutoff(r.stderr), t0 - 7 * DAY_MS, 'printed cutoff');
    const { old, total } = await countRows(db(), new Date(t0 - 7 * DAY_MS));
    expect(total).toBe(2 * 240);
    expect(r.stderr).toContain(`would delete ${old} rows`);
  });

  it('deletes exactly the rows older than now - 7 days, and --json gives that cutoff in UTC', async () => {
    const t0 = Date.now();
    const want = await countRows(db(), new Date(t0 - 7 * DAY_MS));
    expect(want.old).toBe(2 * 72);
    const r = await runCli([
      'retention',
      'run',
      '--older-than',
      '7d',
      '--batch-rows',
      '50',
      '--json',
      '--database-url',
      db().url,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j).toMatchObject({ method: 'delete', rowsDeleted: want.old, changed: true });
    expect(j.cutoff).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    withinAMinute(new Date(j.cutoff).getTime(), t0 - 7 * DAY_MS, 'JSON cutoff');
    withinAMinute(
      await literalMeans(db(), timestamptzLiteral(j.steps[0].statements[0])),
      t0 - 7 * DAY_MS,
      'DELETE literal',
    );
    const after = await countRows(db(), new Date(t0 - 7 * DAY_MS));
    expect(after).toEqual({ old: 0, total: want.total - want.old });
  });
});

describeWithDatabase('apache', 'retention run under a database DateStyle and TimeZone: drop_chunks', (db) => {
  beforeAll(async () => {
    await loadHourlyRows(db().sql(), true);
    await db().closeClients();
    await setHostileDefaults(db());
  });

  /** The end of every chunk, ms since the epoch. */
  async function chunkEnds(): Promise<number[]> {
    const rows = await db().sql()<{ ms: number }[]>`
      SELECT (extract(epoch FROM range_end) * 1000)::float8 AS ms FROM timescaledb_information.chunks
      WHERE hypertable_name = 'health_checks' ORDER BY 1`;
    await db().closeClients();
    return rows.map((r) => r.ms);
  }

  it('times and intervals the server sends as typed values (chunk ranges, chunk interval) read right', async () => {
    const rows = await db().sql()<{ start_ms: number; end_ms: number }[]>`
      SELECT (extract(epoch FROM range_start) * 1000)::float8 AS start_ms, (extract(epoch FROM range_end) * 1000)::float8 AS end_ms
      FROM timescaledb_information.chunks WHERE hypertable_name = 'health_checks' ORDER BY range_start`;
    await db().closeClients();
    const r = await runCli(['chunks', '--order', 'oldest', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    const got = (r.json().chunks as { rangeStart: string; rangeEnd: string }[]).map((c) => [
      new Date(c.rangeStart).getTime(),
      new Date(c.rangeEnd).getTime(),
    ]);
    expect(got).toEqual(rows.map((x) => [x.start_ms, x.end_ms]));
    // Interval text the server prints for us is in the 'postgres' style, whatever the database's IntervalStyle.
    const ci = await runCli(['chunk-interval', '--json', '--database-url', db().url]);
    expect(ci.code, ci.stderr).toBe(0);
    expect(ci.json().chunkInterval).toBe('1 day');
  });

  it('--dry-run and the run print now - 7 days and drop exactly the chunks that end before it', async () => {
    const t0 = Date.now();
    const dry = await runCli([
      '--wide',
      'retention',
      'run',
      '--older-than',
      '7d',
      '--dry-run',
      '--database-url',
      db().url,
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    withinAMinute(printedCutoff(dry.stderr), t0 - 7 * DAY_MS, 'printed cutoff (dry run)');

    const ends = await chunkEnds();
    const r = await runCli(['retention', 'run', '--older-than', '7d', '--json', '--database-url', db().url]);
    expect(r.code, r.stderr).toBe(0);
    const j = r.json();
    expect(j.method).toBe('drop_chunks');
    expect(j.cutoff).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const cutoff = new Date(j.cutoff).getTime();
    withinAMinute(cutoff, t0 - 7 * DAY_MS, 'JSON cutoff');
    // drop_chunks removes whole chunks: those ending at or before the cutoff, and no row newer than it.
    const gone = ends.filter((e) => e <= cutoff);
    expect(gone.length).toBeGreaterThanOrEqual(2);
    expect(j.chunksDropped).toBe(gone.length);
    expect(await chunkEnds()).toEqual(ends.filter((e) => e > cutoff));
    const after = await countRows(db(), new Date(Math.max(...gone)));
    expect(after.old).toBe(0);
    const [newer] = await db().sql()<
      { n: number }[]
    >`SELECT count(*)::int AS n FROM health_checks WHERE "timestamp" >= ${new Date(cutoff)}::timestamptz`;
    await db().closeClients();
    expect(newer.n).toBe(2 * 168);
  });
});

// ---------------------------------------------------------------- aggregates

// The same numbers by plain SQL over health_checks (as test/aggregates.test.ts), in UTC buckets.
const EXPECTED: Record<string, { expected: string; actual: string }> = {
  device_metrics_hourly: {
    expected: `SELECT extract(epoch FROM date_trunc('hour', "timestamp" AT TIME ZONE 'UTC'))::float8 AS t, device_id AS k, count(*)::int AS n,
                 sum(response_time_ms)::float8 AS s FROM health_checks GROUP BY 1, 2 ORDER BY 1, 2`,
    actual: `SELECT extract(epoch FROM hour)::float8 AS t, device_id AS k, check_count::int AS n, (avg_response_time * check_count)::float8 AS s
             FROM device_metrics_hourly ORDER BY 1, 2`,
  },
  device_metrics_daily: {
    expected: `SELECT extract(epoch FROM date_trunc('day', "timestamp" AT TIME ZONE 'UTC'))::float8 AS t, device_id AS k, count(*)::int AS n,
                 sum(response_time_ms)::float8 AS s FROM health_checks GROUP BY 1, 2 ORDER BY 1, 2`,
    actual: `SELECT extract(epoch FROM day)::float8 AS t, device_id AS k, check_count::int AS n, (avg_response_time * check_count)::float8 AS s
             FROM device_metrics_daily ORDER BY 1, 2`,
  },
};

async function expectAggregatesCorrect(sql: Sql): Promise<void> {
  for (const [name, q] of Object.entries(EXPECTED)) {
    const expected = await sql.unsafe(q.expected);
    const actual = await sql.unsafe(q.actual);
    expect(actual.length, `${name}: rows`).toBe(expected.length);
    for (const [i, e] of expected.entries()) {
      const a = actual[i];
      const where = `${name} ${new Date(e.t * 1000).toISOString()} device ${e.k}`;
      expect([a.t, a.k, a.n], where).toEqual([e.t, e.k, e.n]);
      expect(Math.abs(a.s - e.s), where).toBeLessThan(1e-6 * Math.max(1, e.s));
    }
  }
}

describeWithDatabase('apache', 'create-aggregates under a database DateStyle and TimeZone: aggregate tables', (db) => {
  beforeAll(async () => {
    await loadHourlyRows(db().sql(), true);
    await db().closeClients();
    await setHostileDefaults(db());
  });

  it('windows carry their times as ISO 8601 UTC literals; the tables equal a GROUP BY, and list reports the right materialized-up-to', async () => {
    const r = await runCli(['create-aggregates', '--json', '--database-url', db().url], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    for (const m of r.json().materialized) {
      for (const s of m.statements) {
        const times = s.match(/'[^']*'::timestamptz/g) ?? [];
        expect(times.length, s).toBeGreaterThan(0);
        for (const t of times) expect(t).toMatch(/^'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00'::timestamptz$/);
      }
    }
    await expectAggregatesCorrect(db().sql());
    const [last] = await db().sql()<{ ms: number }[]>`
      SELECT (extract(epoch FROM max(date_trunc('hour', "timestamp", 'UTC'))) * 1000)::float8 + 3600000 AS ms FROM health_checks`;
    await db().closeClients();
    const list = await runCli(['aggregates', 'list', '--json', '--database-url', db().url]);
    expect(list.code, list.stderr).toBe(0);
    const hourly = list.json().aggregates.find((a: { name: string }) => a.name === 'device_metrics_hourly');
    expect(new Date(hourly.materializedUpTo).getTime()).toBe(last.ms);
  });
});

/**
 * The embedded PGlite ignores database and role settings (and its config
 * files), so the hostile settings are SET in the session that runs the
 * library function: what a database-level setting would give a session on a
 * real Community server, where refresh_continuous_aggregate runs.
 */
describeWithDatabase(
  'timescale',
  'create-aggregates under a session DateStyle and TimeZone: refresh_continuous_aggregate windows',
  (db) => {
    let sql: Sql;
    beforeAll(async () => {
      await loadHourlyRows(db().sql(), true);
      await db().closeClients();
      // One connection that stays open: the SETs last for the whole test.
      sql = db().connect({ max: 1, idle_timeout: 0 });
      await sql.unsafe(`SET datestyle = '${HOSTILE.datestyle}'`);
      await sql.unsafe(`SET timezone = '${HOSTILE.timezone}'`);
      await sql.unsafe(`SET intervalstyle = '${HOSTILE.intervalstyle}'`);
    });
    afterAll(async () => {
      await db().closeClients();
    });

    it('materializes the history in 1-day windows; the rows equal a GROUP BY over the raw rows', async () => {
      const [s] = await sql.unsafe(`SELECT current_setting('datestyle') AS ds, now()::text AS now`);
      expect(s).toMatchObject({ ds: HOSTILE.datestyle });
      expect(s.now).toMatch(/ CST$/);
      const opts = resolveAggregateOptions({ window: parseInterval('1 day') }, {});
      const result = await runCreateAggregates(sql, opts);
      expect(result.failedStep).toBeNull();
      const hourly = result.materialized.find((m) => m.aggregate === 'device_metrics_hourly')!;
      expect(hourly.windows).toBeGreaterThanOrEqual(10);
      expect(hourly.windowsDone).toBe(hourly.windows);
      // The windows start at the oldest raw row's hour, in UTC.
      const [first] = await sql.unsafe(
        `SELECT (extract(epoch FROM date_trunc('hour', min("timestamp"), 'UTC')) * 1000)::float8 AS ms FROM health_checks`,
      );
      expect(hourly.from?.getTime()).toBe(first.ms);
      // Whatever the session's DateStyle, each window's literals mean the bounds the tool chose.
      const lits = [...hourly.statements[0].matchAll(/'([^']*)'::timestamptz/g)].map((m) => m[1]);
      expect(lits).toHaveLength(2);
      const [meant] = await sql<
        { ms: number }[]
      >`SELECT (extract(epoch FROM ${lits[0]}::text::timestamptz) * 1000)::float8 AS ms`;
      expect(meant.ms).toBe(first.ms);
      // Real-time rows off: only what the windows materialized is compared.
      await sql.unsafe(`ALTER MATERIALIZED VIEW device_metrics_hourly SET (timescaledb.materialized_only = true)`);
      await sql.unsafe(`ALTER MATERIALIZED VIEW device_metrics_daily SET (timescaledb.materialized_only = true)`);
      await expectAggregatesCorrectUpTo(sql);
    }, 180_000);
  },
);

/**
 * With real-time rows off, the materialized rows must equal the GROUP BY over
 * the raw rows up to the end of the last refreshed window (the hour before
 * the end offset, 1 hour); the daily view covers whole days only.
 */
async function expectAggregatesCorrectUpTo(sql: Sql): Promise<void> {
  const [w] = await sql.unsafe(`
    SELECT extract(epoch FROM date_trunc('hour', now() - INTERVAL '1 hour', 'UTC'))::float8 AS hour_end,
           extract(epoch FROM date_trunc('day', now() - INTERVAL '1 hour', 'UTC'))::float8 AS day_end`);
  for (const [name, q] of Object.entries(EXPECTED)) {
    const end = name.endsWith('daily') ? w.day_end : w.hour_end;
    const expected = (await sql.unsafe(q.expected)).filter((e) => e.t < end);
    const actual = await sql.unsafe(q.actual);
    expect(
      actual.map((a) => [a.t, a.k, a.n]),
      name,
    ).toEqual(expected.map((e) => [e.t, e.k, e.n]));
    for (const [i, e] of expected.entries())
      expect(Math.abs(actual[i].s - e.s), name).toBeLessThan(1e-6 * Math.max(1, e.s));
  }
}
