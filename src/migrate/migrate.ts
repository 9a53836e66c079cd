import { describeServerKind, detectCapabilities, requireWritable, type Capabilities } from '../db/capabilities.js';
import { quoteIfNeeded } from '../core/columns.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import type { Interval } from '../core/intervals.js';
import {
  compareWindows,
  describeMismatches,
  verifyStatement,
  windowSums,
  type TableRef,
  type Verification,
} from './verify.js';
import { findRelation, parseQualifiedName, resolveTable, type ResolvedTable } from '../db/names.js';
import { num } from '../core/numbers.js';
import { withChangeLock, type ChangeHooks } from '../db/plan.js';
import { checkConvertible, preflight as setupPreflight } from '../steps/hypertable.js';
import { sqlFile, executeRendered, renderKinds, renderList, renderNamed, renderStatement } from '../db/sql.js';
import {
  createState,
  forget,
  readState,
  recordBatch,
  recordedObjects,
  recordedOldTable,
  recordOnlineStart,
  recordResult,
  recordSwapped,
  remainingBlocks,
  renderCreateState,
  renderForget,
  requireRecordedObjects,
  setPhase,
  type MigrationState,
} from './state.js';
import { requireOwnerRights } from '../db/table-owner.js';
import { derivedName, objectName } from '../core/identifiers.js';

/**
 * migrate-from-postgres on one database: turn a plain table that holds rows
 * into a hypertable, either in place (create_hypertable(migrate_data), one
 * long ACCESS EXCLUSIVE lock) or online (a new hypertable filled in batches
 * while a trigger captures the writes that keep arriving, then one short
 * locked step that replays the last changes, verifies and swaps the names).
 * README "migrate-from-postgres" explains when to choose which.
 */

export type Strategy = 'in-place' | 'online';

export interface MigrateOptions {
  table: string;
  timeColumn: string;
  chunkInterval: Interval;
  /** 'auto': in-place up to onlineAbove bytes (and for empty tables), online above. */
  strategy: Strategy | 'auto';
  onlineAbove: number;
  /** Rows per copy batch (online), converted to a block range. */
  batchRows: number;
  lockTimeout: Interval;
  dryRun: boolean;
  /** Drop the old table once the migration is verified (online). */
  dropOld: boolean;
  /** Connections copying (and verifying) at once, online; 1 on the embedded database. */
  jobs: number;
}

export const MIGRATE_DEFAULTS = {
  /** 100 MB: about 2 s of blocked writes for an in-place conversion at the rate measured here (47 MB/s, bench/README.md). */
  onlineAbove: 100 * 1024 * 1024,
  batchRows: 50_000,
  /** Two connections copy and verify at once: the copy is CPU-bound on the server, and 2 cores is the smallest machine we plan for. */
  jobs: 2,
  /** Verification windows (same database): one hour of rows each. */
  windowSeconds: 3600,
  /** How many times the final step retries when the table stays busy past --lock-timeout. */
  finalAttempts: 3,
};

/**
 * Rates measured on this project's benchmark machine (bench/README.md), for
 * the --dry-run estimate only.
 */
const RATE = { inPlaceRowsPerSecond: 129_000, onlineRowsPerSecond: 270_000 };

export interface LockHeld {
  what: string;
  mode: 'SHARE ROW EXCLUSIVE' | 'ACCESS EXCLUSIVE';
  ms: number;
}

export interface MigrateProgress {
  phase: 'copy' | 'replay';
  done: number;
  total: number;
  elapsedMs: number;
}

export interface MigrateHooks extends ChangeHooks {
  onProgress?: (p: MigrateProgress) => void;
  /** A new phase starts (for a spinner / log line). */
  onPhase?: (text: string) => void;
}

export interface PlannedStep {
  id: string;
  title: string;
  statements: string[];
}

export interface MigrateResult {
  command: 'migrate-from-postgres';
  table: string;
  strategy: Strategy | 'remote';
  /** Why this strategy (auto choice, flag, or a migration in progress). */
  strategyReason: string;
  dryRun: boolean;
  changed: boolean;
  /** migrated | already-hypertable | already-migrated | planned | copied (remote, more to catch up) */
  outcome: 'migrated' | 'already-hypertable' | 'already-migrated' | 'planned' | 'copied';
  resumed: boolean;
  server: string;
  edition: Capabilities['timescaledb']['edition'];
  estimate: { rows: number; bytes: number; seconds: number; lock: string };
  plan: PlannedStep[];
  copied: { rows: number; batches: number; seconds: number; rowsPerSecond: number };
  replayed: number;
  locks: LockHeld[];
  verification: Verification | null;
  oldTable: string | null;
  droppedOld: boolean;
  /** Seconds spent per phase (online: prepare, copy, foreignKeys, analyze, replay, verify, finalStep). */
  timings: Record<string, number>;
  /** --source: what reconciling the windows that differed did in this run (rows inserted, updated, deleted here). */
  caughtUp?: { windows: number; inserted: number; updated: number; deleted: number; keyColumn: string | null };
  warnings: string[];
  nextSteps: string[];
}

interface Preflight {
  dependent_views: string[];
  generated_columns: string[];
  user_triggers: string[];
  row_security: boolean;
  inheritance: boolean;
  key_columns: string[] | null;
  blocks: string;
  row_estimate: string;
  total_bytes: string;
  owner: string;
}

/**
 * Names of the objects an online migration of `table` uses: the table's name
 * cut as PostgreSQL cuts identifiers (63 bytes, on a character boundary) and
 * the suffix kept whole.
 */
export function migrationNames(table: string) {
  return {
    newTable: derivedName(table, '_tsdb_new'),
    logTable: derivedName(table, '_tsdb_log'),
    captureFn: derivedName(table, '_tsdb_capture'),
    oldTable: derivedName(table, '_pre_timescaledb'),
  };
}

export { readState, type MigrationState };

/** Rendered statements, one at a time, each alone (executeRendered). */
async function exec(sql: Sql, statements: string[]): Promise<void> {
  for (const s of statements) await executeRendered(sql, s);
}

