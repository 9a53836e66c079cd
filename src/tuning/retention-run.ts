import { describeServerKind, detectCapabilities, requireWritable } from '../db/capabilities.js';
import { checkTimeColumn } from '../steps/hypertable.js';
import { quoteIfNeeded } from '../core/columns.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import type { Interval } from '../core/intervals.js';
import { resolveTable, type ResolvedTable } from '../db/names.js';
import { num } from '../core/numbers.js';
import { applyOptions, applySteps, withChangeLock, type ChangeHooks, type Step, type StepResult } from '../db/plan.js';
import { executeRendered, inTransaction, query, queryOne, renderStatement } from '../db/sql.js';
import { requireOwnerRights } from '../db/table-owner.js';
import type { ChangeOptions, TuningResult } from './change.js';
import { timeDimension } from './retention.js';
import { readCutoff, resolveOlderThan, type OlderThanSource } from './retention-age.js';

/**
 * `retention run`: enforce retention now. On a hypertable (any edition) the
 * chunks older than the retention are dropped with drop_chunks; on a plain
 * table the old rows are deleted in bounded batches, one transaction each,
 * with progress and a clean stop on Ctrl-C between batches.
 */

export interface RetentionRunOptions extends ChangeOptions {
  /** --older-than as given; without it the live policy's drop_after, else `defaultOlderThan`. */
  olderThan: Interval | null;
  /** Config setup.retention, else its default; null when the config turns retention off. */
  defaultOlderThan: Interval | null;
  /** --time-column as given (plain tables; must match a hypertable's own). */
  timeColumn?: string;
  /** Config setup.timeColumn, else "timestamp": used for plain tables when --time-column is not given. */
  defaultTimeColumn: string;
  batchRows: number;
}

export interface RetentionRunProgress {
  done: number;
  total: number;
  elapsedMs: number;
}

/**
 * What `retention run` removed. With dryRun the counts are what it would
 * remove. drop_chunks removes whole chunks: the rows of compressed (and
 * partially compressed) chunks are counted exactly, those of uncompressed
 * chunks estimated from statistics (null when one was never analyzed);
 * delete counts exactly.
 */
export interface RetentionRunResult extends TuningResult {
  method: 'drop_chunks' | 'delete';
  olderThan: string;
  /** Where olderThan came from: --older-than, the retention policy's drop_after, or the config. */
  olderThanSource: OlderThanSource;
  /** Rows (or chunks) older than this were removed. */
  cutoff: Date;
  timeColumn: string;
  chunksDropped: number | null;
  chunks: string[];
  rowsDeleted: number | null;
  /** drop_chunks: the rows in the chunks (estimated for uncompressed chunks, see rowsCounted). */
  rowsEstimate: number | null;
  /** drop_chunks: how many of rowsEstimate were counted exactly (compressed chunks); rowsEstimate is exact when equal. */
  rowsCounted: number | null;
  batches: number | null;
  /** Stopped by Ctrl-C between batches; what was deleted stays deleted. */
  interrupted: boolean;
}

/**
 * Enforce retention now: drop_chunks on a hypertable (any edition), or
 * DELETE in bounded batches on a plain table. Under the change lock, so two
 * runs never work on the same table at once.
 */
