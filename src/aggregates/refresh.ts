import { describeServerKind, detectCapabilities, type Capabilities } from '../db/capabilities.js';
import { hasFeature } from '../db/features.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import { parseInterval, type Interval } from '../core/intervals.js';
import { epochMs } from '../core/times.js';
import { withChangeLock } from '../db/plan.js';
import { preflight } from '../steps/hypertable.js';
import {
  AGGREGATE_NAMES,
  aggregateDefinition,
  type AggregateKind,
  type AggregateName,
  type RefreshPolicy,
} from './definitions.js';
import { existingAggregate, missingAggregate, sameDefinition, type ExistingAggregate } from './inspect.js';
import { hasForcedRefresh, refreshContinuous } from './refresh-continuous.js';
import { migrateViewStep, refreshTable } from './tables.js';
import { applySteps } from '../db/plan.js';

/**
 * Materializing: bringing an aggregate's rows up to date. A continuous
 * aggregate is refreshed in bounded windows, oldest first (so a long history
 * is done in steps that can be interrupted and continued); an aggregate
 * table in windows too (tables.ts). `refreshAggregate` is what create-aggregates
 * (history after creating) and `aggregates refresh` (runRefresh, fit for
 * cron) share; resolveTime reads their --from / --to.
 */

export interface MaterializeProgress {
  aggregate: AggregateName;
  /** Windows done and in all. */
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
 * were last refreshed; an UPDATE of devices changes none). Aggregate tables
 * (tables.ts) always recompute every bucket of their windows: `forced`.
 */
export type RefreshMode = 'forced' | 'changed-only';

export interface MaterializeResult {
  aggregate: AggregateName;
  kind: AggregateKind;
  mode: RefreshMode;
  /** The window length used (whole buckets); null when nothing was planned. */
  windowSeconds: number | null;
  /** What people should know: a window rounded up to whole buckets, a start clipped to complete raw data, retries. */
  notes: string[];
  /** What was (or, on --dry-run, would be) refreshed; null bounds when nothing was. */
  from: Date | null;
  to: Date | null;
  windows: number;
  windowsDone: number;
  /** The statements: one per window (continuous), or each window's DELETE and INSERT (table). */
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
  const mode: RefreshMode = kind === 'continuous' ? 'changed-only' : 'forced';
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
  /** Aggregate tables, without from: refresh this far back (the policy's start offset; null: all raw history). */
  startOffset?: Interval | null;
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
  if (existing?.kind === 'table') return refreshTable(conn, caps, def, existing, opts, t0);
  // A materialized view is never REFRESHed: that would recompute it from the raw rows still there (runRefresh turns ours into tables first).
  if (!existing || existing.kind !== 'continuous') throw missingAggregate(name);
  return refreshContinuous(conn, caps, def, existing, opts, t0);
}

/**
 * A materialized view found where an aggregate should be: an earlier
 * homepot-ts's (same definition) is turned into an aggregate table first,
 * rows and grants kept (the step create-aggregates plans); anything else is
 * left alone. A REFRESH would recompute it from the raw rows still there.
 */
async function convertEarlierView(
  conn: Sql,
  ex: ExistingAggregate,
  name: AggregateName,
  opts: { dryRun: boolean; lockTimeout?: Interval },
): Promise<{ done: boolean; warning: string }> {
  if (!(await sameDefinition(conn, 'materialized', name, ex.definition))) {
    return {
      done: false,
      warning: `${name} is a materialized view homepot-ts did not make (its definition differs): left alone. create-aggregates --recreate replaces it with an aggregate table.`,
    };
  }
  const step = await migrateViewStep(conn, ex, name);
  if (opts.dryRun) {
    return {
      done: false,
      warning: `${name} is a materialized view an earlier homepot-ts made: the refresh turns it into an aggregate table first (rows and grants kept), then refreshes it by window. Statements: ${step.statements.join('; ')}`,
    };
  }
  const r = await applySteps(conn, [step], {
    dryRun: false,
    lockTimeout: opts.lockTimeout ?? parseInterval('10 seconds'),
  });
  const failed = r.steps.find((s) => s.outcome === 'failed');
  if (failed) {
    throw new HomepotError(
      'sql-error',
      `turning the materialized view ${name} into an aggregate table failed: ${failed.error?.message}`,
      {
        hint: 'Nothing was changed (one transaction). Run homepot-ts create-aggregates to see the plan.',
      },
    );
  }
  return {
    done: true,
    warning: `${name} was a materialized view made by an earlier homepot-ts: turned into an aggregate table (rows and grants kept), so retention no longer takes its history.`,
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
    /** For turning an earlier version's materialized view into a table (default 10 seconds). */
    lockTimeout?: Interval;
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
      if (!opts.dryRun) preflight(caps, { require: null }, 'aggregates refresh');
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
        if (ex.kind === 'materialized') {
          const converted = await convertEarlierView(conn, ex, name, opts);
          warnings.push(converted.warning);
          if (!converted.done) continue;
        }
        results.push(
          await refreshAggregate(conn, caps, name, {
            from: from ?? null,
            to: to ?? null,
            force,
            forceAvailable,
            startOffset: opts.policies[name].startOffset,
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
