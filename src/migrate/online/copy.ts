import type { Sql } from '../../db/connection.js';
import { num } from '../../core/numbers.js';
import { executeRendered, inTransaction, renderKinds } from '../../db/sql.js';
import { recordBatch, remainingBlocks, setPhase } from '../state.js';
import { copiedFigures, interrupted, round1, secondsSince } from '../result.js';
import { rowsInFirstBlocks, type Preflight } from '../preflight.js';
import { runStatements, withWorkers } from '../session.js';
import { guardNewTable } from './guard.js';
import type { OnlineRun } from './run.js';

/**
 * The copy phase of an online migration: the old table's rows, block range by
 * block range, into the new hypertable on `jobs` connections at once, each
 * batch one transaction that records its range in the state (so a rerun
 * copies only what is missing); then the foreign keys (NOT VALID) and the
 * phase catching-up.
 */

export async function copyPhase(run: OnlineRun, pre?: Preflight): Promise<void> {
  const { conn, table, opts, hooks, result, state } = run;
  const totalBlocks = Number(state.total_blocks);
  const rowsPerBlock = await estimateRowsPerBlock(run, pre);
  const blocksPerBatch = Math.max(1, Math.round(opts.batchRows / rowsPerBlock));
  const estimatedRows = Math.round(totalBlocks * rowsPerBlock);
  // What is left: all blocks minus the ranges committed so far (batches finish out of order).
  const remaining = await remainingBlocks(conn, table.schema, table.name, totalBlocks);
  const queue: [number, number][] = [];
  for (const [rlo, rhi] of remaining) {
    for (let lo = rlo; lo < rhi; lo += blocksPerBatch) queue.push([lo, Math.min(rhi, lo + blocksPerBatch)]);
  }
  const startCopied = Number(state.rows_copied);
  let copied = startCopied;
  const started = performance.now();
  hooks.onPhase?.(`copying ${table.display} into ${state.new_table}`);
  // Each connection copies its own stretch of the table (its own chunks and
  // index pages), oldest first: two writers at the same end of one chunk's
  // indexes mostly wait for each other.
  const n = opts.jobs;
  const parts = Array.from({ length: n }, (_, i) =>
    queue.slice(Math.floor((i * queue.length) / n), Math.floor(((i + 1) * queue.length) / n)),
  );
  let worker = 0;
  await withWorkers(run.pool, conn, n, async (c, stop) => {
    const mine = parts[worker++]!;
    for (let next = mine.shift(); next && !stop(); next = mine.shift()) {
      if (hooks.signal?.aborted) throw interrupted(table, 'online');
      const rows = await copyBatch(run, c, next[0], next[1]);
      copied += rows; // after the await: `copied += await …` would read copied before it and lose the other connection's rows
      result.copied.batches++;
      hooks.onProgress?.({
        phase: 'copy',
        done: copied,
        total: Math.max(estimatedRows, copied),
        elapsedMs: performance.now() - started,
      });
    }
  });
  const seconds = (performance.now() - started) / 1000;
  result.timings.copy = round1(seconds);
  result.copied = copiedFigures(copied - startCopied, result.copied.batches, seconds);
  await addForeignKeys(run);
}

/** One block range [lo, hi) into the new table, one transaction with its progress mark; the rows copied. */
function copyBatch(run: OnlineRun, c: Sql, lo: number, hi: number): Promise<number> {
  const { table, copy } = run;
  return inTransaction(c, { lockTimeout: run.opts.lockTimeout }, async () => {
    await guardNewTable(c, run.newTable);
    let r;
    try {
      await c`SAVEPOINT batch`;
      r = await executeRendered(c, copy.backfill!, [lo, hi]);
      await c`RELEASE SAVEPOINT batch`;
    } catch (err) {
      if ((err as { code?: string }).code !== '23505') throw err;
      // A row an UPDATE moved ahead of the copy is already there: skip such rows.
      await c`ROLLBACK TO SAVEPOINT batch`;
      r = await executeRendered(c, copy['backfill-skip-existing']!, [lo, hi]);
    }
    await recordBatch(c, table.schema, table.name, lo, hi, r.count);
    return r.count;
  });
}

/** The old table's foreign keys onto the new one (NOT VALID: validated later, beside the replay). */
async function addForeignKeys(run: OnlineRun): Promise<void> {
  const { conn, table, state } = run;
  run.hooks.onPhase?.(`adding foreign keys to ${state.new_table}`);
  const t0 = performance.now();
  const fks = await renderKinds(conn, 'migrate/online/render-foreign-keys.sql', [table.oid, state.new_table]);
  await inTransaction(conn, { lockTimeout: run.opts.lockTimeout }, async () => {
    await runStatements(conn, fks.add ?? []);
    await setPhase(conn, table.schema, table.name, 'catching-up');
  });
  run.result.timings.foreignKeys = secondsSince(t0);
  state.phase = 'catching-up';
}

/**
 * Rows per block, to turn --batch-rows into block ranges: as measured by the
 * batches copied so far (a continued run), else from the planner's statistics,
 * else counted in the first blocks (a table never analyzed, e.g. just restored,
 * has no statistics: reltuples -1).
 */
async function estimateRowsPerBlock(run: OnlineRun, pre?: Preflight): Promise<number> {
  const { state } = run;
  const next = Number(state.next_block);
  const copied = Number(state.rows_copied);
  if (next > 0 && copied > 0) return Math.max(1, copied / next);
  const rows = num(pre?.row_estimate) ?? 0;
  const blocks = num(pre?.blocks) ?? 0;
  if (rows > 0 && blocks > 0) return Math.max(1, rows / blocks);
  const sample = Math.min(Number(state.total_blocks), 64);
  if (sample <= 0) return 1;
  return Math.max(1, (await rowsInFirstBlocks(run.conn, run.table, sample)) / sample);
}