export async function runRetention(
  sql: Sql,
  opts: RetentionRunOptions,
  hooks: ChangeHooks & { onProgress?: (p: RetentionRunProgress) => void } = {},
): Promise<RetentionRunResult> {
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      requireWritable(caps, 'retention run');
      const table = await resolveTable(conn, opts.table);
      const dim = await timeDimension(conn, caps, table);
      const age = await resolveOlderThan(conn, table, {
        option: opts.olderThan,
        config: opts.defaultOlderThan,
        hypertable: dim !== null,
      });
      const base = {
        table: table.display,
        server: describeServerKind(caps),
        edition: caps.timescaledb.edition,
        olderThan: age.olderThan.text,
        olderThanSource: age.source,
      };
      const run = { ...opts, olderThan: age.olderThan };
      if (dim) {
        if (opts.timeColumn !== undefined && opts.timeColumn !== dim.column) {
          throw new HomepotError(
            'unsuitable-table',
            `${table.display} is a hypertable on ${quoteIfNeeded(dim.column)}, not ${quoteIfNeeded(opts.timeColumn)}`,
            {
              hint: `Leave out --time-column: a hypertable's chunks are cut on ${quoteIfNeeded(dim.column)}.`,
            },
          );
        }
        await checkTimeColumn(conn, table, dim.column);
        return { ...base, ...(await dropOldChunks(conn, table, dim.column, run, hooks)) };
      }
      if (table.relkind !== 'r') {
        throw new HomepotError(
          'unsuitable-table',
          `${table.display} is not an ordinary table (relkind ${table.relkind}): retention run deletes rows only from ordinary tables and hypertables`,
          {
            hint: 'Point --table at the table itself.',
          },
        );
      }
      const column = opts.timeColumn ?? opts.defaultTimeColumn;
      await checkTimeColumn(conn, table, column);
      return { ...base, ...(await deleteOldRows(conn, table, column, run, hooks)) };
    },
    hooks.onWait,
  );
}

type RunPart = Omit<RetentionRunResult, 'table' | 'server' | 'edition' | 'olderThan' | 'olderThanSource'>;

/** The options once the age is known. */
type ResolvedRun = RetentionRunOptions & { olderThan: Interval };

interface OldChunk {
  chunk: string;
  compressed: boolean;
  row_estimate: unknown;
  analyzed: boolean;
  /** Compressed chunks: the exact count (retention/old-chunks.sql). */
  count_statement: string | null;
}

interface ChunkRows {
  chunk: string;
  /** Exact for a compressed chunk; from statistics (null: never analyzed) otherwise. */
  rows: number | null;
  exact: boolean;
}

/** Each chunk's rows: compressed chunks counted, uncompressed ones estimated from their statistics. */
async function countRows(conn: Sql, old: OldChunk[]): Promise<ChunkRows[]> {
  const out: ChunkRows[] = [];
  for (const r of old) {
    if (r.count_statement) {
      out.push({ chunk: r.chunk, rows: num(await readScalar(conn, r.count_statement)) ?? 0, exact: true });
    } else {
      out.push({ chunk: r.chunk, rows: r.analyzed ? (num(r.row_estimate) ?? 0) : null, exact: false });
    }
  }
  return out;
}

/** Rows in these chunks (null when one was never analyzed), and how many of them were counted exactly. */
function rowsOf(rows: ChunkRows[]): { rowsEstimate: number | null; rowsCounted: number } {
  const total = rows.every((r) => r.rows !== null) ? rows.reduce((n, r) => n + (r.rows ?? 0), 0) : null;
  return { rowsEstimate: total, rowsCounted: rows.filter((r) => r.exact).reduce((n, r) => n + (r.rows ?? 0), 0) };
}

/** The rows as the plan says them: exact, or about (estimated), or not counted. */
function rowsText(rows: ChunkRows[]): string {
  const { rowsEstimate, rowsCounted } = rowsOf(rows);
  if (rowsEstimate === null) return 'rows not counted: not analyzed yet';
  const n = rowsEstimate.toLocaleString('en-US');
  if (rowsCounted === rowsEstimate) return `${n} rows`;
  return rowsCounted > 0
    ? `about ${n} rows (${rowsCounted.toLocaleString('en-US')} counted in compressed chunks, the rest estimated)`
    : `about ${n} rows`;
}

