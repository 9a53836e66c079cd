import { detectCapabilities, requireWritable } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import type { ResolvedTable } from '../db/names.js';
import { withChangeLock, type ChangeHooks } from '../db/plan.js';
import { executeRendered, inTransaction } from '../db/sql.js';
import type { Verification } from './verify.js';
import { forget, readState, recordedObjects, recordedOldTable, renderForget, type MigrationState } from './state.js';
import { followUp, type MigrateOptions, type MigrateResult } from './result.js';
import { resolveNames } from './preflight.js';
import { runStatements } from './session.js';
import { migrationNames } from './online/names.js';
import { oldTableDependents } from './app-objects.js';

/**
 * After an online migration: cleanup (drop the old table once the migration
 * is finished, and forget it), abort (undo an unfinished one: drop the
 * trigger, the log and the new table), --drop-old, and the report of a run
 * that finds the migration already finished. Only what the migration created,
 * found by the OIDs it recorded, is ever dropped.
 */

export interface CleanupResult {
  command: 'migrate-from-postgres cleanup' | 'migrate-from-postgres abort';
  table: string;
  dryRun: boolean;
  changed: boolean;
  dropped: string[];
  statements: string[];
  /** What the state names but is no longer what the migration created: kept. */
  warnings: string[];
}

const CLEANUP_LOCK_TIMEOUT = { text: '10 seconds', seconds: 10 };

/** A run on a finished migration: reports it; drops the old table with --drop-old. */
export async function finished(
  conn: Sql,
  q: { oid: number; schema: string; name: string; display: string },
  state: MigrationState,
  opts: MigrateOptions,
  result: MigrateResult,
): Promise<MigrateResult> {
  const old = await recordedOldTable(conn, state, q.oid);
  result.strategy = state.strategy === 'remote' ? 'remote' : 'online';
  result.outcome = 'already-migrated';
  result.strategyReason = `${q.display} was already migrated (${state.strategy})`;
  const saved = state.result as { verification?: Verification } | null;
  result.verification = saved?.verification ?? null;
  result.oldTable = old?.ok ? old.display : null;
  if (old?.ok && opts.dropOld && !opts.dryRun) {
    result.keptBy = await dropOld(conn, state, q.oid);
    result.droppedOld = result.keptBy.length === 0;
    result.changed = result.droppedOld;
    if (result.droppedOld) result.oldTable = null;
    else result.warnings.push(dropRefused(result.oldTable ?? state.old_table ?? '', result.keptBy));
  }
  result.nextSteps = followUp(q);
  return result;
}

/**
 * --drop-old: the old table (by the OID recorded at the swap) goes, and with
 * it the migration's state (as cleanup does); unless objects bound to it by
 * OID (functions returning its row type, ...) keep it: then nothing is
 * dropped and those objects are returned (never CASCADE: it would drop them).
 */
export async function dropOld(conn: Sql, state: MigrationState, currentOid: number | null = null): Promise<string[]> {
  return inTransaction(conn, { lockTimeout: CLEANUP_LOCK_TIMEOUT }, async () => {
    const old = await recordedOldTable(conn, state, currentOid);
    if (old?.ok) {
      const keptBy = await oldTableDependents(conn, Number(state.old_table_oid));
      if (keptBy.length > 0) return keptBy;
      await executeRendered(conn, old.statement);
    }
    await forget(conn, state.schema_name, state.table_name);
    return [];
  });
}

/** Why --drop-old kept the old table, and what to do. */
export function dropRefused(oldTable: string, keptBy: string[]): string {
  return `the migration is done, but the old table ${oldTable} was kept (--drop-old refused): ${keptBy.join(', ')} still use${keptBy.length === 1 ? 's' : ''} it; re-create ${keptBy.length === 1 ? 'it' : 'them'} against the new table (DROP and CREATE again, never DROP … CASCADE), then run migrate-from-postgres cleanup`;
}

/**
 * cleanup: after a finished migration, drop the old table (and forget the
 * migration). abort: undo an unfinished online migration (drop the trigger,
 * the log and the new table; the original table was never touched). Only
 * what the migration created, found by the OIDs it recorded, is dropped.
 */
