import type { Capabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import { epochMs } from '../core/times.js';
import type { Step } from '../db/plan.js';
import { executeRendered, inTransaction, queryOne, renderList } from '../db/sql.js';
import {
  KIND_TEXT,
  definitionPath,
  definitionStatements,
  windowedQuery,
  type AggregateDefinition,
  type AggregateName,
} from './definitions.js';
import type { ExistingAggregate } from './inspect.js';
import { nothingMaterialized, type MaterializeResult, type RefreshOptions } from './refresh.js';
import {
  boundaryBucket,
  boundaryIncomplete,
  bucketStart,
  describePlan,
  planWindows,
  readRawBounds,
  type WindowPlan,
} from './windows.js';

/**
 * Aggregate tables: what the aggregates are where there are no continuous
 * aggregates (Apache edition, plain PostgreSQL). Ordinary tables with the
 * seed's names and columns, which `aggregates refresh` keeps current window
 * by window (DELETE the window's buckets and INSERT them recomputed, one
 * transaction per window), so that raw retention never takes their history
 * with it: windows.ts plans the windows, and never below the oldest bucket
 * whose raw rows are all there. Also turning the materialized views earlier versions made into such
 * tables, rows and grants kept.
 */

/** The statements that create an aggregate table: the table with its comment, then its unique index. */
export function tableStatements(name: AggregateName): { create: string[]; index: string[] } {
  const all = definitionStatements('table', name);
  return {
    create: all.filter((s) => !s.startsWith('CREATE UNIQUE INDEX')),
    index: all.filter((s) => s.startsWith('CREATE UNIQUE INDEX')),
  };
}

/** An aggregate table homepot-ts made: our comment, and owned by us (or a superuser). Its columns are compared apart. */
export const isOurTable = (ex: ExistingAggregate) => ex.kind === 'table' && ex.marked && ex.trusted;

/**
 * The step that turns a materialized view an earlier homepot-ts made into
 * the aggregate table: its rows copied, its grants carried, the view dropped
 * and the table given its name, then our comment and unique index; one
 * transaction (applySteps), under the change lock the caller holds.
 */
export async function migrateViewStep(
  conn: Sql,
  ex: ExistingAggregate,
  name: AggregateName,
  withIndex = true,
): Promise<Step> {
  if (!ex.trusted) {
    throw new HomepotError(
      'permission-denied',
      `${ex.schema}.${name} is a materialized view owned by role "${ex.owner}": homepot-ts turns only its own into tables`,
      { hint: `Nothing was changed. Run homepot-ts as "${ex.owner}", or drop the view and run create-aggregates.` },
    );
  }
  const temp = `${name}_homepot_ts_new`;
  const move = await renderList(conn, 'aggregates/lib/render-migrate-view.sql', [ex.schema, name, temp, ex.populated]);
  const { create, index } = tableStatements(name);
  return {
    id: `aggregate:${name}`,
    title: `${name} (${KIND_TEXT.table})`,
    state: 'different',
    current: `${KIND_TEXT.materialized} made by an earlier homepot-ts (a REFRESH recomputes it from the raw rows still there, losing the history retention dropped)`,
    wanted: `${KIND_TEXT.table} as in ${definitionPath('table', name)}, every row and grant of the view kept`,
    statements: [...move, ...create.filter((s) => s.startsWith('COMMENT')), ...(withIndex ? index : [])],
  };
}

const bucketMsOf = (def: AggregateDefinition) => def.bucket.seconds * 1000;

/** The end of the table's newest bucket (where create-aggregates continues, as from a watermark), or null when it is empty. */
async function materializedUpTo(conn: Sql, ex: ExistingAggregate, def: AggregateDefinition): Promise<Date | null> {
  const [r] = await conn<{ ms: number | null }[]>`
    SELECT (extract(epoch FROM max(${conn(def.timeColumn)})) * 1000)::float8 AS ms FROM ${conn(ex.schema)}.${conn(def.name)}`;
  const newest = epochMs(r?.ms);
  return newest ? new Date(newest.getTime() + bucketMsOf(def)) : null;
}

/**
 * A table's refresh, planned by windows.ts (whole buckets, never below the
 * oldest complete raw bucket: the buckets below keep the rows computed when
 * their raw rows were all there). The start asked for: --from, else the end
 * of the table's newest bucket (create-aggregates: a second run has nothing
 * to do; aggregates refresh keeps the newest buckets current), else the refresh policy's
 * start offset ago (late health checks of the last days), else the oldest
 * complete bucket. The end: --to, else the end of the current bucket (a table
 * has no real-time part, so the newest rows are in it after each refresh).
 */
async function planTableRefresh(
  conn: Sql,
  caps: Capabilities,
  def: AggregateDefinition,
  ex: ExistingAggregate,
  opts: RefreshOptions,
): Promise<WindowPlan> {
  const raw = await readRawBounds(conn, caps);
  const bucketMs = bucketMsOf(def);
  const boundary = boundaryBucket(raw, bucketMs);
  const incomplete = boundary
    ? await boundaryIncomplete(conn, def.name, { schema: ex.schema, table: def.name }, boundary)
    : false;
  let from: Date | null = opts.from ?? null;
  if (!from && opts.continueFromWatermark) from = await materializedUpTo(conn, ex, def);
  if (!from && !opts.continueFromWatermark && opts.startOffset)
    from = new Date(raw.now.getTime() - opts.startOffset.seconds * 1000);
  return planWindows({
    bucketMs,
    windowMs: opts.window.seconds * 1000,
    from,
    to: opts.to ?? new Date(bucketStart(raw.now, bucketMs).getTime() + bucketMs),
    raw,
    boundaryIncomplete: incomplete,
  });
}

/** The statements of one window: the DELETE of its buckets, then their INSERT recomputed. */
async function windowStatements(conn: Sql, ex: ExistingAggregate, def: AggregateDefinition, [from, to]: [Date, Date]) {
  const r = await queryOne<{ delete_statement: string; insert_statement: string }>(
    conn,
    'aggregates/lib/render-refresh-table.sql',
    [ex.schema, def.name, def.timeColumn, from, to, windowedQuery(def.name)],
  );
  if (!r) throw new HomepotError('internal', 'aggregates/lib/render-refresh-table.sql rendered nothing');
  return [r.delete_statement, r.insert_statement];
}

/** Refuse to write into a table that is not ours: its owner's triggers would run with our rights, and its rows are not ours to replace. */
function requireOurTable(ex: ExistingAggregate, name: AggregateName): void {
  if (isOurTable(ex)) return;
  throw new HomepotError(
    ex.trusted ? 'unsuitable-table' : 'permission-denied',
    ex.trusted
      ? `${ex.schema}.${name} is a table homepot-ts did not make (it lacks homepot-ts's comment): not refreshed`
      : `${ex.schema}.${name} is owned by role "${ex.owner}": homepot-ts refreshes only aggregate tables it made`,
    { hint: 'Nothing was changed. Rename or drop it, then run homepot-ts create-aggregates.' },
  );
}

/** An aggregate table: its windows oldest first, each in one transaction; checks the signal between windows. */
export async function refreshTable(
  conn: Sql,
  caps: Capabilities,
  def: AggregateDefinition,
  ex: ExistingAggregate,
  opts: RefreshOptions,
  t0: number,
): Promise<MaterializeResult> {
  requireOurTable(ex, def.name);
  const elapsed = () => performance.now() - t0;
  const plan = await planTableRefresh(conn, caps, def, ex, opts);
  const notes = describePlan(plan, def.bucket, opts.window);
  const { start, end, windows } = plan;
  if (!start)
    return nothingMaterialized(def.name, 'table', 'health_checks is empty', {
      from: null,
      to: end,
      elapsedMs: elapsed(),
    });
  if (windows.length === 0)
    return {
      ...nothingMaterialized(def.name, 'table', 'nothing to refresh in this range', {
        from: start,
        to: end,
        elapsedMs: elapsed(),
      }),
      notes,
    };
  const perWindow: string[][] = [];
  for (const w of windows) perWindow.push(await windowStatements(conn, ex, def, w));
  const progress = (done: number) =>
    opts.onProgress?.({ aggregate: def.name, done, total: windows.length, from: start, to: end, elapsedMs: elapsed() });
  let done = 0;
  if (!opts.dryRun) {
    progress(0);
    for (const statements of perWindow) {
      if (opts.signal?.aborted) break;
      await inTransaction(conn, {}, async () => {
        for (const s of statements) await executeRendered(conn, s);
      });
      progress(++done);
    }
  }
  return {
    aggregate: def.name,
    kind: 'table',
    mode: 'forced',
    windowSeconds: plan.windowMs / 1000,
    from: start,
    to: end,
    windows: windows.length,
    windowsDone: done,
    statements: perWindow.flat(),
    elapsedMs: elapsed(),
    notes,
  };
}
