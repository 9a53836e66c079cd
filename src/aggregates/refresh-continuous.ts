import type { Capabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import { executeRendered, queryOne, renderStatement } from '../db/sql.js';
import type { AggregateDefinition } from './definitions.js';
import type { ExistingAggregate } from './inspect.js';
import type { MaterializeResult, RefreshMode, RefreshOptions } from './refresh.js';
import {
  boundaryBucket,
  boundaryIncomplete,
  describePlan,
  planWindows,
  readRawBounds,
  type WindowPlan,
} from './windows.js';

/**
 * Refreshing a continuous aggregate (refreshAggregate's Community half): the
 * windows windows.ts plans, one CALL refresh_continuous_aggregate each,
 * forced (every bucket recomputed) when a range was asked for and the server
 * can, retried while a refresh policy holds the same aggregate.
 */

/** Which refresh_continuous_aggregate this server has; read once per run. */
export async function hasForcedRefresh(conn: Sql): Promise<boolean> {
  const row = await queryOne<{ has_force: boolean }>(conn, 'aggregates/lib/refresh-force.sql');
  return Boolean(row?.has_force);
}

/** Plan a continuous aggregate's windows (windows.ts): from the asked start, the watermark (create) or the oldest complete bucket. */
async function planContinuous(
  conn: Sql,
  caps: Capabilities,
  def: AggregateDefinition,
  existing: ExistingAggregate,
  opts: RefreshOptions,
): Promise<WindowPlan> {
  const raw = await readRawBounds(conn, caps);
  const bucketMs = def.bucket.seconds * 1000;
  const boundary = boundaryBucket(raw, bucketMs);
  const cont = existing.continuous!;
  const incomplete = boundary
    ? await boundaryIncomplete(conn, def.name, { schema: cont.mat_schema, table: cont.mat_table }, boundary)
    : false;
  let from = opts.from ?? null;
  // The watermark of an aggregate with nothing materialized is the lowest time TimescaleDB knows (4714 BC).
  const w = cont.watermark;
  if (from === null && opts.continueFromWatermark && w && raw.completeFrom && w > raw.completeFrom) from = w;
  return planWindows({
    bucketMs,
    windowMs: opts.window.seconds * 1000,
    from,
    to: opts.to ?? new Date(raw.now.getTime() - opts.endOffset.seconds * 1000),
    raw,
    boundaryIncomplete: incomplete,
  });
}

/** A continuous aggregate: one CALL per window, oldest first, outside a transaction. */
export async function refreshContinuous(
  conn: Sql,
  caps: Capabilities,
  def: AggregateDefinition,
  existing: ExistingAggregate,
  opts: RefreshOptions,
  t0: number,
): Promise<MaterializeResult> {
  const name = def.name;
  const plan = await planContinuous(conn, caps, def, existing, opts);
  const elapsed = () => performance.now() - t0;
  const mode: RefreshMode = opts.force && opts.forceAvailable ? 'forced' : 'changed-only';
  const notes = describePlan(plan, def.bucket, opts.window);
  if (opts.force && !opts.forceAvailable) notes.push(NO_FORCE_NOTE);
  const base = { aggregate: name, kind: 'continuous' as const, mode, windowSeconds: plan.windowMs / 1000, notes };
  const empty = (note: string, from: Date | null) => ({
    ...base,
    from,
    to: plan.end,
    windows: 0,
    windowsDone: 0,
    statements: [],
    elapsedMs: elapsed(),
    note,
  });
  if (!plan.start) return empty('health_checks is empty', null);
  if (plan.windows.length === 0) {
    const why = opts.continueFromWatermark
      ? 'already materialized up to the end of the window'
      : 'no whole bucket in the range';
    return empty(why, plan.start);
  }
  const statements: string[] = [];
  for (const [a, b] of plan.windows)
    statements.push(
      await renderStatement(conn, 'aggregates/lib/render-refresh-continuous.sql', [
        existing.schema,
        name,
        a,
        b,
        mode === 'forced',
      ]),
    );
  const { start, end } = plan;
  const progress = (done: number) =>
    opts.onProgress?.({
      aggregate: name,
      done,
      total: plan.windows.length,
      from: start,
      to: end,
      elapsedMs: elapsed(),
    });
  let done = 0;
  let retries = 0;
  if (!opts.dryRun) {
    progress(done);
    for (const [i, statement] of statements.entries()) {
      if (opts.signal?.aborted) break;
      // Outside a transaction: refresh_continuous_aggregate refuses to run inside one.
      retries += await refreshWindow(conn, statement, opts.signal);
      done = i + 1;
      progress(done);
    }
  }
  if (retries > 0)
    notes.push(
      `${retries} window refresh${retries === 1 ? '' : 'es'} retried: a refresh policy was refreshing at the same time`,
    );
  return {
    ...base,
    from: start,
    to: end,
    windows: plan.windows.length,
    windowsDone: done,
    statements,
    elapsedMs: elapsed(),
  };
}

const NO_FORCE_NOTE =
  'this TimescaleDB cannot force a refresh (refresh_continuous_aggregate has force from 2.18): only buckets whose raw rows changed were recomputed, so a device that moved site keeps its old site in them';

/**
 * Waits before retrying a window that met a concurrent refresh (55P03: a
 * refresh policy's job refreshing the same aggregate), about 30 s in all.
 */
const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 15000];

/** Run one window's CALL; retry it while a concurrent refresh holds the aggregate. Returns the retries. */
async function refreshWindow(conn: Sql, statement: string, signal?: AbortSignal): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      await executeRendered(conn, statement);
      return attempt;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== '55P03' || signal?.aborted) throw err;
      if (attempt >= RETRY_DELAYS_MS.length) {
        throw new HomepotError('sql-error', `${(err as Error).message}, still after ${attempt + 1} attempts`, {
          hint: "Another refresh of this aggregate (a refresh policy's job) was running all along: run aggregates refresh again later; the windows before this one are refreshed.",
          sqlstate: '55P03',
        });
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[attempt]));
    }
  }
}
