/**
 * The aggregates' numbers by plain SQL over health_checks, and the check that
 * every row an aggregate holds equals them (shared by aggregates and demo tests).
 */
import { expect } from 'vitest';
import type { Sql } from './databases.js';
import { loadSchema } from './homepot.js';

export const AGGREGATE_NAMES = ['device_metrics_hourly', 'device_metrics_daily', 'site_metrics_hourly'];

// The same numbers by plain SQL over health_checks, for each aggregate.
const measures = `
  count(*) AS check_count,
  avg((response_data->'system'->>'cpu_percent')::float8) AS avg_cpu, max((response_data->'system'->>'cpu_percent')::float8) AS max_cpu,
  avg((response_data->'system'->>'memory_percent')::float8) AS avg_memory, max((response_data->'system'->>'memory_percent')::float8) AS max_memory,
  avg((response_data->'system'->>'disk_percent')::float8) AS avg_disk, max((response_data->'system'->>'disk_percent')::float8) AS max_disk,
  sum((response_data->'app_metrics'->>'transactions_count')::int) AS total_transactions, sum((response_data->'app_metrics'->>'errors_count')::int) AS total_errors,
  avg((response_data->'network'->>'latency_ms')::float8) AS avg_latency, avg(response_time_ms) AS avg_response_time,
  sum(CASE WHEN is_healthy THEN 0 ELSE 1 END) AS unhealthy_count`;
export const EXPECTED: Record<string, { expected: string; actual: string; exact: string[]; approx: string[] }> = {
  device_metrics_hourly: {
    expected: `SELECT date_trunc('hour', "timestamp" AT TIME ZONE 'UTC') AS t, device_id AS k, ${measures} FROM health_checks GROUP BY 1, 2 ORDER BY 1, 2`,
    actual: `SELECT hour AT TIME ZONE 'UTC' AS t, device_id AS k, * FROM device_metrics_hourly ORDER BY 1, 2`,
    exact: [
      'check_count',
      'total_transactions',
      'total_errors',
      'unhealthy_count',
      'max_cpu',
      'max_memory',
      'max_disk',
    ],
    approx: ['avg_cpu', 'avg_memory', 'avg_disk', 'avg_latency', 'avg_response_time'],
  },
  device_metrics_daily: {
    expected: `SELECT date_trunc('day', "timestamp" AT TIME ZONE 'UTC') AS t, device_id AS k, ${measures},
                 avg((response_data->'system'->>'uptime_seconds')::float8) AS avg_uptime FROM health_checks GROUP BY 1, 2 ORDER BY 1, 2`,
    actual: `SELECT day AT TIME ZONE 'UTC' AS t, device_id AS k, * FROM device_metrics_daily ORDER BY 1, 2`,
    exact: ['check_count', 'total_transactions', 'total_errors', 'unhealthy_count', 'max_cpu'],
    approx: ['avg_cpu', 'avg_memory', 'avg_disk', 'avg_latency', 'avg_response_time', 'avg_uptime'],
  },
  site_metrics_hourly: {
    expected: `SELECT date_trunc('hour', h."timestamp" AT TIME ZONE 'UTC') AS t, d.site_id AS k,
                 count(DISTINCT h.device_id) AS device_count, count(*) AS total_checks,
                 avg((h.response_data->'system'->>'cpu_percent')::float8) AS avg_cpu, avg((h.response_data->'system'->>'memory_percent')::float8) AS avg_memory,
                 sum((h.response_data->'app_metrics'->>'transactions_count')::int) AS total_transactions,
                 sum((h.response_data->'app_metrics'->>'errors_count')::int) AS total_errors,
                 avg(h.response_time_ms) AS avg_response_time, sum(CASE WHEN h.is_healthy THEN 0 ELSE 1 END) AS unhealthy_checks
               FROM health_checks h JOIN devices d ON d.id = h.device_id GROUP BY 1, 2 ORDER BY 1, 2`,
    actual: `SELECT hour AT TIME ZONE 'UTC' AS t, site_id AS k, * FROM site_metrics_hourly ORDER BY 1, 2`,
    exact: ['device_count', 'total_checks', 'total_transactions', 'total_errors', 'unhealthy_checks'],
    approx: ['avg_cpu', 'avg_memory', 'avg_response_time'],
  },
};

/**
 * Every row of the aggregate equals the plain-SQL numbers and no row is missing or extra:
 * counts and sums exactly, averages within 1e-9 relative. Returns the number of rows.
 */
