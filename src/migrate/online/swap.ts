import { quoteIfNeeded } from '../../core/columns.js';
import { HomepotError } from '../../core/errors.js';
import { executeRendered, inTransaction, renderList } from '../../db/sql.js';
import { describeMismatches, type Verification } from '../verify.js';
import { recordResult, recordSwapped } from '../state.js';
import { followUp, interrupted, MIGRATE_DEFAULTS, secondsSince, type MigrateResult } from '../result.js';
import { runStatements } from '../session.js';
import { dropOld, dropRefused } from '../cleanup.js';
import { replayUntilSmall } from './catch-up.js';
import { guardNewTable } from './guard.js';
import { swapNames } from './names.js';
import type { OnlineRun } from './run.js';

/**
 * The end of an online migration: the final step, short and under ACCESS
 * EXCLUSIVE (replay the last changes, re-check the rows they touched, swap
 * the names), retried when the table stays busy past --lock-timeout; then the
 * result recorded in the state, and --drop-old.
 */

/** The old table's name after the swap. */
function oldTableName(run: OnlineRun): string {
  return run.state.old_table ?? run.names.oldTable;
}

/** The final step, retried (after another replay) while the lock is not granted in time. */
export async function swapPhase(run: OnlineRun, first: Verification): Promise<void> {
  const { conn, table, opts, state, result, hooks } = run;
  const sn = await swapNames(conn, table, state.new_table, oldTableName(run), opts.timeColumn);
  const swap = await renderList(conn, 'migrate/online/render-swap.sql', [
    table.oid,
    state.new_table,
    state.log_table,
    state.capture_fn,
    oldTableName(run),
    state.index_names,
    sn.moved,
    sn.defaultIndex,
    sn.wantedIndex,
    sn.sequences,
  ]);
  for (let attempt = 1; ; attempt++) {
    if (hooks.signal?.aborted) throw interrupted(table, 'online');
    hooks.onPhase?.(`final step: replay, verify and swap under a short lock (attempt ${attempt})`);
    try {
      const t0 = performance.now();
      const { ms, verification, replayed } = await finalStep(run, swap, first);
      result.timings.finalStep = secondsSince(t0);
      result.replayed = (result.replayed ?? 0) + replayed;
      result.locks.push({ what: `${table.display}: final step (replay, verify, swap)`, mode: 'ACCESS EXCLUSIVE', ms });
      result.verification = verification;
      return;
    } catch (err) {
      const code = (err as { code?: string; sqlstate?: string }).code;
      if (code !== '55P03') throw err;
      if (attempt >= MIGRATE_DEFAULTS.finalAttempts) {
        throw new HomepotError(
          'sql-error',
          `the final step could not lock ${table.display} within ${opts.lockTimeout.text} in ${attempt} attempts`,
          {
            sqlstate: '55P03',
            hint: 'The copy is complete and writes are still captured: run migrate-from-postgres again at a quieter time (it continues from here), or raise --lock-timeout.',
          },
        );
      }
      result.warnings.push(
        `the final step could not get its lock within ${opts.lockTimeout.text} (attempt ${attempt}); retrying`,
      );
      result.replayed = (result.replayed ?? 0) + (await replayUntilSmall(run));
    }
  }
}

/**
 * Under ACCESS EXCLUSIVE: replay the last captured changes, check every row
 * those changes touched key by key on both sides (the rest was verified
 * window by window outside the lock, and nothing but captured changes moved
 * since), then swap. Index lookups only, so the lock stays short.
 */
async function finalStep(
  run: OnlineRun,
  swap: string[],
  first: Verification,
): Promise<{ ms: number; verification: Verification; replayed: number }> {
  const { conn, table, copy } = run;
  let lockedAt = 0;
  let replayed = 0;
  const verification = await inTransaction(conn, { lockTimeout: run.opts.lockTimeout }, async () => {
    // Compiling these few lookups would cost more than running them (JIT on a
    // large estimated cost took ~0.6 s here), and this time is lock time.
    // (jit and synchronous_commit are off for the session: withMigrationSession.)
    await conn`LOCK TABLE ${conn(table.schema)}.${conn(table.name)} IN ACCESS EXCLUSIVE MODE`;
    lockedAt = performance.now();
    await guardNewTable(conn, run.newTable);
    await executeRendered(conn, copy['pending-keys']!);
    for (;;) {
      const [r] = await executeRendered<{ entries: number }[]>(conn, copy.replay!, [10_000]);
      replayed += r?.entries ?? 0;
      if (!r || r.entries < 10_000) break;
    }
    const v = await checkChangedKeys(run, first);
    await runStatements(conn, swap);
    await recordSwapped(conn, table.schema, table.name, table.oid);
    return v;
  });
  return { ms: Math.round(performance.now() - lockedAt), verification, replayed };
}

/** The rows the last changes touched, compared key by key (under the final lock); throws when any differ. */
async function checkChangedKeys(run: OnlineRun, first: Verification): Promise<Verification> {
  const { conn, table } = run;
  const windowSeconds = run.state.window_seconds;
  const [k] = await executeRendered<{ keys: number; differ: number; windows: string[] }[]>(
    conn,
    run.copy['check-keys']!,
    [windowSeconds],
  );
  const verification = { ...first, rechecked: k?.keys ?? 0 };
  if ((k?.differ ?? 0) === 0) return verification;
  const mismatches = (k?.windows ?? [])
    .map(Number)
    .sort((a, b) => a - b)
    .map((w) => ({
      from: new Date(w * windowSeconds * 1000).toISOString(),
      to: new Date((w + 1) * windowSeconds * 1000).toISOString(),
      sourceRows: -1,
      targetRows: -1,
      checksumDiffers: true,
    }));
  throw new HomepotError(
    'sql-error',
    `verification failed in the final step: ${k?.differ} changed row(s) differ between ${table.display} and the copy, in ${describeMismatches({ ...verification, ok: false, mismatches })}`,
    {
      hint: `Nothing was swapped; ${table.display} is unchanged and still in use. Run migrate-from-postgres abort, then migrate again; report it if it happens again.`,
    },
  );
}

/** After the swap: the result recorded, the old table dropped with --drop-old, the next steps. */
export async function finishOnline(run: OnlineRun): Promise<MigrateResult> {
  const { conn, table, result, state } = run;
  result.changed = true;
  result.outcome = 'migrated';
  const oldTable = oldTableName(run);
  result.oldTable = `${quoteIfNeeded(table.schema)}.${quoteIfNeeded(oldTable)}`;
  await recordResult(conn, table.schema, table.name, { verification: result.verification, locks: result.locks });
  if (run.opts.dropOld) {
    result.keptBy = await dropOld(conn, { ...state, old_table: oldTable, old_table_oid: String(table.oid) });
    result.droppedOld = result.keptBy.length === 0;
    if (result.droppedOld) result.oldTable = null;
    else result.warnings.push(dropRefused(result.oldTable, result.keptBy));
  }
  result.nextSteps = [
    ...followUp(table),
    ...(result.droppedOld
      ? []
      : [`homepot-ts migrate-from-postgres cleanup   # drops ${oldTable} once you no longer need it`]),
  ];
  return result;
}