async function dropOldChunks(
  conn: Sql,
  table: ResolvedTable,
  column: string,
  opts: ResolvedRun,
  hooks: ChangeHooks,
): Promise<RunPart> {
  // drop_chunks(older_than => interval) takes now() - interval itself; this is what we report.
  const { date: cutoff } = await readCutoff(conn, opts.olderThan);
  const old = await query<OldChunk>(conn, 'retention/old-chunks.sql', [table.schema, table.name, opts.olderThan.text]);
  const counted = await countRows(conn, old);
  const statement = await renderStatement(conn, 'retention/render-drop-chunks.sql', [
    table.schema,
    table.name,
    opts.olderThan.text,
  ]);
  const title = `chunks of ${table.display} older than ${opts.olderThan.text}`;
  const step: Step =
    old.length === 0
      ? { id: 'drop-chunks', title, state: 'in-place', current: 'none: nothing to drop', statements: [] }
      : {
          id: 'drop-chunks',
          title,
          state: 'different',
          current: `${old.length} chunk${old.length === 1 ? '' : 's'} (${rowsText(counted)})`,
          wanted: 'dropped',
          statements: [statement],
          destructive: true,
        };
  const result = await applySteps(conn, [step], applyOptions(opts, hooks));
  let dropped = counted;
  if (!opts.dryRun) {
    const names = old.map((r) => r.chunk);
    const gone = await conn<
      { chunk: string }[]
    >`SELECT c AS chunk FROM unnest(${names}::text[]) AS c WHERE to_regclass(c) IS NULL`;
    const goneSet = new Set(gone.map((g) => g.chunk));
    dropped = counted.filter((r) => goneSet.has(r.chunk));
  }
  return {
    ...result,
    warnings: [],
    method: 'drop_chunks',
    cutoff,
    timeColumn: column,
    chunksDropped: dropped.length,
    chunks: dropped.map((r) => r.chunk),
    rowsDeleted: null,
    ...rowsOf(dropped),
    batches: null,
    interrupted: false,
  };
}

/** The statements retention/render-old-rows.sql renders for a plain table. */
interface OldRows {
  no_statistics: boolean;
  delete_batch: string;
  count_rows: string;
  any_rows: string;
  estimate_rows: string;
}

type RunHooks = ChangeHooks & { onProgress?: (p: RetentionRunProgress) => void };

async function deleteOldRows(
  conn: Sql,
  table: ResolvedTable,
  column: string,
  opts: ResolvedRun,
  hooks: RunHooks,
): Promise<RunPart> {
  const cutoff = await readCutoff(conn, opts.olderThan);
  const params = [table.schema, table.name, column, cutoff.text, opts.batchRows];
  const r = await queryOne<OldRows>(conn, 'retention/render-old-rows.sql', params);
  if (!r) throw new HomepotError('internal', 'retention/render-old-rows.sql rendered nothing');
  const title = `rows of ${table.display} with ${quoteIfNeeded(column)} older than ${opts.olderThan.text} (batches of ${opts.batchRows.toLocaleString('en-US')})`;
  const common = {
    method: 'delete' as const,
    cutoff: cutoff.date,
    timeColumn: column,
    chunksDropped: null,
    chunks: [],
    rowsEstimate: null,
    rowsCounted: null,
    warnings: [],
  };
  const any = (await readScalar(conn, r.any_rows)) === true;
  if (!any || opts.dryRun) {
    const count = any ? Number(await readScalar(conn, r.count_rows)) : 0;
    const step: Step = any
      ? {
          id: 'delete-rows',
          title,
          state: 'different',
          current: `${count.toLocaleString('en-US')} rows`,
          wanted: 'deleted',
          statements: [r.delete_batch],
          destructive: true,
        }
      : { id: 'delete-rows', title, state: 'in-place', current: 'none: nothing to delete', statements: [] };
    const result = await applySteps(conn, [step], applyOptions(opts, hooks));
    return { ...result, ...common, rowsDeleted: count, batches: 0, interrupted: false };
  }

  // A DELETE runs the owner's triggers and row-level security policies as us: rows are
  // deleted only with the owner's rights (README, "Security").
  await requireOwnerRights(conn, table, 'retention run');
  const run = await deleteInBatches(conn, r, title, opts, hooks);
  return {
    dryRun: false,
    changed: run.deleted > 0,
    steps: [run.result],
    failedStep: run.result.error ? run.result.id : null,
    ...common,
    rowsDeleted: run.deleted,
    batches: run.batches,
    interrupted: run.interrupted,
  };
}

