import type { Sql } from '../../db/connection.js';
import { endSentence, HomepotError } from '../../core/errors.js';
import type { ResolvedTable } from '../../db/names.js';
import type { MigrationState } from '../state.js';
import { readPreflight, type Preflight } from '../preflight.js';
import { secondsSince, type MigrateHooks, type MigrateOptions, type MigrateResult } from '../result.js';
import { replayUntilSmall, validateAndAnalyze } from './catch-up.js';
import { copyPhase } from './copy.js';
import { migrationNames } from './names.js';
import { describeError } from '../../db/describe-error.js';
import { ExitCode } from '../../core/exit-codes.js';
import { prepareOnline, resumeOnline } from './prepare.js';
import { renderCopy, type OnlineRun } from './run.js';
import { finishOnline, swapPhase } from './swap.js';
import { verifyOutsideLock } from './verify.js';

/**
 * The online strategy, phase by phase: a new hypertable filled in batches
 * while a trigger captures the writes that keep arriving (prepare, copy),
 * the captured writes replayed (catch-up), every window verified outside the
 * lock, then one short locked step that replays the last changes, re-checks
 * them and swaps the names (swap). A run after an interrupted one continues
 * from the phase its state records.
 */

export async function online(
  pool: Sql,
  conn: Sql,
  table: ResolvedTable,
  opts: MigrateOptions,
  hooks: MigrateHooks,
  result: MigrateResult,
  resumeFrom: MigrationState | null,
  pre?: Preflight,
): Promise<MigrateResult> {
  const names = migrationNames(table.name);
  const keyColumns = pre?.key_columns ?? (await readPreflight(conn, table, opts.timeColumn)).key_columns;
  if (!keyColumns)
    throw new HomepotError('unsuitable-table', `${table.display} lost its key during the migration`, {
      hint: 'Run migrate-from-postgres abort, restore the key, and start again.',
    });
  const state = resumeFrom
    ? await resumeOnline(conn, table, opts, result, resumeFrom)
    : await prepareOnline(conn, table, opts, hooks, result, keyColumns, names);
  if (!state) return result; // --dry-run: planned only
  const run: OnlineRun = {
    pool,
    conn,
    table,
    opts,
    hooks,
    result,
    names,
    keyColumns,
    state,
    newTable: { schema: table.schema, name: state.new_table, oid: Number(state.new_table_oid) },
    copy: await renderCopy(conn, table, state.new_table, state.log_table, opts.timeColumn, keyColumns),
  };
  try {
    await untilSwapped(run, pre);
  } catch (err) {
    throw triggerLeft(err, table, state);
  }
  return finishOnline(run);
}

/** From the copy (or where the state says) to the swap. */
async function untilSwapped(run: OnlineRun, pre?: Preflight): Promise<void> {
  const { hooks, result } = run;
  if (run.state.phase === 'copying') await copyPhase(run, pre);
  // Beside the replay and the verification, on a connection of its own.
  const beside = await validateAndAnalyze(run);
  hooks.onPhase?.('replaying the writes captured during the copy');
  const t0 = performance.now();
  result.replayed = (result.replayed ?? 0) + (await replayUntilSmall(run));
  result.timings.replay = secondsSince(t0);
  const first = await verifyOutsideLock(run);
  hooks.onPhase?.('validating foreign keys and analyzing the new table');
  await beside();
  await swapPhase(run, first);
}

/**
 * A run that fails before the swap leaves the capture trigger on the table
 * (it keeps logging every write): the error says so, and how to remove it.
 * An interrupted run already says so; after the swap the trigger is gone.
 */
function triggerLeft(err: unknown, table: ResolvedTable, state: MigrationState): unknown {
  const e = describeError(err);
  if (e.kind === 'interrupted' || e.exitCode === ExitCode.terminated || state.phase === 'done') return err;
  const left = `The capture trigger homepot_ts_capture is still on ${table.display} and logs every write into ${state.log_table}: run migrate-from-postgres again once the cause is fixed (it continues), or migrate-from-postgres abort to remove the trigger, the log and ${state.new_table}.`;
  return new HomepotError(e.kind, e.message, {
    hint: e.hint ? `${endSentence(e.hint)} ${left}` : left,
    exitCode: e.exitCode,
    ...(e.sqlstate ? { sqlstate: e.sqlstate } : {}),
    cause: err,
  });
}
