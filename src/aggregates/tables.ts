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
import { nothingMaterialized, refreshWindows, type MaterializeResult, type RefreshOptions } from './refresh.js';

/**
 * Aggregate tables: what the aggregates are where there are no continuous
 * aggregates (Apache edition, plain PostgreSQL). Ordinary tables with the
 * seed's names and columns, which `aggregates refresh` keeps current window
 * by window (DELETE the window's buckets and INSERT them recomputed, one
 * transaction per window), so that raw retention never takes their history
 * with it: a bucket whose raw rows may be incomplete (at or below the oldest
 * raw row) is never recomputed, only filled in when the table has no row for
 * it. Also turning the materialized views earlier versions made into such
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

interface TableRange {
  /** Nothing to do, and why. */
  note?: string;
  start: Date | null;
  end: Date | null;
  /** The oldest bucket whose raw rows are all there: buckets before it are only filled in. */
  completeFrom: Date | null;
}

const floorTo = (d: Date, ms: number) => new Date(Math.floor(d.getTime() / ms) * ms);
const ceilTo = (d: Date, ms: number) => new Date(Math.ceil(d.getTime() / ms) * ms);

/** The table's newest bucket (where create-aggregates continues), or null when it is empty. */
async function newestBucket(conn: Sql, ex: ExistingAggregate, def: AggregateDefinition): Promise<Date | null> {
  const [r] = await conn<{ ms: number | null }[]>`
    SELECT (extract(epoch FROM max(${conn(def.timeColumn)})) * 1000)::float8 AS ms FROM ${conn(ex.schema)}.${conn(def.name)}`;
  return epochMs(r?.ms);
}

/**
 * Where a table's refresh starts and ends, in whole buckets (UTC). The end
 * covers the newest raw row (the current bucket too: there is no real-time
 * part to answer for it), unless --to says otherwise. The start: --from,
 * else where the table's history ends (create-aggregates), else the refresh
 * policy's start offset ago (late health checks of the last days), else the
 * oldest raw row; never before the oldest raw row's bucket.
 */
async function tableRange(
  conn: Sql,
  def: AggregateDefinition,
  ex: ExistingAggregate,
  opts: RefreshOptions,
): Promise<TableRange> {
  const range = await queryOne<{ first_ms: unknown; last_ms: unknown; now_ms: unknown }>(
    conn,
    'aggregates/lib/raw-range.sql',
  );
  const first = epochMs(range?.first_ms);
  const last = epochMs(range?.last_ms);
  const now = epochMs(range?.now_ms) ?? new Date();
  if (!first || !last) return { note: 'health_checks is empty', start: null, end: null, completeFrom: null };
  const ms = def.bucket.seconds * 1000;
  const end = opts.to ? floorTo(opts.to, ms) : new Date(floorTo(last, ms).getTime() + ms);
  let start: Date | null = opts.from ?? null;
  if (!start && opts.continueFromWatermark) start = await newestBucket(conn, ex, def);
  if (!start && !opts.continueFromWatermark && opts.startOffset)
    start = new Date(now.getTime() - opts.startOffset.seconds * 1000);
  const oldest = floorTo(first, ms);
  start = !start || start < oldest ? oldest : floorTo(start, ms);
  // The oldest raw row's bucket is complete only when the row starts it: retention removes rows before a cut-off.
  return { start, end, completeFrom: ceilTo(first, ms) };
}

export interface TableWindow {
  from: Date;
  to: Date;
  /** Only add the buckets the table has no row for (raw rows may be incomplete). */
  fill: boolean;
}

/** [start, end) in windows: the part before completeFrom as one fill window, the rest cut by refreshWindows. */
export function tableWindows(
  start: Date,
  end: Date,
  completeFrom: Date,
  windowMs: number,
  bucketMs: number,
): TableWindow[] {
  const out: TableWindow[] = [];
  if (start < completeFrom) out.push({ from: start, to: completeFrom < end ? completeFrom : end, fill: true });
  const rest = start > completeFrom ? start : completeFrom;
  if (rest < end)
    for (const [from, to] of refreshWindows(rest, end, windowMs, bucketMs)) out.push({ from, to, fill: false });
  return out;
}

/** The statements of one window: fill (one INSERT), or DELETE then INSERT. */
async function windowStatements(conn: Sql, ex: ExistingAggregate, def: AggregateDefinition, w: TableWindow) {
  const r = await queryOne<{ delete_statement: string; insert_statement: string; fill_statement: string }>(
    conn,
    'aggregates/lib/render-refresh-table.sql',
    [ex.schema, def.name, def.timeColumn, w.from, w.to, windowedQuery(def.name)],
  );
  if (!r) throw new HomepotError('internal', 'aggregates/lib/render-refresh-table.sql rendered nothing');
  return w.fill ? [r.fill_statement] : [r.delete_statement, r.insert_statement];
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
  def: AggregateDefinition,
  ex: ExistingAggregate,
  opts: RefreshOptions,
  t0: number,
): Promise<MaterializeResult> {
  requireOurTable(ex, def.name);
  const elapsed = () => performance.now() - t0;
  const { note, start, end, completeFrom } = await tableRange(conn, def, ex, opts);
  if (note || !start || !end || !completeFrom)
    return nothingMaterialized(def.name, 'table', note ?? 'nothing to refresh', {
      from: null,
      to: null,
      elapsedMs: elapsed(),
    });
  if (start >= end)
    return nothingMaterialized(def.name, 'table', 'nothing to refresh in this range', {
      from: start,
      to: end,
      elapsedMs: elapsed(),
    });
  const windows = tableWindows(start, end, completeFrom, opts.window.seconds * 1000, def.bucket.seconds * 1000);
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
    from: start,
    to: end,
    windows: windows.length,
    windowsDone: done,
    statements: perWindow.flat(),
    elapsedMs: elapsed(),
    ...(start < completeFrom ? { filledOnlyBefore: completeFrom } : {}),
  };
}