export async function expectAggregateMatchesSql(sql: Pick<Sql, 'unsafe'>, name: string): Promise<number> {
  const q = EXPECTED[name];
  if (!q) throw new Error(`no plain-SQL query for ${name}`);
  const expected = await sql.unsafe(q.expected);
  const actual = await sql.unsafe(q.actual);
  return compareRows(name, q, expected, actual);
}

/** The plain-SQL rows of an aggregate (t: the bucket as timestamp in UTC, k: the key), ordered as the aggregate's. */
export async function plainSqlRows(sql: Pick<Sql, 'unsafe'>, name: string): Promise<any[]> {
  return [...(await sql.unsafe(EXPECTED[name].expected))];
}

/**
 * Every row of the aggregate equals `expected` (rows as plainSqlRows gives them,
 * e.g. some read before retention dropped their raw rows), and no row is missing
 * or extra. Returns the number of rows.
 */
export async function expectAggregateRows(sql: Pick<Sql, 'unsafe'>, name: string, expected: any[]): Promise<number> {
  const q = EXPECTED[name];
  if (!q) throw new Error(`no plain-SQL query for ${name}`);
  return compareRows(name, q, expected, await sql.unsafe(q.actual));
}

function compareRows(name: string, q: (typeof EXPECTED)[string], expected: any[], actual: any[]): number {
  expect(actual.length, `${name}: rows`).toBe(expected.length);
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  for (const [i, e] of expected.entries()) {
    const a = actual[i];
    const where = `${name} ${new Date(e.t).toISOString()} key ${e.k}`;
    expect(String(a.t), where).toBe(String(e.t));
    expect(a.k, where).toBe(e.k);
    for (const col of q.exact) expect(n(a[col]), `${where} ${col}`).toBe(n(e[col]));
    for (const col of q.approx) {
      if (e[col] === null) expect(a[col], `${where} ${col}`).toBeNull();
      else
        expect(Math.abs(n(a[col])! - n(e[col])!), `${where} ${col}`).toBeLessThanOrEqual(
          1e-9 * Math.max(1, Math.abs(n(e[col])!)),
        );
    }
  }
  return expected.length;
}

/** Rows of one aggregate that differ from the expected rows: found by a FULL OUTER JOIN on (bucket, key). */
export interface Mismatch {
  /** Expected rows with no row in the aggregate. */
  missing: number;
  /** Aggregate rows that are not expected. */
  extra: number;
  /** Rows on both sides whose numbers differ (counts and sums exactly, averages within 1e-9 relative). */
  differ: number;
  /** Expected rows. */
  expected: number;
}

const bucketColumn = (name: string) => (name === 'device_metrics_daily' ? 'day' : 'hour');
const keyColumn = (name: string) => (name === 'site_metrics_hourly' ? 'site_id' : 'device_id');

/**
 * Compare an aggregate with the plain-SQL numbers over health_checks (or with
 * `expectedFrom`, a table holding rows of that shape saved earlier, e.g.
 * before retention dropped raw rows) by a FULL OUTER JOIN in the server, and
 * count what is missing, extra or different. Times compare as UTC wall time,
 * so no session TimeZone shifts them.
 */
export async function aggregateMismatch(
  sql: Pick<Sql, 'unsafe'>,
  name: string,
  options: { expectedFrom?: string } = {},
): Promise<Mismatch> {
  const q = EXPECTED[name];
  if (!q) throw new Error(`no plain-SQL query for ${name}`);
  const cols = [...q.exact, ...q.approx];
  const expected = options.expectedFrom
    ? `SELECT * FROM ${options.expectedFrom}`
    : q.expected.replace(/ORDER BY 1, 2\s*$/, '');
  const actual = `SELECT ${bucketColumn(name)} AT TIME ZONE 'UTC' AS t, ${keyColumn(name)} AS k, ${cols.join(', ')} FROM ${name}`;
  const exactDiff = q.exact.map((c) => `a.${c}::numeric IS DISTINCT FROM e.${c}::numeric`);
  const approxDiff = q.approx.map(
    (c) =>
      `(a.${c} IS NULL) <> (e.${c} IS NULL) OR abs(a.${c}::float8 - e.${c}::float8) > 1e-9 * greatest(1, abs(e.${c}::float8))`,
  );
  const [r] = await sql.unsafe(`
    WITH e AS (${expected}), a AS (${actual})
    SELECT count(*) FILTER (WHERE a.t IS NULL)::int AS missing,
           count(*) FILTER (WHERE e.t IS NULL)::int AS extra,
           count(*) FILTER (WHERE a.t IS NOT NULL AND e.t IS NOT NULL AND (${[...exactDiff, ...approxDiff].join(' OR ')}))::int AS differ,
           count(e.t)::int AS expected
    FROM e FULL OUTER JOIN a ON a.t = e.t AND a.k = e.k`);
  return { missing: r.missing, extra: r.extra, differ: r.differ, expected: r.expected };
}