function emptyResult(table: string, caps: Capabilities): MigrateResult {
  return {
    command: 'migrate-from-postgres',
    table,
    strategy: 'online',
    strategyReason: '',
    dryRun: false,
    changed: false,
    outcome: 'migrated',
    resumed: false,
    server: describeServerKind(caps),
    edition: caps.timescaledb.edition,
    estimate: { rows: 0, bytes: 0, seconds: 0, lock: '' },
    plan: [],
    copied: { rows: 0, batches: 0, seconds: 0, rowsPerSecond: 0 },
    replayed: 0,
    locks: [],
    verification: null,
    oldTable: null,
    droppedOld: false,
    timings: {},
    warnings: [],
    nextSteps: [],
  };
}

/** The commands to run after a migration (printed, and run with --setup). */
export function followUp(table: string): string[] {
  const t = table === 'health_checks' ? '' : ` --table ${table}`;
  return [`homepot-ts setup${t}`, 'homepot-ts create-aggregates', 'homepot-ts status'];
}

/** TimescaleDB must be there (or creatable), the session writable; creates the extension when missing. */
export async function ensureTimescale(
  conn: Sql,
  caps: Capabilities,
  dryRun: boolean,
): Promise<{ caps: Capabilities; plan: PlannedStep[] }> {
  setupPreflight(caps, { require: 'timescaledb' }, 'migrate-from-postgres');
  if (caps.timescaledb.installedVersion) return { caps, plan: [] };
  const statement = await renderStatement(conn, 'setup/render-create-extension.sql', []);
  if (!dryRun) {
    await executeRendered(conn, statement);
    caps = await detectCapabilities(conn);
  }
  return { caps, plan: [{ id: 'extension', title: 'create the TimescaleDB extension', statements: [statement] }] };
}

async function isHypertable(sql: Sql, t: ResolvedTable): Promise<boolean> {
  const [r] = await sql<{ ok: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_schema = ${t.schema} AND hypertable_name = ${t.name}) AS ok`;
  return Boolean(r?.ok);
}

/** Everything that stops a conversion, as one error naming each problem and its fix. */
async function checkBlockers(
  conn: Sql,
  table: ResolvedTable,
  opts: MigrateOptions,
  caps: Capabilities,
  strategy: Strategy | 'auto',
): Promise<{ pre: Preflight; warnings: string[] }> {
  if (table.relkind !== 'r') {
    throw new HomepotError('unsuitable-table', `${table.display} is not a plain table and cannot become a hypertable`, {
      hint: 'Point --table at an ordinary table.',
    });
  }
  const { warnings } = await checkConvertible(conn, table, opts.timeColumn);
  const [pre] = (await conn.unsafe(sqlFile('migrate/preflight.sql'), [
    table.oid,
    opts.timeColumn,
  ])) as unknown as Preflight[];
  if (!pre) throw new HomepotError('internal', `could not read ${table.display}`);
  const problems: string[] = [];
  const fixes: string[] = [];
  const fks = (await conn.unsafe(sqlFile('steps/referencing-fks.sql'), [table.oid])) as unknown as {
    constraint_name: string;
    from_table: string;
  }[];
  const tsVersion = caps.timescaledb.installedVersion ?? caps.timescaledb.availableVersion ?? '0';
  const fkSupported = compareVersions(tsVersion, '2.16.0') >= 0;
  const online = strategy !== 'in-place';
  if (fks.length > 0 && (online || !fkSupported)) {
    problems.push(`foreign keys point into it (${fks.map((f) => `${f.from_table}.${f.constraint_name}`).join(', ')})`);
    fixes.push(
      online
        ? 'drop those foreign keys and re-create them after the migration (or use --strategy in-place, which keeps them on TimescaleDB 2.16+)'
        : 'drop those foreign keys and re-create them after the migration (TimescaleDB before 2.16 cannot keep them)',
    );
  }
  if (pre.inheritance) {
    problems.push('it takes part in table inheritance');
    fixes.push('detach the child or parent tables first');
  }
  if (online) {
    if (pre.dependent_views.length > 0) {
      problems.push(`views depend on it: ${pre.dependent_views.join(', ')}`);
      fixes.push(
        `drop them and re-create them after the migration (HOMEPOT's aggregates: homepot-ts aggregates drop <name>, then homepot-ts create-aggregates), or use --strategy in-place`,
      );
    }
    if (pre.generated_columns.length > 0) {
      problems.push(`generated columns cannot be copied: ${pre.generated_columns.join(', ')}`);
      fixes.push('use --strategy in-place');
    }
    if (pre.user_triggers.length > 0) {
      problems.push(`it has triggers that the new table would not get: ${pre.user_triggers.join(', ')}`);
      fixes.push('drop them and re-create them on the hypertable after the migration, or use --strategy in-place');
    }
    if (pre.row_security) {
      problems.push('row-level security is enabled on it');
      fixes.push('use --strategy in-place (the policies stay with the table)');
    }
  }
  if (problems.length > 0) {
    throw new HomepotError(
      'unsuitable-table',
      `${table.display} cannot be migrated ${online ? 'online' : 'in place'}: ${problems.join('; ')}`,
      {
        hint: `Fix: ${fixes.join('; ')}. Nothing was changed.`,
      },
    );
  }
  return { pre, warnings };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** Pick the strategy; explain the choice. */
function chooseStrategy(
  opts: MigrateOptions,
  pre: Preflight,
  hasRows: boolean,
): { strategy: Strategy; reason: string } {
  const bytes = num(pre.total_bytes) ?? 0;
  if (opts.strategy !== 'auto') return { strategy: opts.strategy, reason: `--strategy ${opts.strategy}` };
  if (!hasRows) return { strategy: 'in-place', reason: 'the table is empty: converting it in place takes no time' };
  if (bytes <= opts.onlineAbove)
    return {
      strategy: 'in-place',
      reason: `${formatMb(bytes)} is at most the online threshold (${formatMb(opts.onlineAbove)}): the lock is short`,
    };
  return {
    strategy: 'online',
    reason: `${formatMb(bytes)} is above the online threshold (${formatMb(opts.onlineAbove)}): an in-place conversion would block writes for about ${Math.round((num(pre.row_estimate) ?? 0) / RATE.inPlaceRowsPerSecond)} s`,
  };
}

