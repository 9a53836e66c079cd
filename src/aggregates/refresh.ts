import { describeServerKind, detectCapabilities, type Capabilities } from '../db/capabilities.js';
import { hasFeature } from '../db/features.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import { parseInterval, type Interval } from '../core/intervals.js';
import { epochMs } from '../core/times.js';
import { withChangeLock } from '../db/plan.js';
import { preflight } from '../steps/hypertable.js';
import { executeRendered, inTransaction, renderStatement } from '../db/sql.js';
import {
  AGGREGATE_NAMES,
  aggregateDefinition,
  type AggregateKind,
  type AggregateName,
  type RefreshPolicy,
} from './definitions.js';
import { existingAggregate, missingAggregate, type ExistingAggregate } from './inspect.js';
import { hasForcedRefresh, refreshContinuous } from './refresh-continuous.js';

/**
 * Materializing: bringing an aggregate's rows up to date. A continuous
 * aggregate is refreshed in bounded windows, oldest first (so a long history
 * is done in steps that can be interrupted and continued); a materialized
 * view with one REFRESH. `refreshAggregate` is what create-aggregates
 * (history after creating) and `aggregates refresh` (runRefresh, fit for
 * cron) share; resolveTime reads their --from / --to.
 */

export interface MaterializeProgress {
  aggregate: AggregateName;
  /** Windows (continuous) or whole refreshes (materialized views) done and in all. */
  done: number;
  total: number;
  from: Date | null;
  to: Date | null;
  elapsedMs: number;
}

/**
 * How a refresh recomputed: `forced` every bucket of its windows
 * (refresh_continuous_aggregate's force); `changed-only` only the buckets
 * TimescaleDB saw change (raw rows inserted, updated or deleted since they
 * were last refreshed; an UPDATE of devices changes none); `whole` the whole
 * materialized view.
 */
export type RefreshMode = 'forced' | 'changed-only' | 'whole';

export interface MaterializeResult {
  aggregate: AggregateName;
  kind: AggregateKind;
  mode: RefreshMode;
  /** The window length used (whole buckets); null for a whole materialized view. */
  windowSeconds: number | null;
  /** What people should know: a window rounded up to whole buckets, a start clipped to complete raw data, retries. */
  notes: string[];
  /** What was (or, on --dry-run, would be) refreshed; null bounds for a whole materialized view. */
  from: Date | null;
  to: Date | null;
  windows: number;
  windowsDone: number;
  /** The statements, one per window (continuous) or the REFRESH (materialized view). */
  statements: string[];
  elapsedMs: number;
  /** Why nothing was refreshed, when so. */
  note?: string;
}

/** A result where nothing was refreshed, and why. */
export function nothingMaterialized(
  aggregate: AggregateName,
  kind: AggregateKind,
  note: string,
  bounds: { from: Date | null; to: Date | null; elapsedMs: number } = { from: null, to: null, elapsedMs: 0 },
): MaterializeResult {
  const { from, to, elapsedMs } = bounds;
  const mode: RefreshMode = kind === 'continuous' ? 'changed-only' : 'whole';
  return {
    aggregate,
    kind,
    mode,
    windowSeconds: null,
    notes: [],
    from,
    to,
    windows: 0,
    windowsDone: 0,
    statements: [],
    elapsedMs,
    note,
  };
}

export interface RefreshOptions {
  from?: Date | null;
  to?: Date | null;
  /** Start at the materialized-up-to mark instead of the oldest raw row (create-aggregates). */
  continueFromWatermark?: boolean;
  /** Recompute every bucket in the range, not only changed ones (a range asked for). */
  force?: boolean;
  /** The server can (hasForcedRefresh). */
  forceAvailable?: boolean;
  endOffset: Interval;
  window: Interval;
  dryRun: boolean;
  signal?: AbortSignal;
  onProgress?: (p: MaterializeProgress) => void;
}

/**
 * Refresh one aggregate: a continuous aggregate in bounded windows, oldest
 * first, each its own CALL refresh_continuous_aggregate (which cannot run in
 * a transaction block, so on the connection as it is); a materialized view
 * with one REFRESH, CONCURRENTLY when it is populated and has its unique
 * index. Windows are planned by windows.ts: bucket-aligned, never below the
 * oldest complete raw bucket. `from` null: continue from where it is
 * materialized up to (create) or from the oldest complete bucket (refresh).
 * `force`: recompute every bucket of the range (forced refresh), else only the
 * changed ones. Checks `signal` between windows: interrupted and run again, it
 * continues.
 */
export async function refreshAggregate(
  conn: Sql,
  caps: Capabilities,
  name: AggregateName,
  opts: RefreshOptions,
): Promise<MaterializeResult> {
  const t0 = performance.now();
  const def = aggregateDefinition(name);
  const existing = await existingAggregate(conn, caps, name);
  if (!existing || existing.kind === 'other') throw missingAggregate(name);
  return existing.kind === 'materialized'
    ? refreshView(conn, name, existing, opts, t0)
    : refreshContinuous(conn, caps, def, existing, opts, t0);
}

