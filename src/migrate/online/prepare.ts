import type { Sql } from '../../db/connection.js';
import { HomepotError } from '../../core/errors.js';
import type { ResolvedTable } from '../../db/names.js';
import { executeRendered, inTransaction, renderKinds, renderList } from '../../db/sql.js';
import {
  createState,
  readState,
  recordOnlineStart,
  renderCreateState,
  requireRecordedObjects,
  type MigrationState,
} from '../state.js';
import {
  MIGRATE_DEFAULTS,
  secondsSince,
  type MigrateHooks,
  type MigrateOptions,
  type MigrateResult,
} from '../result.js';
import { tempIndexNames, type MigrationNames } from './names.js';
import { renderCopy } from './run.js';

/**
 * The start of an online migration: its plan (what --dry-run shows), then one
 * short transaction that creates the new hypertable, the change log and the
 * capture trigger and records them in the migration state; or, for a
 * migration started earlier, the check that what it created is still its own.
 */

interface Prepared {
  indexNames: Record<string, string>;
  stateStatements: string[];
  prepare: string[];
}

/** The plan of a new online migration, pushed onto result.plan; the statements that prepare it. */
async function planOnline(
  conn: Sql,
  table: ResolvedTable,
  opts: MigrateOptions,
  result: MigrateResult,
  keyColumns: string[],
  names: MigrationNames,
): Promise<Prepared> {
  const indexNames = await tempIndexNames(conn, table);
  const prepare = await renderList(conn, 'migrate/online/render-prepare.sql', [
    table.oid,
    names.newTable,
    names.logTable,
    names.captureFn,
    opts.timeColumn,
    opts.chunkInterval.text,
    indexNames,
  ]);
  const stateStatements = await renderCreateState(conn);
  result.plan.push({
    id: 'prepare',
    title: `create ${names.newTable} as a hypertable like ${table.display}, the change log and the capture trigger (one transaction)`,
    statements: [...stateStatements, ...prepare],
  });
  const copy = await renderCopy(conn, table, names.newTable, names.logTable, opts.timeColumn, keyColumns);
  result.plan.push({
    id: 'copy',
    title: `copy the rows in batches of about ${opts.batchRows.toLocaleString('en-US')} (one transaction each; $1/$2: block range)`,
    statements: [copy.backfill!],
  });
  const fkPlan = await renderKinds(conn, 'migrate/online/render-foreign-keys.sql', [table.oid, names.newTable]);
  result.plan.push({
    id: 'foreign-keys',
    title: `add ${table.display}'s foreign keys to ${names.newTable} (NOT VALID), then validate them while the writes are replayed and verified (blocks nobody)`,
    statements: [...(fkPlan.add ?? []), ...(fkPlan.validate ?? [])],
  });
  result.plan.push({
    id: 'replay',
    title: 'replay the writes captured meanwhile, in batches ($1: batch size)',
    statements: [copy.replay!],
  });
  result.plan.push({
    id: 'swap',
    title: `final step, ACCESS EXCLUSIVE on ${table.display} (bounded by --lock-timeout): replay the rest, verify the changed windows, rename ${table.display} to ${names.oldTable} and ${names.newTable} to ${table.name}, move index names and the id sequence`,
    statements: [],
  });
  return { indexNames, stateStatements, prepare };
}

/**
 * Plan a new online migration and (unless --dry-run) prepare it: the state
 * of the migration just started, or null when only planned.
 */
export async function prepareOnline(
  conn: Sql,
  table: ResolvedTable,
  opts: MigrateOptions,
  hooks: MigrateHooks,
  result: MigrateResult,
  keyColumns: string[],
  names: MigrationNames,
): Promise<MigrationState | null> {
  const prepared = await planOnline(conn, table, opts, result, keyColumns, names);
  if (opts.dryRun) {
    result.outcome = 'planned';
    return null;
  }
  hooks.onPhase?.(`preparing ${names.newTable}`);
  const t0 = performance.now();
  const lockedAt = await inTransaction(conn, { lockTimeout: opts.lockTimeout }, async () => {
    await createState(conn, prepared.stateStatements);
    let at = 0;
    for (const s of prepared.prepare) {
      await executeRendered(conn, s);
      if (s.startsWith('LOCK TABLE')) at = performance.now();
    }
    // The blocks to copy: what the table has now (rows written from here on
    // are captured), and the OIDs of what was just created, for abort.
    await recordOnlineStart(conn, {
      tableOid: table.oid,
      newTable: names.newTable,
      logTable: names.logTable,
      captureFn: names.captureFn,
      oldTable: names.oldTable,
      indexNames: prepared.indexNames,
      windowSeconds: MIGRATE_DEFAULTS.windowSeconds,
    });
    return at;
  });
  result.locks.push({
    what: `${table.display}: add the capture trigger`,
    mode: 'SHARE ROW EXCLUSIVE',
    ms: Math.round(performance.now() - lockedAt),
  });
  result.timings.prepare = secondsSince(t0);
  result.changed = true;
  const state = await readState(conn, table.schema, table.name);
  if (!state) throw new HomepotError('internal', `the migration state of ${table.display} was not saved`);
  return state;
}

/**
 * Continue an online migration started earlier: what it created must still
 * be its own. Returns the state, or null when only planned (--dry-run).
 */
export async function resumeOnline(
  conn: Sql,
  table: ResolvedTable,
  opts: MigrateOptions,
  result: MigrateResult,
  state: MigrationState,
): Promise<MigrationState | null> {
  await requireRecordedObjects(conn, state, table.oid, table.display);
  if (!opts.dryRun) return state;
  result.outcome = 'planned';
  result.plan.push({
    id: 'continue',
    title: `continue: ${state.phase}, ${Number(state.next_block)}/${Number(state.total_blocks)} blocks copied, then the final step`,
    statements: [],
  });
  return null;
}