function formatMb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

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
  );
}

/**
 * Settings for the connections of a migration, for the session and reset
 * after:
 * - no JIT: its compile time dominated the checksum scans (2.3 s of 3.9 s on
 *   4.3 M rows) and the lookups under the final lock (0.6 s), and bulk
 *   INSERT ... SELECT gains nothing from it;
 * - COMMIT does not wait for the WAL flush: right after gigabytes of copy the
 *   disks are busy writing them back and one flush took ~1 s here (under the
 *   final lock, too). Safe because every transaction of a migration carries
 *   its own progress mark (a batch and its block range, the swap and its
 *   phase): a crash before the flush loses both together, and everything
 *   committed after them (which flushes them first), so a rerun redoes
 *   exactly what was lost.
 */
export async function withMigrationSession<T>(conn: Sql, fn: () => Promise<T>): Promise<T> {
  await setMigrationSession(conn);
  try {
    return await fn();
  } finally {
    await resetMigrationSession(conn);
  }
}

async function setMigrationSession(c: Sql): Promise<void> {
  await c`SELECT set_config('jit', 'off', false), set_config('synchronous_commit', 'off', false)`;
}

async function resetMigrationSession(c: Sql): Promise<void> {
  await c`RESET jit`.catch(() => {});
  await c`RESET synchronous_commit`.catch(() => {});
}

