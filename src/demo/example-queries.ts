import type { Sql } from '../db/connection.js';
import { query, queryOne } from '../db/sql.js';

/**
 * The seed's example dashboard queries on the three aggregates, as `demo`
 * shows them after loading a fleet: one device hourly over 24 hours, one
 * site hourly over 7 days, and the fleet's daily summary over 30 days. Their
 * SQL lives in sql/demo/example-*.sql; `query` is the text shown with each
 * result (the seed's wording, with the ids used). Read-only.
 */

export interface ExampleQueryResult {
  title: string;
  /** The query as the seed writes it, with the ids used. */
  query: string;
  rows: Record<string, unknown>[];
}

/**
 * The seed's dashboard queries on the aggregates, for the busiest device and
 * site found: device hourly over 24 h, site hourly over 7 days, and the
 * fleet's daily summary. Read-only; returns data.
 */
export async function exampleQueries(
  sql: Sql,
  options: { deviceId?: number; siteId?: number } = {},
): Promise<ExampleQueryResult[]> {
  const ids = await queryOne<{ device_id: number | null; site_id: number | null }>(sql, 'demo/example-ids.sql');
  const deviceId = options.deviceId ?? ids?.device_id ?? 0;
  const siteId = options.siteId ?? ids?.site_id ?? 0;
  type Row = Record<string, unknown>;
  const device = await query<Row>(sql, 'demo/example-device-hourly.sql', [deviceId]);
  const site = await query<Row>(sql, 'demo/example-site-hourly.sql', [siteId]);
  const daily = await query<Row>(sql, 'demo/example-fleet-daily.sql');
  return [
    {
      title: `device ${deviceId}, hourly, last 24 hours`,
      query: `SELECT * FROM device_metrics_hourly WHERE device_id = ${deviceId} AND hour >= NOW() - INTERVAL '24 hours'`,
      rows: [...device],
    },
    {
      title: `site ${siteId}, hourly, last 7 days`,
      query: `SELECT hour, device_count, avg_cpu, total_transactions FROM site_metrics_hourly WHERE site_id = ${siteId} AND hour >= NOW() - INTERVAL '7 days'`,
      rows: [...site],
    },
    {
      title: 'fleet, daily, last 30 days',
      query: `SELECT day, ... FROM device_metrics_daily WHERE day >= NOW() - INTERVAL '30 days' GROUP BY day`,
      rows: [...daily],
    },
  ];
}
