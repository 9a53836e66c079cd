import type { Sql } from '../db/connection.js';
import type { Interval } from '../core/intervals.js';
import { num } from '../core/numbers.js';
import { query } from '../db/sql.js';

/**
 * Retention against the aggregates' refresh windows, shared by
 * create-aggregates (its policies against the retention policy) and
 * `retention set` (a new retention against the refresh policies there are):
 * a refresh over a range whose raw rows retention dropped recomputes the
 * continuous aggregate's buckets there from nothing, deleting them.
 */

export interface RefreshWindow {
  name: string;
  /** How far back a refresh reaches; null: all history. */
  startOffset: Interval | null;
}

/**
 * One warning per aggregate whose refresh window reaches raw rows a
 * retention of `dropAfter` drops. `retention` says which retention it is
 * ("the retention policy (job 1002)", "this retention").
 */
export function retentionInsideWindows(dropAfter: Interval, retention: string, windows: RefreshWindow[]): string[] {
  return windows
    .filter((w) => w.startOffset === null || w.startOffset.seconds >= dropAfter.seconds)
    .map(
      (w) =>
        `${w.name}: ${retention} drops raw health checks after ${dropAfter.text}, inside this aggregate's refresh window (start offset ${w.startOffset?.text ?? 'none: all history'}): a refresh over dropped data deletes the aggregate's rows for it. Use a start offset shorter than ${dropAfter.text}, or a longer retention.`,
    );
}

/** The refresh windows of the continuous aggregates on `table` (their refresh policies), as the server has them. */
export async function readRefreshWindows(sql: Sql, table: { schema: string; name: string }): Promise<RefreshWindow[]> {
  const rows = await query<{ name: string; start_offset: string | null; start_offset_seconds: unknown }>(
    sql,
    'steps/refresh-windows.sql',
    [table.schema, table.name],
  );
  return rows.map((r) => {
    const seconds = num(r.start_offset_seconds);
    return { name: r.name, startOffset: r.start_offset && seconds !== null ? { text: r.start_offset, seconds } : null };
  });
}