async function migrateHere(sql: Sql, conn: Sql, options: MigrateOptions, hooks: MigrateHooks): Promise<MigrateResult> {
  {
    let caps = await detectCapabilities(conn);
    // The embedded server takes one connection at a time, whatever the pool's size.
    const opts = { ...options, jobs: caps.server.pglite ? 1 : workerCount(options, sql) };
    // Only planned here: the extension is created once nothing stands in the
    // way, so a refused migration (exit 4) leaves the database as it was.
    const ensured = await ensureTimescale(conn, caps, true);
    const q = await resolveNames(conn, opts.table);
    const result = emptyResult(q.display, caps);
    result.dryRun = opts.dryRun;
    result.plan.push(...ensured.plan);

    // A --source copy's state is not an online migration of this database: the table is a hypertable already.
    const saved = await readState(conn, q.schema, q.name);
    const state = saved?.strategy === 'remote' ? null : saved;
    if (saved?.strategy === 'remote' && saved.phase === 'finished') {
      result.warnings.push(
        `${q.display} was copied here from another server (--source); the copy was finished at ${new Date(saved.finished_at as string | Date).toISOString()} (migrate-from-postgres finish)`,
      );
    }
    if (state?.phase === 'done') return finished(conn, q, state, opts, result);

    const table = await resolveTable(conn, opts.table);
    if (!state && caps.timescaledb.installedVersion && (await isHypertable(conn, table))) {
      result.outcome = 'already-hypertable';
      result.strategyReason = `${table.display} is already a hypertable`;
      result.nextSteps = followUp(q.name);
      return result;
    }
    // Rows move from here on: only with the rights of the table's owner (README "Who moves the rows").
    await requireOwnerRights(conn, table, 'migrate-from-postgres');
    if (state) {
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

    const { pre, warnings } = await checkBlockers(conn, table, opts, caps, opts.strategy);
    result.warnings.push(...warnings);
    const [any] = await conn<
      { any: boolean }[]
    >`SELECT EXISTS (SELECT 1 FROM ${conn(table.schema)}.${conn(table.name)}) AS any`;
    const choice = chooseStrategy(opts, pre, Boolean(any?.any));
    if (choice.strategy === 'online' && !pre.key_columns) {
      throw new HomepotError(
        'unsuitable-table',
        `${table.display} has no primary key (or unique NOT NULL key) that includes ${quoteIfNeeded(opts.timeColumn)}: the online strategy needs one to replay the writes that arrive during the copy`,
        {
          hint: `Add one (for HOMEPOT: ALTER TABLE ${table.display} ADD PRIMARY KEY (id, ${quoteIfNeeded(opts.timeColumn)});), or use --strategy in-place (blocks writes for the whole conversion).`,
        },
      );
    }
    result.strategy = choice.strategy;
    result.strategyReason = choice.reason;
    const rows = await estimateRows(conn, table, pre);
    const bytes = num(pre.total_bytes) ?? 0;
    const rate = choice.strategy === 'in-place' ? RATE.inPlaceRowsPerSecond : RATE.onlineRowsPerSecond;
    const seconds = Math.round(rows / rate);
    result.estimate = {
      rows,
      bytes,
      seconds,
      lock:
        choice.strategy === 'in-place'
          ? `ACCESS EXCLUSIVE on ${table.display} for the whole conversion (${seconds < 1 ? 'under a second' : `about ${seconds} s`}): no reads or writes`
          : `SHARE ROW EXCLUSIVE on ${table.display} for milliseconds (to add the capture trigger), then ACCESS EXCLUSIVE for the final step (replay the last changes, verify, swap names; well under 1 s), each bounded by --lock-timeout ${opts.lockTimeout.text}`,
    };
    if (ensured.plan.length > 0 && !opts.dryRun) {
      caps = (await ensureTimescale(conn, caps, false)).caps;
      result.changed = true;
      result.server = describeServerKind(caps);
      result.edition = caps.timescaledb.edition;
    }
    return choice.strategy === 'in-place'
      ? inPlace(conn, table, opts, hooks, result)
      : online(sql, conn, table, opts, hooks, result, null, pre);
  }
}

/** The table's schema and name, even after a swap (the name then is the new hypertable). */
async function resolveNames(conn: Sql, input: string): Promise<ResolvedTable> {
  const qn = parseQualifiedName(input);
  const found = await findRelation(conn, qn);
  if (found) return found;
  // resolveTable throws the helpful unknown-table error.
  return resolveTable(conn, input);
}

// ---------------------------------------------------------------------------
// in place

async function inPlace(
  conn: Sql,
  table: ResolvedTable,
  opts: MigrateOptions,
  hooks: MigrateHooks,
  result: MigrateResult,
): Promise<MigrateResult> {
  const ref: TableRef = { schema: table.schema, name: table.name, timeColumn: opts.timeColumn };
  const lock = `LOCK TABLE ${table.display} IN ACCESS EXCLUSIVE MODE`;
  const create = await renderStatement(conn, 'setup/render-create-hypertable.sql', [
    table.schema,
    table.name,
    opts.timeColumn,
    opts.chunkInterval.text,
    true,
  ]);
  const verify = await verifyStatement(conn, ref);
  result.plan.push({
    id: 'convert',
    title: `convert ${table.display} in place (one transaction, rows counted and checksummed before and after)`,
    statements: [lock, create],
  });
  if (opts.dryRun) {
    result.outcome = 'planned';
    return result;
  }
  const windowSeconds = MIGRATE_DEFAULTS.windowSeconds;
  hooks.onPhase?.(`converting ${table.display} in place (writes wait until it finishes)`);
  const started = performance.now();
  let lockedAt = 0;
  try {
    await conn`BEGIN`;
    await conn`SELECT set_config('lock_timeout', ${`${Math.round(opts.lockTimeout.seconds * 1000)}ms`}, true)`;
    await executeRendered(conn, lock);
    lockedAt = performance.now();
    // The lock is ours until COMMIT: the conversion itself may take long.
    await conn`SELECT set_config('lock_timeout', '0', true)`;
    const before = await windowSums(conn, verify, windowSeconds);
    await executeRendered(conn, create);
    const after = await windowSums(conn, verify, windowSeconds);
    const v = compareWindows(before, after, windowSeconds);
    result.verification = v;
    if (!v.ok)
      throw new HomepotError('sql-error', `verification failed after the conversion: ${describeMismatches(v)}`, {
        hint: 'Nothing was changed (rolled back). Report this with --debug output.',
      });
    await conn`COMMIT`;
  } catch (err) {
    await conn`ROLLBACK`.catch(() => {});
    throw err;
  }
  const done = performance.now();
  result.locks.push({
    what: `${table.display}: conversion`,
    mode: 'ACCESS EXCLUSIVE',
    ms: Math.round(done - lockedAt),
  });
  const seconds = (done - started) / 1000;
  result.copied = {
    rows: result.verification?.rows ?? 0,
    batches: 1,
    seconds: round1(seconds),
    rowsPerSecond: Math.round((result.verification?.rows ?? 0) / Math.max(seconds, 0.001)),
  };
  result.changed = true;
  result.outcome = 'migrated';
  result.nextSteps = followUp(table.name);
  return result;
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

// ---------------------------------------------------------------------------
// online

async function online(
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
  let state = resumeFrom;
  const keyColumns = pre?.key_columns ?? (await keyOf(conn, table, opts.timeColumn));
  if (!keyColumns)
    throw new HomepotError('unsuitable-table', `${table.display} lost its key during the migration`, {
      hint: 'Run migrate-from-postgres abort, restore the key, and start again.',
    });

  if (!state) {
    const indexNames = await tempIndexNames(conn, table);
    const prepare = await renderList(conn, 'migrate/render-prepare.sql', [
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
    const copy = await renderNamed(conn, 'migrate/render-copy.sql', [
      table.oid,
      names.newTable,
      names.logTable,
      opts.timeColumn,
      keyColumns,
    ]);
    result.plan.push({
      id: 'copy',
      title: `copy the rows in batches of about ${opts.batchRows.toLocaleString('en-US')} (one transaction each; $1/$2: block range)`,
      statements: [copy.backfill!],
    });
    const fkPlan = await renderKinds(conn, 'migrate/render-foreign-keys.sql', [table.oid, names.newTable]);
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
    if (opts.dryRun) {
      result.outcome = 'planned';
      return result;
    }
    hooks.onPhase?.(`preparing ${names.newTable}`);
    const windowSeconds = MIGRATE_DEFAULTS.windowSeconds;
    const t0 = performance.now();
    const lockMs = await inTransaction(conn, opts.lockTimeout, async () => {
      await createState(conn, stateStatements);
      let lockedAt = 0;
      for (const s of prepare) {
        await executeRendered(conn, s);
        if (s.startsWith('LOCK TABLE')) lockedAt = performance.now();
      }
      // The blocks to copy: what the table has now (rows written from here on
      // are captured), and the OIDs of what was just created, for abort.
      await recordOnlineStart(conn, {
        tableOid: table.oid,
        newTable: names.newTable,
        logTable: names.logTable,
        captureFn: names.captureFn,
        oldTable: names.oldTable,
        indexNames,
        windowSeconds,
      });
      return lockedAt;
    });
    result.locks.push({
      what: `${table.display}: add the capture trigger`,
      mode: 'SHARE ROW EXCLUSIVE',
      ms: Math.round(performance.now() - lockMs),
    });
    result.timings.prepare = secondsSince(t0);
    result.changed = true;
    state = await readState(conn, table.schema, table.name);
    if (!state) throw new HomepotError('internal', `the migration state of ${table.display} was not saved`);
  } else {
    // What the migration created must still be its own before it goes on.
    await requireRecordedObjects(conn, state, table.oid, table.display);
    if (opts.dryRun) {
      result.outcome = 'planned';
      result.plan.push({
        id: 'continue',
        title: `continue: ${state.phase}, ${Number(state.next_block)}/${Number(state.total_blocks)} blocks copied, then the final step`,
        statements: [],
      });
      return result;
    }
  }
  const guarded: NewTable = { schema: table.schema, name: state.new_table, oid: Number(state.new_table_oid) };

  const copy = await renderNamed(conn, 'migrate/render-copy.sql', [
    table.oid,
    state.new_table,
    state.log_table,
    opts.timeColumn,
    keyColumns,
  ]);
  const windowSeconds = state.window_seconds;

  // --- copy the history, block range by block range, on `jobs` connections at once ---
  if (state.phase === 'copying') {
    const totalBlocks = Number(state.total_blocks);
    const rowsPerBlock = await estimateRowsPerBlock(conn, table, state, pre);
    const blocksPerBatch = Math.max(1, Math.round(opts.batchRows / rowsPerBlock));
    const estimatedRows = Math.round(totalBlocks * rowsPerBlock);
    // What is left: all blocks minus the ranges committed so far (batches finish out of order).
    const remaining = await remainingBlocks(conn, table.schema, table.name, totalBlocks);
    const queue: [number, number][] = [];
    for (const [rlo, rhi] of remaining) {
      for (let lo = rlo; lo < rhi; lo += blocksPerBatch) queue.push([lo, Math.min(rhi, lo + blocksPerBatch)]);
    }
    let copied = Number(state.rows_copied);
    const startCopied = copied;
    const started = performance.now();
    hooks.onPhase?.(`copying ${table.display} into ${state.new_table}`);
    const batch = async (c: Sql, lo: number, hi: number): Promise<number> =>
      inTransaction(c, opts.lockTimeout, async () => {
        await guardNewTable(c, guarded);
        let r;
        try {
          await c`SAVEPOINT batch`;
          r = await executeRendered(c, copy.backfill!, [lo, hi] as never[]);
          await c`RELEASE SAVEPOINT batch`;
        } catch (err) {
          if ((err as { code?: string }).code !== '23505') throw err;
          // A row an UPDATE moved ahead of the copy is already there: skip such rows.
          await c`ROLLBACK TO SAVEPOINT batch`;
          r = await executeRendered(c, copy['backfill-skip-existing']!, [lo, hi] as never[]);
        }
        await recordBatch(c, table.schema, table.name, lo, hi, r.count);
        return r.count;
      });
    // Each connection copies its own stretch of the table (its own chunks and
    // index pages), oldest first: two writers at the same end of one chunk's
    // indexes mostly wait for each other.
    const n = opts.jobs;
    const parts = Array.from({ length: n }, (_, i) =>
      queue.slice(Math.floor((i * queue.length) / n), Math.floor(((i + 1) * queue.length) / n)),
    );
    let worker = 0;
    await withWorkers(pool, conn, n, async (c, stop) => {
      const mine = parts[worker++]!;
      for (let next = mine.shift(); next && !stop(); next = mine.shift()) {
        if (hooks.signal?.aborted) throw interrupted(table);
        const n = await batch(c, next[0], next[1]);
        copied += n; // after the await: `copied += await …` would read copied before it and lose the other connection's rows
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
    result.copied = {
      rows: copied - startCopied,
      batches: result.copied.batches,
      seconds: round1(seconds),
      rowsPerSecond: Math.round((copied - startCopied) / Math.max(seconds, 0.001)),
    };

    hooks.onPhase?.(`adding foreign keys to ${state.new_table}`);
    const t0 = performance.now();
    const fks = await renderKinds(conn, 'migrate/render-foreign-keys.sql', [table.oid, state.new_table]);
    await inTransaction(conn, opts.lockTimeout, async () => {
      await exec(conn, fks.add ?? []);
      await setPhase(conn, table.schema, table.name, 'catching-up');
    });
    result.timings.foreignKeys = secondsSince(t0);
    state.phase = 'catching-up';
  }

  // --- beside the replay and the verification, on a connection of its own:
  // validate the foreign keys (no reads or writes wait for it) and gather
  // statistics for HOMEPOT's queries on the new table ---
  const validate =
    (await renderKinds(conn, 'migrate/render-foreign-keys.sql', [table.oid, state.new_table])).validate ?? [];
  const newTable = state.new_table;
  const beside = await alongside(pool, conn, opts.jobs > 1, async (c) => {
    const t0 = performance.now();
    for (const v of validate) await executeRendered(c, v);
    await c`ANALYZE ${c(table.schema)}.${c(newTable)}`;
    result.timings.validateAndAnalyze = secondsSince(t0);
  });

  // --- replay what was captured meanwhile, until little is left ---
  hooks.onPhase?.('replaying the writes captured during the copy');
  let t1 = performance.now();
  result.replayed += await replayUntilSmall(conn, copy, hooks, guarded);
  result.timings.replay = secondsSince(t1);

  // --- verify every window outside the lock, leaving out the rows with changes still pending ---
  hooks.onPhase?.('verifying row counts and checksums per window');
  t1 = performance.now();
  const pending = { logTable: state.log_table, keyColumns };
  const settled = {
    old: await verifyStatement(conn, { schema: table.schema, name: table.name, timeColumn: opts.timeColumn }, pending),
    new: await verifyStatement(
      conn,
      { schema: table.schema, name: state.new_table, timeColumn: opts.timeColumn },
      pending,
    ),
  };
  const first = await verifySettled(pool, conn, opts.jobs, settled, windowSeconds);
  result.timings.verify = secondsSince(t1);
  if (!first.ok) {
    result.verification = first;
    throw new HomepotError(
      'sql-error',
      `verification failed: the copy differs from ${table.display} in ${first.mismatches.length} window(s): ${describeMismatches(first)}`,
      {
        hint: `Nothing was swapped; ${table.display} is unchanged and still in use. Run migrate-from-postgres abort, then migrate again; report it if it happens again.`,
      },
    );
  }

  hooks.onPhase?.('validating foreign keys and analyzing the new table');
  await beside();

  // --- the final step: short, under ACCESS EXCLUSIVE, retried when the table is busy ---
  const sn = await swapNames(conn, table, state.new_table, state.old_table ?? names.oldTable, opts.timeColumn);
  const swap = await renderList(conn, 'migrate/render-swap.sql', [
    table.oid,
    state.new_table,
    state.log_table,
    state.capture_fn,
    state.old_table ?? names.oldTable,
    state.index_names,
    sn.moved,
    sn.defaultIndex,
    sn.wantedIndex,
  ]);
  for (let attempt = 1; ; attempt++) {
    if (hooks.signal?.aborted) throw interrupted(table);
    hooks.onPhase?.(`final step: replay, verify and swap under a short lock (attempt ${attempt})`);
    try {
      t1 = performance.now();
      const { ms, verification, replayed } = await finalStep(
        conn,
        table,
        opts,
        copy,
        windowSeconds,
        swap,
        first,
        guarded,
      );
      result.timings.finalStep = secondsSince(t1);
      result.replayed += replayed;
      result.locks.push({ what: `${table.display}: final step (replay, verify, swap)`, mode: 'ACCESS EXCLUSIVE', ms });
      result.verification = verification;
      break;
    } catch (err) {
      const code = (err as { code?: string; sqlstate?: string }).code;
      if (code === '55P03' && attempt < MIGRATE_DEFAULTS.finalAttempts) {
        result.warnings.push(
          `the final step could not get its lock within ${opts.lockTimeout.text} (attempt ${attempt}); retrying`,
        );
        result.replayed += await replayUntilSmall(conn, copy, hooks, guarded);
        continue;
      }
      if (code === '55P03') {
        throw new HomepotError(
          'sql-error',
          `the final step could not lock ${table.display} within ${opts.lockTimeout.text} in ${attempt} attempts`,
          {
            sqlstate: '55P03',
            hint: 'The copy is complete and writes are still captured: run migrate-from-postgres again at a quieter time (it continues from here), or raise --lock-timeout.',
          },
        );
      }
      throw err;
    }
  }
  result.changed = true;
  result.outcome = 'migrated';
  const oldTable = state.old_table ?? names.oldTable;
  result.oldTable = `${quoteIfNeeded(table.schema)}.${quoteIfNeeded(oldTable)}`;
  await recordResult(conn, table.schema, table.name, { verification: result.verification, locks: result.locks });
  if (opts.dropOld) {
    await dropOld(conn, { ...state, old_table: oldTable, old_table_oid: String(table.oid) });
    result.droppedOld = true;
    result.oldTable = null;
  }
  result.nextSteps = [
    ...followUp(table.name),
    ...(result.droppedOld
      ? []
      : [`homepot-ts migrate-from-postgres cleanup   # drops ${oldTable} once you no longer need it`]),
  ];
  return result;
}

/**
 * Under ACCESS EXCLUSIVE: replay the last captured changes, check every row
 * those changes touched key by key on both sides (the rest was verified
 * window by window outside the lock, and nothing but captured changes moved
 * since), then swap. Index lookups only, so the lock stays short.
 */
async function finalStep(
  conn: Sql,
  table: ResolvedTable,
  opts: MigrateOptions,
  copy: Record<string, string>,
  windowSeconds: number,
  swap: string[],
  first: Verification,
  newTable: NewTable,
): Promise<{ ms: number; verification: Verification; replayed: number }> {
  let lockedAt = 0;
  let verification: Verification = first;
  let replayed = 0;
  await inTransaction(conn, opts.lockTimeout, async () => {
    // Compiling these few lookups would cost more than running them (JIT on a
    // large estimated cost took ~0.6 s here), and this time is lock time.
    // (jit and synchronous_commit are off for the session: withMigrationSession.)
    await conn`LOCK TABLE ${conn(table.schema)}.${conn(table.name)} IN ACCESS EXCLUSIVE MODE`;
    lockedAt = performance.now();
    await guardNewTable(conn, newTable);
    await executeRendered(conn, copy['pending-keys']!);
    for (;;) {
      const [r] = (await executeRendered(conn, copy.replay!, [10_000] as never[])) as unknown as { entries: number }[];
      replayed += r?.entries ?? 0;
      if (!r || r.entries < 10_000) break;
    }
    const [k] = (await executeRendered(conn, copy['check-keys']!, [windowSeconds] as never[])) as unknown as {
      keys: number;
      differ: number;
      windows: string[];
    }[];
    verification = { ...first, rechecked: k?.keys ?? 0 };
    if ((k?.differ ?? 0) > 0) {
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
      verification = { ...verification, ok: false, mismatches };
      throw new HomepotError(
        'sql-error',
        `verification failed in the final step: ${k?.differ} changed row(s) differ between ${table.display} and the copy, in ${describeMismatches(verification)}`,
        {
          hint: `Nothing was swapped; ${table.display} is unchanged and still in use. Run migrate-from-postgres abort, then migrate again; report it if it happens again.`,
        },
      );
    }
    await exec(conn, swap);
    await recordSwapped(conn, table.schema, table.name, table.oid);
  });
  return { ms: Math.round(performance.now() - lockedAt), verification, replayed };
}

/**
 * Rows per block, to turn --batch-rows into block ranges: as measured by the
 * batches copied so far (a continued run), else from the planner's statistics,
 * else counted in the first blocks (a table never analyzed, e.g. just restored,
 * has no statistics: reltuples -1).
 */
/** The planner's row count, or (a table never analyzed, as after a restore) one counted from its first 64 blocks. */
async function estimateRows(conn: Sql, table: ResolvedTable, pre: Preflight): Promise<number> {
  const rows = num(pre.row_estimate) ?? 0;
  const blocks = num(pre.blocks) ?? 0;
  if (rows > 0 || blocks === 0) return rows;
  const sample = Math.min(blocks, 64);
  const [r] = await conn<{ n: number }[]>`
    SELECT count(*)::int AS n FROM ${conn(table.schema)}.${conn(table.name)} WHERE ctid < format('(%s,0)', ${sample}::bigint)::tid`;
  return Math.round(((r?.n ?? 0) / sample) * blocks);
}

async function estimateRowsPerBlock(
  conn: Sql,
  table: ResolvedTable,
  state: MigrationState,
  pre?: Preflight,
): Promise<number> {
  const next = Number(state.next_block);
  const copied = Number(state.rows_copied);
  if (next > 0 && copied > 0) return Math.max(1, copied / next);
  const rows = num(pre?.row_estimate) ?? 0;
  const blocks = num(pre?.blocks) ?? 0;
  if (rows > 0 && blocks > 0) return Math.max(1, rows / blocks);
  const sample = Math.min(Number(state.total_blocks), 64);
  if (sample <= 0) return 1;
  const [r] = await conn<{ n: number }[]>`
    SELECT count(*)::int AS n FROM ${conn(table.schema)}.${conn(table.name)} WHERE ctid < format('(%s,0)', ${sample}::bigint)::tid`;
  return Math.max(1, (r?.n ?? 0) / sample);
}

async function replayUntilSmall(
  conn: Sql,
  copy: Record<string, string>,
  hooks: MigrateHooks,
  newTable: NewTable,
): Promise<number> {
  const [p] = (await executeRendered(conn, copy.pending!)) as unknown as { n: string }[];
  const total = Number(p?.n ?? 0);
  let done = 0;
  const started = performance.now();
  // Replay in batches until what is left is small enough for the final step.
  for (let round = 0; round < 1000; round++) {
    if (hooks.signal?.aborted) break;
    await conn`BEGIN ISOLATION LEVEL REPEATABLE READ`;
    let entries = 0;
    try {
      await guardNewTable(conn, newTable);
      const [r] = (await executeRendered(conn, copy.replay!, [20_000] as never[])) as unknown as { entries: number }[];
      entries = r?.entries ?? 0;
      await conn`COMMIT`;
    } catch (err) {
      await conn`ROLLBACK`.catch(() => {});
      throw err;
    }
    done += entries;
    hooks.onProgress?.({ phase: 'replay', done, total: Math.max(total, done), elapsedMs: performance.now() - started });
    if (entries < 2_000) break;
  }
  return done;
}

interface NewTable {
  schema: string;
  name: string;
  oid: number;
}

/**
 * Before writing into the new table of an online migration (in the writing
 * transaction): nobody added a trigger to it while the migration waited, as
 * its owner could (and anyone the old table's TRIGGER privilege was granted
 * to); such a trigger would run with the rights of whoever runs homepot-ts.
 * ROW EXCLUSIVE first: CREATE TRIGGER waits for it (SHARE ROW EXCLUSIVE), so
 * none can appear between this check and the transaction's end, while the
 * copying connections, each holding it, do not wait for one another.
 */
async function guardNewTable(c: Sql, t: NewTable): Promise<void> {
  await c`LOCK TABLE ${c(t.schema)}.${c(t.name)} IN ROW EXCLUSIVE MODE`;
  const found = (await c.unsafe(sqlFile('migrate/foreign-triggers.sql'), [t.oid])) as unknown as { trigger: string }[];
  if (found.length === 0) return;
  throw new HomepotError(
    'permission-denied',
    `trigger ${found.map((f) => f.trigger).join(', ')} was added to the migration's new table: it would run with your rights`,
    {
      hint: `Nothing more was written. Check it and drop it as the table's owner (homepot-ts never runs others' code), then run migrate-from-postgres again; or migrate-from-postgres abort.`,
    },
  );
}

function secondsSince(t0: number): number {
  return round1((performance.now() - t0) / 1000);
}

/** How many connections work at once: --jobs, but one where the server takes one connection (embedded). */
function workerCount(opts: MigrateOptions, pool: Sql): number {
  return pool.options.max <= 1 ? 1 : Math.max(1, Math.min(opts.jobs, pool.options.max - 1));
}

/**
 * Start `work` on a connection of its own from the pool (when `parallel`),
 * or run it to the end on `conn`; the returned function waits for it and
 * rethrows its error.
 */
async function alongside(
  pool: Sql,
  conn: Sql,
  parallel: boolean,
  work: (c: Sql) => Promise<void>,
): Promise<() => Promise<void>> {
  if (!parallel) {
    // One connection: run it to the end first (its statements must not mix into the caller's transactions).
    await work(conn);
    return () => Promise.resolve();
  }
  const done = (async () => {
    const c = await pool.reserve();
    try {
      await setMigrationSession(c);
      await work(c);
    } finally {
      await resetMigrationSession(c);
      c.release();
    }
  })();
  done.catch(() => {}); // awaited (and rethrown) by the caller
  return () => done;
}

/**
 * Run `work` on n connections at once: the caller's own and n - 1 reserved
 * from the pool. The first failure stops the others after their current
 * batch; every connection is given back before this returns.
 */
async function withWorkers(
  pool: Sql,
  conn: Sql,
  n: number,
  work: (c: Sql, stop: () => boolean) => Promise<void>,
): Promise<void> {
  const extra = await Promise.all(Array.from({ length: n - 1 }, () => pool.reserve()));
  for (const c of extra) await setMigrationSession(c);
  let failed = false;
  const stop = () => failed;
  try {
    const results = await Promise.allSettled(
      [conn, ...(extra as unknown as Sql[])].map((c) =>
        work(c, stop).catch((err: unknown) => {
          failed = true;
          throw err;
        }),
      ),
    );
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
  } finally {
    for (const c of extra) {
      await resetMigrationSession(c);
      c.release();
    }
  }
}

/**
 * Count and checksum per window of the old and the new table, leaving out the
 * rows with changes still pending, in one REPEATABLE READ snapshot: on two
 * connections sharing an exported snapshot when there are two.
 */
async function verifySettled(
  pool: Sql,
  conn: Sql,
  n: number,
  settled: { old: string; new: string },
  windowSeconds: number,
): Promise<Verification> {
  await conn`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`;
  try {
    let source;
    let target;
    if (n > 1) {
      const [snap] = await conn<{ id: string }[]>`SELECT pg_export_snapshot() AS id`;
      const other = await pool.reserve();
      try {
        await setMigrationSession(other);
        await other`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`;
        // The snapshot id is the server's own (hex digits and dashes), not user text.
        await executeRendered(other, `SET TRANSACTION SNAPSHOT '${snap!.id.replace(/[^0-9A-F-]/gi, '')}'`);
        [source, target] = await Promise.all([
          windowSums(conn, settled.old, windowSeconds, { from: null, to: null }),
          windowSums(other as unknown as Sql, settled.new, windowSeconds, { from: null, to: null }),
        ]);
        await other`COMMIT`;
      } catch (err) {
        await other`ROLLBACK`.catch(() => {});
        throw err;
      } finally {
        await resetMigrationSession(other);
        other.release();
      }
    } else {
      source = await windowSums(conn, settled.old, windowSeconds, { from: null, to: null });
      target = await windowSums(conn, settled.new, windowSeconds, { from: null, to: null });
    }
    await conn`COMMIT`;
    return compareWindows(source, target, windowSeconds);
  } catch (err) {
    await conn`ROLLBACK`.catch(() => {});
    throw err;
  }
}

/** Run fn in a transaction with lock_timeout; returns fn's value. */
export async function inTransaction<T>(conn: Sql, lockTimeout: Interval, fn: () => Promise<T>): Promise<T> {
  await conn`BEGIN`;
  try {
    await conn`SELECT set_config('lock_timeout', ${`${Math.round(lockTimeout.seconds * 1000)}ms`}, true)`;
    const value = await fn();
    await conn`COMMIT`;
    return value;
  } catch (err) {
    await conn`ROLLBACK`.catch(() => {});
    throw err;
  }
}

function interrupted(table: ResolvedTable): HomepotError {
  return new HomepotError('interrupted', `interrupted: the migration of ${table.display} stopped between batches`, {
    hint: `Writes are still captured; run migrate-from-postgres again to continue where it stopped (or migrate-from-postgres abort to undo it).`,
  });
}

async function keyOf(conn: Sql, table: ResolvedTable, timeColumn: string): Promise<string[] | null> {
  const [pre] = (await conn.unsafe(sqlFile('migrate/preflight.sql'), [
    table.oid,
    timeColumn,
  ])) as unknown as Preflight[];
  return pre?.key_columns ?? null;
}

/** Temporary names for the copies of the old table's indexes and key constraints. */
async function tempIndexNames(conn: Sql, table: ResolvedTable): Promise<Record<string, string>> {
  const rows = (await conn.unsafe(sqlFile('migrate/index-names.sql'), [table.oid])) as unknown as { name: string }[];
  const map: Record<string, string> = {};
  rows.forEach((r, i) => {
    map[r.name] = derivedName(r.name, `_tsdb${i}`);
  });
  return map;
}

/**
 * Names for the swap: the old table's index and constraint names once it is
 * the old table (`<table>_pkey` becomes `<old table>_pkey`, others get
 * `_pre_timescaledb`), and the new table's default time index as TimescaleDB
 * named it and as an in-place conversion would have; cut like PostgreSQL.
 */
async function swapNames(
  conn: Sql,
  table: ResolvedTable,
  newTable: string,
  oldTable: string,
  timeColumn: string,
): Promise<{ moved: Record<string, string>; defaultIndex: string; wantedIndex: string }> {
  const rows = (await conn.unsafe(sqlFile('migrate/index-names.sql'), [table.oid])) as unknown as { name: string }[];
  // Cut names can meet (each other, the old table's name, another relation):
  // then a number goes into the suffix, as PostgreSQL does for names it picks.
  const taken = new Set([oldTable, ...rows.map((r) => r.name)]);
  const [existing] = (await conn.unsafe(sqlFile('migrate/relation-names.sql'), [table.oid])) as unknown as {
    names: string[];
  }[];
  for (const n of existing?.names ?? []) taken.add(n);
  const moved: Record<string, string> = {};
  for (const { name } of rows) {
    const [base, suffix] = name.startsWith(table.name)
      ? [oldTable, name.slice(table.name.length)]
      : [name, '_pre_timescaledb'];
    let candidate = derivedName(base, suffix);
    for (let i = 1; taken.has(candidate); i++) candidate = derivedName(base, `${suffix}${i}`);
    taken.add(candidate);
    moved[name] = candidate;
  }
  return {
    moved,
    defaultIndex: objectName(newTable, timeColumn, 'idx'),
    wantedIndex: objectName(table.name, timeColumn, 'idx'),
  };
}

// ---------------------------------------------------------------------------
// after: finished, cleanup, abort

async function finished(
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
    await dropOld(conn, state, q.oid);
    result.droppedOld = true;
    result.changed = true;
    result.oldTable = null;
  }
  result.nextSteps = followUp(q.name);
  return result;
}

/** --drop-old: the old table (by the OID recorded at the swap) goes, and with it the migration's state (as cleanup does). */
async function dropOld(conn: Sql, state: MigrationState, currentOid: number | null = null): Promise<void> {
  await inTransaction(conn, { text: '10 seconds', seconds: 10 }, async () => {
    const old = await recordedOldTable(conn, state, currentOid);
    if (old?.ok) await executeRendered(conn, old.statement);
    await forget(conn, state.schema_name, state.table_name);
  });
}

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
      const caps = await detectCapabilities(conn);
      requireWritable(caps, opts.abort ? 'migrate-from-postgres abort' : 'migrate-from-postgres cleanup');
      const q = await resolveNames(conn, opts.table);
      const names = migrationNames(q.name);
      const state = await readState(conn, q.schema, q.name);
      const res: CleanupResult = {
        command: opts.abort ? 'migrate-from-postgres abort' : 'migrate-from-postgres cleanup',
        table: q.display,
        dryRun: opts.dryRun,
        changed: false,
        dropped: [],
        statements: [],
        warnings: [],
      };
      let forgetIt = false;
      if (state?.strategy === 'remote') {
        // A copy from another server (--source): nothing of it is temporary on
        // this server but its state row. abort would mean dropping the copied
        // tables, which is for a person to decide.
        if (opts.abort) {
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
        forgetIt = true;
      } else if (opts.abort) {
        if (state?.phase === 'done') {
          throw new HomepotError('usage', `the migration of ${q.display} is finished: there is nothing to abort`, {
            hint: `${q.display} is the hypertable now; the old table is ${state.old_table ?? names.oldTable} until migrate-from-postgres cleanup.`,
          });
        }
        if (state) {
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
          forgetIt = true;
        }
      } else if (state?.phase === 'done') {
        const old = await recordedOldTable(conn, state, q.oid);
        if (old?.ok) {
          res.statements.push(old.statement);
          res.dropped.push(old.display);
        } else if (old?.present) {
          res.warnings.push(
            `kept ${old.display}: it is no longer the old table the migration left (${state.old_table})`,
          );
        }
        forgetIt = true;
      } else if (state) {
        throw new HomepotError(
          'usage',
          `the migration of ${q.display} is not finished (${state.phase}): cleanup drops the old table only after the swap`,
          {
            hint: 'Run migrate-from-postgres to finish it, or migrate-from-postgres abort to undo it.',
          },
        );
      }
      if (!forgetIt || opts.dryRun) return res;
      hooks.onStep?.({ id: 'cleanup', title: res.command, state: 'needed', statements: res.statements }, 0);
      await inTransaction(conn, { text: '10 seconds', seconds: 10 }, async () => {
        await exec(conn, res.statements);
        await forget(conn, q.schema, q.name);
      });
      res.changed = true;
      return res;
    },
    hooks.onWait,
  );
}