/**
 * The progress total (and ETA): the planner's estimate, which is cheap; a
 * table never analyzed has none worth the name, so count it once instead.
 */
async function estimateOldRows(conn: Sql, r: OldRows): Promise<number> {
  if (r.no_statistics) return Number(await readScalar(conn, r.count_rows));
  const explained = await readScalar(conn, r.estimate_rows);
  const plan = (typeof explained === 'string' ? JSON.parse(explained) : explained) as {
    Plan?: { 'Plan Rows'?: number };
  }[];
  return Math.max(0, Math.round(plan[0]?.Plan?.['Plan Rows'] ?? 0));
}

/** Delete batch after batch until one comes back short, a batch fails, or the signal stops it. */
async function deleteInBatches(
  conn: Sql,
  r: OldRows,
  title: string,
  opts: ResolvedRun,
  hooks: RunHooks,
): Promise<{ result: StepResult; deleted: number; batches: number; interrupted: boolean }> {
  const estimate = await estimateOldRows(conn, r);
  const step: Step = {
    id: 'delete-rows',
    title,
    state: 'different',
    wanted: 'deleted',
    statements: [r.delete_batch],
    destructive: true,
    current: r.no_statistics
      ? `${estimate.toLocaleString('en-US')} rows`
      : `about ${estimate.toLocaleString('en-US')} rows (planner estimate)`,
  };
  hooks.onStep?.(step, 0);
  const started = performance.now();
  let deleted = 0;
  let batches = 0;
  let interrupted = false;
  let error: StepResult['error'];
  for (;;) {
    if (hooks.signal?.aborted) {
      interrupted = true;
      break;
    }
    let n: number;
    try {
      n = await deleteBatch(conn, r.delete_batch, opts.lockTimeout);
    } catch (err) {
      error = stepError(err);
      break;
    }
    batches++;
    deleted += n;
    hooks.onProgress?.({ done: deleted, total: Math.max(estimate, deleted), elapsedMs: performance.now() - started });
    if (n < opts.batchRows) break;
  }
  const result: StepResult = {
    id: step.id,
    title: step.title,
    state: step.state,
    outcome: error ? 'failed' : deleted > 0 ? 'updated' : 'unchanged',
    statements: step.statements,
    current: step.current!,
    wanted: step.wanted!,
    ...(interrupted ? { reason: `interrupted after ${batches} batch${batches === 1 ? '' : 'es'}` } : {}),
    ...(error ? { error } : {}),
  };
  return { result, deleted, batches, interrupted };
}

/** A failed batch as a step's error: the message, its SQLSTATE and hint when the server gave them. */
function stepError(err: unknown): NonNullable<StepResult['error']> {
  const e = err as { message?: string; code?: string; hint?: string };
  return {
    message: e.message ?? String(err),
    ...(e.code && /^[0-9A-Z]{5}$/.test(e.code) ? { sqlstate: e.code } : {}),
    ...(e.hint ? { hint: e.hint } : {}),
  };
}

/** Run a rendered read-only statement and return the first column of its first row (null when none). */
async function readScalar(conn: Sql, statement: string): Promise<unknown> {
  return inTransaction(conn, { readOnly: true, rollback: true }, async (): Promise<unknown> => {
    const [row] = await executeRendered(conn, statement).values();
    const value: unknown = row?.[0];
    return value ?? null;
  });
}

/** One batch: its own transaction with lock_timeout; returns the rows it deleted. */
async function deleteBatch(conn: Sql, statement: string, lockTimeout: Interval): Promise<number> {
  return inTransaction(conn, { lockTimeout }, async () => (await executeRendered(conn, statement)).count);
}
