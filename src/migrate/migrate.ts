import { describeServerKind, detectCapabilities, requireWritable, type Capabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import { resolveTable, type ResolvedTable } from '../db/names.js';
import { withChangeLock } from '../db/plan.js';
import { requireOwnerRights } from '../db/table-owner.js';
import { readTimeDimension, requireTimeColumn } from '../steps/hypertable.js';
import { readState, type MigrationState } from './state.js';
import { checkBlockers, ensureTimescale, estimate, isHypertable, resolveNames } from './preflight.js';
import { emptyResult, followUp, type MigrateHooks, type MigrateOptions, type MigrateResult } from './result.js';
import { withMigrationSession, workerCount } from './session.js';
import { inPlace } from './in-place.js';
import { online } from './online/online.js';
import { finished } from './cleanup.js';

/**
 * migrate-from-postgres: the entry points. On one database (runMigrate) a
 * plain table that holds rows becomes a hypertable, either in place
 * (in-place.ts: create_hypertable(migrate_data), one long ACCESS EXCLUSIVE
 * lock) or online (online/: a new hypertable filled in batches while a
 * trigger captures the writes that keep arriving, then one short locked step
 * that replays the last changes, verifies and swaps the names); cleanup and
 * abort come after (cleanup.ts); --source copies from another server and
 * finish ends such a copy (remote/). README "migrate-from-postgres" explains
 * when to choose which.
 */

export {
  MIGRATE_DEFAULTS,
  type CatchUp,
  type LockHeld,
  type MigrateHooks,
  type MigrateOptions,
  type MigrateProgress,
  type MigrateResult,
  type PlannedStep,
  type Strategy,
} from './result.js';
export type { Verification } from './verify.js';
export { runMigrateCleanup, type CleanupResult } from './cleanup.js';
export { runMigrateRemote } from './remote/remote.js';
export { runMigrateFinish, type FinishResult } from './remote/finish.js';

/**
 * Migrate `opts.table` on this database. Takes the change lock, so concurrent
 * runs queue; a second run after a finished migration reports it and changes
 * nothing; a run after an interrupted online migration continues it.
 */
export async function runMigrate(sql: Sql, opts: MigrateOptions, hooks: MigrateHooks = {}): Promise<MigrateResult> {
  return withChangeLock(
    sql,
    (conn) => withMigrationSession(conn, () => migrateHere(sql, conn, opts, hooks)),
    hooks.onWait,
    { planOnly: opts.dryRun },
  );
}

async function migrateHere(sql: Sql, conn: Sql, options: MigrateOptions, hooks: MigrateHooks): Promise<MigrateResult> {
  const caps = await detectCapabilities(conn);
  // The embedded server takes one connection at a time, whatever the pool's size.
  const opts = { ...options, jobs: caps.server.pglite ? 1 : workerCount(options.jobs, sql) };
  // Only planned here: the extension is created once nothing stands in the
  // way, so a refused migration (exit 4) leaves the database as it was.
  if (!opts.dryRun) requireWritable(caps, 'migrate-from-postgres');
  const ensured = await ensureTimescale(conn, caps, true);
  const q = await resolveNames(conn, opts.table);
  const result = emptyResult(q.display, caps);
  result.dryRun = opts.dryRun;
  result.plan.push(...ensured.plan);
  const state = await onlineState(conn, q, result);
  if (state?.phase === 'done') return finished(conn, q, state, opts, result);

  const table = await resolveTable(conn, opts.table);
  if (!state && caps.timescaledb.installedVersion && (await isHypertable(conn, table))) {
    const dimension = await readTimeDimension(conn, table);
    if (dimension) requireTimeColumn(table, dimension.column_name, opts.timeColumn);
    result.outcome = 'already-hypertable';
    result.strategyReason = `${table.display} is already a hypertable`;
    result.nextSteps = followUp(q);
    return result;
  }
  // Rows move from here on: only with the rights of the table's owner (README "Who moves the rows").
  await requireOwnerRights(conn, table, 'migrate-from-postgres');
  if (state) return resume(sql, conn, table, opts, hooks, result, state);
  return start(sql, conn, table, opts, hooks, result, caps, ensured.plan.length > 0);
}

/** The state of an online migration of the table on this database (a --source copy's is not one: a warning). */
async function onlineState(conn: Sql, q: ResolvedTable, result: MigrateResult): Promise<MigrationState | null> {
  const saved = await readState(conn, q.schema, q.name);
  if (saved?.strategy !== 'remote') return saved;
  if (saved.phase === 'finished') {
    result.warnings.push(
      `${q.display} was copied here from another server (--source); the copy was finished at ${new Date(saved.finished_at as string | Date).toISOString()} (migrate-from-postgres finish)`,
    );
  }
  return null;
}

/** Continue the online migration the state records (never in place). */
function resume(
  sql: Sql,
  conn: Sql,
  table: ResolvedTable,
  opts: MigrateOptions,
  hooks: MigrateHooks,
  result: MigrateResult,
  state: MigrationState,
): Promise<MigrateResult> {
  if (opts.strategy === 'in-place') {
    throw new HomepotError(
      'usage',
      `an online migration of ${table.display} is in progress (${state.phase}); it cannot be finished in place`,
      {
        hint: 'Run migrate-from-postgres again without --strategy in-place to continue it, or migrate-from-postgres abort to undo it.',
      },
    );
  }
  result.resumed = true;
  result.strategy = 'online';
  result.strategyReason = `continuing the online migration started earlier (${state.phase}, ${Number(state.next_block)}/${Number(state.total_blocks)} blocks copied)`;
  return online(sql, conn, table, opts, hooks, result, state);
}

/** A new migration: checked, its strategy chosen, the extension created, then in place or online. */
async function start(
  sql: Sql,
  conn: Sql,
  table: ResolvedTable,
  opts: MigrateOptions,
  hooks: MigrateHooks,
  result: MigrateResult,
  caps: Capabilities,
  createExtension: boolean,
): Promise<MigrateResult> {
  const { pre, warnings, choice } = await checkBlockers(conn, table, opts, caps);
  result.warnings.push(...warnings);
  result.strategy = choice.strategy;
  result.strategyReason = choice.reason;
  result.estimate = await estimate(conn, table, opts, pre, choice.strategy);
  if (createExtension && !opts.dryRun) {
    caps = (await ensureTimescale(conn, caps, false)).caps;
    result.changed = true;
    result.server = describeServerKind(caps);
    result.edition = caps.timescaledb.edition;
  }
  return choice.strategy === 'in-place'
    ? inPlace(conn, table, opts, hooks, result)
    : online(sql, conn, table, opts, hooks, result, null, pre);
}