/** A materialized view: one REFRESH, in its own transaction. */
async function refreshView(
  conn: Sql,
  name: AggregateName,
  existing: ExistingAggregate,
  opts: RefreshOptions,
  t0: number,
): Promise<MaterializeResult> {
  const concurrently = existing.populated && existing.hasUniqueIndex;
  const statement = await renderStatement(conn, 'aggregates/lib/render-refresh-view.sql', [
    existing.schema,
    name,
    concurrently,
  ]);
  const progress = (done: number) =>
    opts.onProgress?.({ aggregate: name, done, total: 1, from: null, to: null, elapsedMs: performance.now() - t0 });
  if (!opts.dryRun) {
    opts.signal?.throwIfAborted();
    progress(0);
    await inTransaction(conn, {}, async () => {
      await executeRendered(conn, statement);
    });
    progress(1);
  }
  return {
    aggregate: name,
    kind: 'materialized',
    mode: 'whole',
    windowSeconds: null,
    notes: [],
    from: null,
    to: null,
    windows: 1,
    windowsDone: opts.dryRun ? 0 : 1,
    statements: [statement],
    elapsedMs: performance.now() - t0,
  };
}

/**
 * Parse --from / --to: an interval ago ("7 days") or a timestamp the server
 * reads (a timestamp without an offset is in the database's TimeZone; the
 * result comes back as a number, so no DateStyle shapes it).
 */
export async function resolveTime(sql: Sql, value: string | undefined, flag: string): Promise<Date | undefined> {
  if (value === undefined) return undefined;
  let ago: Interval | null = null;
  try {
    ago = parseInterval(value, flag);
  } catch {
    ago = null;
  }
  try {
    const [r] = ago
      ? await sql<{ ms: number }[]>`SELECT (extract(epoch FROM now() - ${ago.text}::interval) * 1000)::float8 AS ms`
      : await sql<{ ms: number }[]>`SELECT (extract(epoch FROM ${value}::timestamptz) * 1000)::float8 AS ms`;
    const t = epochMs(r?.ms);
    if (t) return t;
  } catch {
    // not a timestamp either (or ±infinity): said below
  }
  throw new HomepotError('usage', `${flag} "${value}" is neither a timestamp nor an interval ago`, {
    hint: `Give a timestamp such as 2025-11-01 or 2025-11-01T12:00Z, or an interval such as "7 days" (meaning 7 days ago).`,
  });
}

export interface RefreshResult {
  server: string;
  results: MaterializeResult[];
  warnings: string[];
}

/**
 * `aggregates refresh`: bring aggregates up to date. Continuous aggregates
 * in windows over [from, to) (default: the whole raw history up to now - the
 * policy's end offset; windows with nothing new cost next to nothing);
 * materialized views are refreshed whole. Fit for cron.
 */
export async function runRefresh(
  sql: Sql,
  opts: {
    names: AggregateName[];
    /** A Date, or what the user typed: a timestamp or an interval ago (resolveTime). */
    from?: Date | string;
    to?: Date | string;
    policies: Record<AggregateName, RefreshPolicy>;
    window: Interval;
    dryRun: boolean;
  },
  hooks: { onWait?: () => void; onProgress?: (p: MaterializeProgress) => void; signal?: AbortSignal } = {},
): Promise<RefreshResult> {
  // Bad times are usage errors before anything waits for the change lock.
  const from = typeof opts.from === 'string' ? await resolveTime(sql, opts.from, '--from') : opts.from;
  const to = typeof opts.to === 'string' ? await resolveTime(sql, opts.to, '--to') : opts.to;
  if (from && to && from >= to) throw new HomepotError('usage', '--from must be before --to');
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      if (!opts.dryRun) preflight(caps, { require: null });
      // A range asked for is recomputed whole: TimescaleDB alone would redo only buckets whose raw rows changed.
      const force = Boolean(from || to);
      const forceAvailable = force && hasFeature(caps, 'community') ? await hasForcedRefresh(conn) : false;
      const warnings: string[] = [];
      const results: MaterializeResult[] = [];
      for (const name of opts.names) {
        if (hooks.signal?.aborted) break;
        const ex = await existingAggregate(conn, caps, name);
        if (!ex) {
          if (opts.names.length === AGGREGATE_NAMES.length) {
            warnings.push(`${name} does not exist: run homepot-ts create-aggregates.`);
            continue;
          }
          throw missingAggregate(name);
        }
        if (ex.kind === 'materialized' && (from || to)) {
          warnings.push(
            `${name} is a materialized view: it is refreshed whole; --from/--to apply to continuous aggregates only.`,
          );
        }
        results.push(
          await refreshAggregate(conn, caps, name, {
            from: from ?? null,
            to: to ?? null,
            force,
            forceAvailable,
            endOffset: opts.policies[name].endOffset,
            window: opts.window,
            dryRun: opts.dryRun,
            ...(hooks.signal ? { signal: hooks.signal } : {}),
            ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
          }),
        );
      }
      return { server: describeServerKind(caps), results, warnings };
    },
    hooks.onWait,
  );
}