export async function runMigrateCleanup(
  sql: Sql,
  opts: { table: string; dryRun: boolean; abort: boolean },
  hooks: ChangeHooks = {},
): Promise<CleanupResult> {
  return withChangeLock(
    sql,
    async (conn) => {
      const command = opts.abort ? 'migrate-from-postgres abort' : 'migrate-from-postgres cleanup';
      const caps = await detectCapabilities(conn);
      requireWritable(caps, command);
      const q = await resolveNames(conn, opts.table);
      const state = await readState(conn, q.schema, q.name);
      const res: CleanupResult = {
        command,
        table: q.display,
        dryRun: opts.dryRun,
        changed: false,
        dropped: [],
        statements: [],
        warnings: [],
      };
      const forgetIt = await planCleanup(conn, q, state, opts.abort, res);
      if (!forgetIt || opts.dryRun) return res;
      hooks.onStep?.({ id: 'cleanup', title: res.command, state: 'needed', statements: res.statements }, 0);
      await inTransaction(conn, { lockTimeout: CLEANUP_LOCK_TIMEOUT }, async () => {
        await runStatements(conn, res.statements);
        await forget(conn, q.schema, q.name);
      });
      res.changed = true;
      return res;
    },
    hooks.onWait,
  );
}

/** Fill res with what to drop; true when the migration is to be forgotten. */
async function planCleanup(
  conn: Sql,
  q: ResolvedTable,
  state: MigrationState | null,
  abort: boolean,
  res: CleanupResult,
): Promise<boolean> {
  if (state?.strategy === 'remote') return planForgetRemote(conn, q, abort, res);
  if (abort) return state ? planAbort(conn, q, state, res) : false;
  if (state?.phase === 'done') {
    const old = await recordedOldTable(conn, state, q.oid);
    if (old?.ok) {
      await refuseWhileUsed(conn, old.display, Number(state.old_table_oid));
      res.statements.push(old.statement);
      res.dropped.push(old.display);
    } else if (old?.present) {
      res.warnings.push(`kept ${old.display}: it is no longer the old table the migration left (${state.old_table})`);
    }
    return true;
  }
  if (state) {
    throw new HomepotError(
      'usage',
      `the migration of ${q.display} is not finished (${state.phase}): cleanup drops the old table only after the swap`,
      {
        hint: 'Run migrate-from-postgres to finish it, or migrate-from-postgres abort to undo it.',
      },
    );
  }
  return false;
}

/** The old table stays while objects are bound to it by OID: named, with the fix (never CASCADE). */
async function refuseWhileUsed(conn: Sql, display: string, oid: number): Promise<void> {
  const keptBy = await oldTableDependents(conn, oid);
  if (keptBy.length === 0) return;
  throw new HomepotError(
    'unsuitable-table',
    `${display} cannot be dropped: ${keptBy.join(', ')} still use${keptBy.length === 1 ? 's' : ''} it or its row type`,
    {
      hint: `Re-create ${keptBy.length === 1 ? 'it' : 'them'} against the new table (DROP, then CREATE again; DROP … CASCADE would drop ${keptBy.length === 1 ? 'it' : 'them'} for good), then run cleanup again. Nothing was changed.`,
    },
  );
}

/**
 * A copy from another server (--source): nothing of it is temporary on this
 * server but its state row. abort would mean dropping the copied tables,
 * which is for a person to decide.
 */
async function planForgetRemote(conn: Sql, q: ResolvedTable, abort: boolean, res: CleanupResult): Promise<boolean> {
  if (abort) {
    throw new HomepotError(
      'usage',
      `${q.display} was copied here from another server (--source): there is no online migration to abort`,
      {
        hint: `To start over, drop the copied tables on this server yourself (DROP TABLE ${q.display}; and the tables it references, if they came from the copy). migrate-from-postgres cleanup forgets the copy's state.`,
      },
    );
  }
  res.statements.push(await renderForget(conn, q.schema, q.name));
  res.dropped.push(`the --source copy's state (homepot_ts.migration)`);
  return true;
}

/** abort: what the unfinished migration created and is still its own. */
async function planAbort(conn: Sql, q: ResolvedTable, state: MigrationState, res: CleanupResult): Promise<boolean> {
  if (state.phase === 'done') {
    throw new HomepotError('usage', `the migration of ${q.display} is finished: there is nothing to abort`, {
      hint: `${q.display} is the hypertable now; the old table is ${state.old_table ?? migrationNames(q.name).oldTable} until migrate-from-postgres cleanup.`,
    });
  }
  const objects = await recordedObjects(conn, state, q.oid);
  for (const o of objects) {
    if (o.ok) res.statements.push(o.statement);
    else if (o.present)
      res.warnings.push(
        `kept ${o.what} ${o.name}: the object with the OID recorded for it is no longer what the migration created`,
      );
  }
  for (const what of ['new table', 'change log'])
    res.dropped.push(...objects.filter((o) => o.ok && o.what === what).map((o) => o.name));
  return true;
}
