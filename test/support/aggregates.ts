/**
 * The aggregates' numbers by plain SQL over health_checks, and the check that
 * every row an aggregate holds equals them (shared by aggregates and demo tests).
 */
import { expect } from 'vitest';
import type { Sql } from './databases.js';

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
