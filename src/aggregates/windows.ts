import type { Capabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import type { Interval } from '../core/intervals.js';
import { num } from '../core/numbers.js';
import { epochMs } from '../core/times.js';
import { queryOne } from '../db/sql.js';
import { aggregateDefinition, type AggregateName } from './definitions.js';

/**
 * Planning a refresh: which buckets of an aggregate a refresh recomputes, in
 * which windows. For every kind of aggregate (continuous aggregates, and the
 * tables the tool refreshes itself where there are none); pure functions plus
 * the reads they need (readRawBounds, boundaryIncomplete).
 *
 * - Every window starts and ends on a bucket boundary of the view (whole
 *   hours, whole UTC days for device_metrics_daily): TimescaleDB refreshes
 *   only the buckets that lie wholly inside a window, so a 150-minute window
 *   skipped every hour it straddled. A window length that is not whole
 *   buckets is rounded up to whole buckets, and the plan says so.
 * - Nothing below the oldest raw row's bucket or the oldest complete raw
 *   bucket is recomputed: a bucket is
 *   rebuilt from the raw rows that are there, so rebuilding one whose rows
 *   retention dropped (wholly or in part) would delete or shrink history.
 *   Raw data is complete from the start of health_checks' oldest chunk
 *   (retention drops whole chunks), or on a plain table from its oldest row.
 *   The bucket holding that point is rebuilt only when the aggregate holds no
 *   more checks for it than the raw rows still there (first materialization,
 *   or nothing was dropped from it).
 */

export interface RawBounds {
  /** The oldest raw health check; null when health_checks is empty. */
  firstRow: Date | null;
  /** Raw rows are complete from here on (see basis); null when health_checks is empty. */
  completeFrom: Date | null;
  /** oldest-chunk: the start of health_checks' oldest chunk; oldest-row: a plain table's oldest row. */
  basis: 'oldest-chunk' | 'oldest-row';
  /** The server's clock when read. */
  now: Date;
}

/** The oldest raw row, where raw data is complete, and the server's clock: one read, times as numbers. */
export async function readRawBounds(conn: Sql, caps: Capabilities): Promise<RawBounds> {
  if (caps.timescaledb.installedVersion) {
    const r = await queryOne<{ chunk_start_ms: unknown; first_ms: unknown; now_ms: unknown }>(
      conn,
      'aggregates/lib/raw-bounds-hypertable.sql',
    );
    const firstRow = epochMs(r?.first_ms);
    const chunkStart = epochMs(r?.chunk_start_ms);
    const now = epochMs(r?.now_ms) ?? new Date();
    if (chunkStart && firstRow) return { firstRow, completeFrom: chunkStart, basis: 'oldest-chunk', now };
    return { firstRow, completeFrom: firstRow, basis: 'oldest-row', now };
  }
  const r = await queryOne<{ first_ms: unknown; now_ms: unknown }>(conn, 'aggregates/lib/raw-range.sql');
  const firstRow = epochMs(r?.first_ms);
  return { firstRow, completeFrom: firstRow, basis: 'oldest-row', now: epochMs(r?.now_ms) ?? new Date() };
}

/** The start of the bucket holding `d` (buckets of a fixed length from the Unix epoch, in UTC, as time_bucket's). */
export function bucketStart(d: Date, bucketMs: number): Date {
  return new Date(Math.floor(d.getTime() / bucketMs) * bucketMs);
}

/** A window length in whole buckets (rounded up, at least one bucket). */
function alignedWindowMs(windowMs: number, bucketMs: number): number {
  return Math.max(1, Math.ceil(windowMs / bucketMs)) * bucketMs;
}

/**
 * The bucket that holds `completeFrom` when it is not on a bucket boundary
 * (its raw rows may be partly dropped); null when there is none.
 */
export function boundaryBucket(raw: RawBounds, bucketMs: number): [Date, Date] | null {
  if (!raw.completeFrom) return null;
  const start = bucketStart(raw.completeFrom, bucketMs);
  if (start.getTime() === raw.completeFrom.getTime()) return null;
  return [start, new Date(start.getTime() + bucketMs)];
}

/** The column that counts an aggregate's raw checks. */
const CHECK_COUNT: Record<AggregateName, string> = {
  device_metrics_hourly: 'check_count',
  device_metrics_daily: 'check_count',
  site_metrics_hourly: 'total_checks',
};

/**
 * Whether rebuilding the boundary bucket would lose checks: the aggregate's
 * stored rows (`storage`: a continuous aggregate's materialization hypertable,
 * or the table itself) count more checks for it than the raw rows left.
 * Bounds travel as untyped ISO text, read as the time column's type (see
 * raw-checks-in.sql), so a session TimeZone never shifts them.
 */
export async function boundaryIncomplete(
  conn: Sql,
  name: AggregateName,
  storage: { schema: string; table: string },
  bucket: [Date, Date],
): Promise<boolean> {
  const def = aggregateDefinition(name);
  const [from, to] = [bucket[0].toISOString(), bucket[1].toISOString()];
  const raw = await queryOne<{ n: unknown }>(conn, 'aggregates/lib/raw-checks-in.sql', [from, to]);
  const [held] = await conn<{ n: unknown }[]>`
    SELECT coalesce(sum(${conn(CHECK_COUNT[name])}), 0)::bigint AS n
    FROM ${conn(storage.schema)}.${conn(storage.table)}
    WHERE ${conn(def.timeColumn)} >= ${from} AND ${conn(def.timeColumn)} < ${to}`;
  return (num(held?.n) ?? 0) > (num(raw?.n) ?? 0);
}

export interface WindowPlanInput {
  bucketMs: number;
  /** The window length asked for (--window, config aggregates.window). */
  windowMs: number;
  /** Asked start; null: from the oldest complete bucket. */
  from: Date | null;
  /** Asked end (exclusive): floored to a bucket boundary. */
  to: Date;
  raw: RawBounds;
  /** boundaryIncomplete() of boundaryBucket(raw), when there is one. */
  boundaryIncomplete: boolean;
}

export interface WindowPlan {
  /** Bucket-aligned [start, end); start null when there are no raw rows. */
  start: Date | null;
  end: Date;
  /** Bucket-aligned windows, oldest first; none when start is null or not before end. */
  windows: [Date, Date][];
  /** The window length used: whole buckets. */
  windowMs: number;
  /** The asked window was not whole buckets and was rounded up. */
  windowRounded: boolean;
  /** The oldest bucket whose raw data is complete; null when there are no raw rows. */
  oldestComplete: Date | null;
  /**
   * The asked start lay below the lowest bucket worth rebuilding and was
   * raised to it: the bucket of the oldest raw row (nothing older to rebuild
   * from), or the oldest complete bucket (the one below lost raw rows).
   */
  clipped: { asked: Date; to: Date; reason: 'no-raw-rows' | 'incomplete' } | null;
}

/** The oldest bucket whose raw rows are all there. */
function oldestCompleteBucket(raw: RawBounds, bucketMs: number, incomplete: boolean): Date | null {
  if (!raw.completeFrom) return null;
  const boundary = boundaryBucket(raw, bucketMs);
  if (!boundary) return raw.completeFrom;
  return incomplete ? boundary[1] : boundary[0];
}

/** Cut a planned range into bucket-aligned windows, clipped to the oldest complete bucket. */
export function planWindows(input: WindowPlanInput): WindowPlan {
  const { bucketMs, raw } = input;
  const windowMs = alignedWindowMs(input.windowMs, bucketMs);
  const base = { windowMs, windowRounded: windowMs !== input.windowMs };
  const end = bucketStart(input.to, bucketMs);
  const oldestComplete = oldestCompleteBucket(raw, bucketMs, input.boundaryIncomplete);
  if (!oldestComplete) return { ...base, start: null, end, windows: [], oldestComplete, clipped: null };
  // Below the oldest raw row there is nothing to rebuild from: a refresh there would only delete rows.
  const firstBucket = raw.firstRow ? bucketStart(raw.firstRow, bucketMs) : oldestComplete;
  const lowest = firstBucket > oldestComplete ? firstBucket : oldestComplete;
  const asked = input.from ? bucketStart(input.from, bucketMs) : lowest;
  const start = asked < lowest ? lowest : asked;
  const reason = firstBucket >= oldestComplete ? ('no-raw-rows' as const) : ('incomplete' as const);
  const clipped = asked < start ? { asked, to: start, reason } : null;
  const windows: [Date, Date][] = [];
  for (let t = start.getTime(); t < end.getTime(); t += windowMs) {
    windows.push([new Date(t), new Date(Math.min(t + windowMs, end.getTime()))]);
  }
  return { ...base, start, end, windows, oldestComplete, clipped };
}

/** What a plan says to people: a window rounded up to whole buckets, a start clipped to complete raw data. */
export function describePlan(plan: WindowPlan, bucket: Interval, window: Interval): string[] {
  const notes: string[] = [];
  if (plan.windowRounded) {
    notes.push(
      `windows of ${formatSpan(plan.windowMs)}: ${window.text} rounded up to whole ${bucket.text} buckets (a refresh recomputes only whole buckets)`,
    );
  }
  const c = plan.clipped;
  if (c) {
    const from = `started at ${c.to.toISOString()}, not ${c.asked.toISOString()}`;
    notes.push(
      c.reason === 'no-raw-rows'
        ? `${from}: there are no raw health checks before it (dropped by retention, or never written), so the buckets before it keep their rows`
        : `${from}: the raw health checks before it are incomplete (older chunks or rows dropped by retention), so the buckets before it keep their rows`,
    );
  }
  return notes;
}

/** A length in whole days or hours where it is one, for notes. */
function formatSpan(ms: number): string {
  const h = ms / 3_600_000;
  if (h % 24 === 0) return `${h / 24} day${h === 24 ? '' : 's'}`;
  return Number.isInteger(h) ? `${h} hour${h === 1 ? '' : 's'}` : `${ms / 1000} s`;
}