/** Save the plain-SQL numbers of an aggregate into a table, to compare with after raw rows are dropped. */
export async function saveExpected(sql: Pick<Sql, 'unsafe'>, name: string, table: string): Promise<void> {
  const q = EXPECTED[name];
  if (!q) throw new Error(`no plain-SQL query for ${name}`);
  await sql.unsafe(`DROP TABLE IF EXISTS ${table}`);
  await sql.unsafe(`CREATE TABLE ${table} AS ${q.expected.replace(/ORDER BY 1, 2\s*$/, '')}`);
}

/**
 * HOMEPOT-shaped data: 2 sites x 3 devices, one check a minute for `days` up
 * to now, with unhealthy checks, NULL response_data, missing keys and NULL
 * response times. On TimescaleDB health_checks becomes a hypertable with
 * chunks of `chunkInterval` (default 1 day). `withoutTimeZone`: the time
 * column is `timestamp without time zone` (times in UTC; load in a UTC session).
 */
export async function loadFleet(
  sql: Sql,
  options: { timescale: boolean; days: number; chunkInterval?: string; withoutTimeZone?: boolean },
): Promise<void> {
  await loadSchema(sql);
  if (options.withoutTimeZone) {
    // SQLAlchemy's default DateTime: times in UTC, stored without a zone.
    await sql.unsafe(
      `ALTER TABLE health_checks ALTER COLUMN "timestamp" TYPE timestamp USING "timestamp" AT TIME ZONE 'UTC'`,
    );
  }
  if (options.timescale) {
    await sql.unsafe(`CREATE EXTENSION IF NOT EXISTS timescaledb`);
    await sql.unsafe(
      `SELECT create_hypertable('health_checks', by_range('timestamp', INTERVAL '${options.chunkInterval ?? '1 day'}'))`,
    );
  }
  await sql.unsafe(`
    INSERT INTO sites (site_id, name) SELECT 'SITE-' || s, 'Site ' || s FROM generate_series(1, 2) s;
    INSERT INTO devices (device_id, name, device_type, site_id)
      SELECT 'dev-' || s || '-' || i, 'Device ' || s || '-' || i, 'pos_terminal', (SELECT id FROM sites WHERE site_id = 'SITE-' || s)
      FROM generate_series(1, 2) s, generate_series(1, 3) i;`);
  await insertChecks(
    sql,
    `date_trunc('minute', now()) - INTERVAL '${options.days} days'`,
    `date_trunc('minute', now())`,
    '1 minute',
  );
  await sql.unsafe(`ANALYZE sites, devices, health_checks`);
}

/**
 * HOMEPOT-shaped health checks for every device from `from` to `to` (SQL expressions) every
 * `step`: some unhealthy, NULL response_data, missing keys and NULL response times.
 */
export async function insertChecks(sql: Sql, from: string, to: string, step: string): Promise<void> {
  await sql.unsafe(`
    INSERT INTO health_checks (device_id, is_healthy, response_time_ms, status_code, response_data, "timestamp")
    SELECT d.id, random() > 0.05, CASE WHEN random() < 0.02 THEN NULL ELSE (random() * 100)::int END, 200,
           CASE WHEN random() < 0.01 THEN NULL
                WHEN random() < 0.01 THEN json_build_object('system', json_build_object('cpu_percent', 12.5))
                ELSE json_build_object(
                  'system', json_build_object('cpu_percent', round((random() * 100)::numeric, 1), 'memory_percent', round((random() * 100)::numeric, 1),
                                              'disk_percent', round((random() * 100)::numeric, 1), 'uptime_seconds', (random() * 1e6)::int),
                  'app_metrics', json_build_object('transactions_count', (random() * 10)::int, 'errors_count', (random() * 2)::int),
                  'network', json_build_object('latency_ms', round((random() * 50)::numeric, 1))) END,
           t
    FROM devices d, generate_series(${from}, ${to}, INTERVAL '${step}') t`);
}
