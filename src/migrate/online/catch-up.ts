import { executeRendered, inTransaction, renderKinds } from '../../db/sql.js';
import { secondsSince } from '../result.js';
import { alongside } from '../session.js';
import { guardNewTable } from './guard.js';
import type { OnlineRun } from './run.js';

/**
 * Catching up after the copy of an online migration: replaying the writes
 * the capture trigger logged meanwhile, in batches, until what is left is
 * small enough for the final step; and, beside it on a connection of its own,
 * validating the foreign keys and gathering statistics on the new table.
 */

/**
 * Start validating the foreign keys (no reads or writes wait for it) and
 * analyzing the new table for HOMEPOT's queries, on a connection of its own
 * when there are several; the returned function waits for it.
 */
export async function validateAndAnalyze(run: OnlineRun): Promise<() => Promise<void>> {
  const { conn, table, result } = run;
  const newTable = run.state.new_table;
  const validate =
    (await renderKinds(conn, 'migrate/online/render-foreign-keys.sql', [table.oid, newTable])).validate ?? [];
  return alongside(run.pool, conn, run.opts.jobs > 1, async (c) => {
    const t0 = performance.now();
    for (const v of validate) await executeRendered(c, v);
    await c`ANALYZE ${c(table.schema)}.${c(newTable)}`;
    result.timings.validateAndAnalyze = secondsSince(t0);
  });
}

/** Replay captured writes in batches until fewer than 2,000 come in one; the entries replayed. */
export async function replayUntilSmall(run: OnlineRun): Promise<number> {
  const { conn, copy, hooks } = run;
  const [p] = await executeRendered<{ n: string }[]>(conn, copy.pending!);
  const total = Number(p?.n ?? 0);
  let done = 0;
  const started = performance.now();
  for (let round = 0; round < 1000; round++) {
    if (hooks.signal?.aborted) break;
    const entries = await inTransaction(conn, { isolation: 'repeatable read' }, async () => {
      await guardNewTable(conn, run.newTable);
      const [r] = await executeRendered<{ entries: number }[]>(conn, copy.replay!, [20_000]);
      return r?.entries ?? 0;
    });
    done += entries;
    hooks.onProgress?.({ phase: 'replay', done, total: Math.max(total, done), elapsedMs: performance.now() - started });
    if (entries < 2_000) break;
  }
  return done;
}
