import type { Sql } from '../db/connection.js';
import { endSentence, HomepotError } from '../core/errors.js';
import { executeRendered, query, sqlFile, queryOne, renderList, renderStatement } from '../db/sql.js';

/**
 * The migration state of migrate-from-postgres: where an online migration (or
 * a copy from another server) keeps its place, one row per table in
 * homepot_ts.migration. Every statement against it is here, from the
 * sql/migrate/state-*.sql files, values bound as parameters.
 *
 * Others can create objects in a database: a state they planted would tell
 * the tool what to drop, and a view in its place would run their functions
 * with the operator's rights. So the state is read or written only when the
 * catalog shows that the schema homepot_ts and the table homepot_ts.migration
 * are the tool's own (the right kind, owned by the current role or a
 * superuser role), and what abort and cleanup drop is found by the OIDs
 * recorded when the tool created it, never by a name read back from a row.
 */

export const STATE_SCHEMA = 'homepot_ts';
export const STATE_TABLE = 'migration';
const STATE_DISPLAY = `${STATE_SCHEMA}.${STATE_TABLE}`;

export interface MigrationState {
  schema_name: string;
  table_name: string;
  strategy: string;
  /** 'finished': a --source copy ended by migrate-from-postgres finish. */
  phase: 'copying' | 'catching-up' | 'done' | 'finished';
  source: string | null;
  /** OIDs as text, as recorded when the tool created the objects. */
  table_oid: string | null;
  new_table: string;
  new_table_oid: string | null;
  log_table: string;
  log_table_oid: string | null;
  capture_fn: string;
  capture_fn_oid: string | null;
  old_table: string | null;
  old_table_oid: string | null;
  index_names: Record<string, string>;
  total_blocks: string;
  next_block: string;
  rows_copied: string;
  window_seconds: number;
  batches: number;
  result: unknown;
  finished_at: Date | null;
}

interface TrustRow {
  schema_exists: boolean;
  schema_owner: string | null;
  schema_trusted: boolean | null;
  table_exists: boolean;
  table_oid: string | null;
  relkind: string | null;
  table_owner: string | null;
  table_trusted: boolean | null;
}

const KIND: Record<string, string> = {
  r: 'table',
  p: 'partitioned table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
  S: 'sequence',
  i: 'index',
  c: 'composite type',
};

function untrusted(what: string, owner: string, extra = ''): HomepotError {
  return new HomepotError(
    'permission-denied',
    `${what} is owned by role "${owner}", not by you or a superuser: homepot-ts did not create it${extra}`,
    {
      hint: `Nothing was read or changed. Check what is in it; then, as "${owner}" or a superuser, DROP SCHEMA ${STATE_SCHEMA} CASCADE (homepot-ts creates it again), or run homepot-ts as role "${owner}".`,
    },
  );
}

/**
 * Where the state stands: absent (no schema or no table), or trusted (the
 * table's OID). Throws exit 6 (one line naming the object and its owner)
 * when schema or table are not the tool's own.
 */
async function checkTrust(sql: Sql): Promise<{ tableOid: string | null; schemaExists: boolean }> {
  const t = await queryOne<TrustRow>(sql, 'migrate/state-trust.sql', [STATE_SCHEMA, STATE_TABLE]);
  if (!t || !t.schema_exists) return { tableOid: null, schemaExists: false };
  if (!t.schema_trusted) throw untrusted(`schema ${STATE_SCHEMA}`, t.schema_owner ?? '?');
  if (!t.table_exists) return { tableOid: null, schemaExists: true };
  if (t.relkind !== 'r') {
    throw new HomepotError(
      'permission-denied',
      `${STATE_DISPLAY} is a ${KIND[t.relkind ?? ''] ?? `relation of kind ${t.relkind}`} owned by role "${t.table_owner}", not a table homepot-ts created`,
      {
        hint: `Nothing was read or changed. Check it; then, as its owner or a superuser, drop it (DROP SCHEMA ${STATE_SCHEMA} CASCADE; homepot-ts creates it again).`,
      },
    );
  }
  if (!t.table_trusted) throw untrusted(STATE_DISPLAY, t.table_owner ?? '?');
  return { tableOid: t.table_oid, schemaExists: true };
}

export interface LegacyState {
  display: string;
  relkind: string;
  owner: string;
}

/** A relation homepot_ts_migration in `schema` (where older versions kept the state): looked up in the catalog, never read. */
export async function findLegacyState(sql: Sql, schema: string): Promise<LegacyState | null> {
  return (await queryOne<LegacyState>(sql, 'migrate/state-legacy.sql', [schema])) ?? null;
}

function describeLegacy(l: LegacyState): string {
  return `${l.display} (a ${KIND[l.relkind] ?? `relation of kind ${l.relkind}`} owned by role "${l.owner}") was left by an older homepot-ts or planted; not read`;
}

/**
 * The state of `schema.table`, or null when there is none. Refuses (exit 6)
 * when the state is not the tool's own, or when an old-location
 * homepot_ts_migration sits in the table's schema (never read: an older
 * version's unfinished migration must be finished with it, and a planted one
 * must not be mistaken for none).
 */
export async function readState(sql: Sql, schema: string, table: string): Promise<MigrationState | null> {
  const legacy = await findLegacyState(sql, schema);
  if (legacy) {
    throw new HomepotError('permission-denied', describeLegacy(legacy), {
      hint: `Nothing was changed. If an older homepot-ts was migrating a table, finish or abort that migration with it; otherwise check it and drop it as "${legacy.owner}" or a superuser (DROP ${legacy.relkind === 'v' ? 'VIEW' : 'TABLE'} ${legacy.display}).`,
    });
  }
  const { tableOid } = await checkTrust(sql);
  if (!tableOid) return null;
  return readRow(sql, schema, table);
}

async function readRow(sql: Sql, schema: string, table: string): Promise<MigrationState | null> {
  return (await queryOne<MigrationState>(sql, 'migrate/state-read.sql', [schema, table])) ?? null;
}

/**
 * For status, which must stay usable: the state when it is trusted, else a
 * warning saying why it was not read (and never a SELECT on anything
 * untrusted).
 */
export async function readStateForStatus(
  sql: Sql,
  schema: string,
  table: string,
): Promise<{ state: MigrationState | null; warnings: string[] }> {
  const warnings: string[] = [];
  const legacy = await findLegacyState(sql, schema);
  if (legacy) warnings.push(`${describeLegacy(legacy)}. migrate-from-postgres refuses to run while it is there.`);
  try {
    const { tableOid } = await checkTrust(sql);
    return { state: tableOid ? await readRow(sql, schema, table) : null, warnings };
  } catch (err) {
    if (!(err instanceof HomepotError)) throw err;
    warnings.push(`the migration state was not read: ${endSentence(err.message)} ${err.hint ?? ''}`.trim());
    return { state: null, warnings };
  }
}

/** The statements that create the state's schema and table (shown by --dry-run). */
export async function renderCreateState(sql: Sql): Promise<string[]> {
  return renderList(sql, 'migrate/state-create.sql', []);
}

/**
 * Create the state (inside the caller's transaction) and prove it is the
 * tool's own afterwards: CREATE ... IF NOT EXISTS skips what someone else
 * made meanwhile, and the check then refuses (the transaction rolls back).
 */
export async function createState(tx: Sql, statements: string[]): Promise<void> {
  await checkTrust(tx);
  for (const s of statements) await executeRendered(tx, s);
  const { tableOid } = await checkTrust(tx);
  if (!tableOid) throw new HomepotError('internal', `${STATE_DISPLAY} was not created`);
}

export interface OnlineStart {
  tableOid: number;
  newTable: string;
  logTable: string;
  captureFn: string;
  oldTable: string;
  indexNames: Record<string, string>;
  windowSeconds: number;
}

/** Record an online migration just prepared, with the OIDs of what it created (same transaction). */
export async function recordOnlineStart(tx: Sql, s: OnlineStart): Promise<void> {
  // executeRendered: the INSERT's row count (our own file, one statement, parameters bound).
  const r = await executeRendered(tx, sqlFile('migrate/state-insert-online.sql'), [
    s.tableOid,
    s.newTable,
    s.logTable,
    s.captureFn,
    s.oldTable,
    s.indexNames,
    s.windowSeconds,
  ]);
  if (r.count !== 1)
    throw new HomepotError(
      'internal',
      `the objects of the online migration (${s.newTable}, ${s.logTable}, ${s.captureFn}) were not found after creating them`,
    );
}

/** Record a copy from another server (--source); a rerun keeps the row. */
export async function recordRemoteStart(
  tx: Sql,
  schema: string,
  table: string,
  source: string,
  windowSeconds: number,
): Promise<void> {
  await query(tx, 'migrate/state-insert-remote.sql', [schema, table, source, windowSeconds]);
}

export async function recordBatch(
  tx: Sql,
  schema: string,
  table: string,
  lo: number,
  hi: number,
  rows: number,
): Promise<void> {
  await query(tx, 'migrate/state-record-batch.sql', [schema, table, lo, hi, rows]);
}

/** One batch of a --source copy, with the integer keys it copied (int8multirange text, or null). */
export async function recordRemoteBatch(
  tx: Sql,
  schema: string,
  table: string,
  b: { nextBlock: number; totalBlocks: number; rows: number; keys: string | null },
): Promise<void> {
  await query(tx, 'migrate/state-record-remote-batch.sql', [schema, table, b.nextBlock, b.totalBlocks, b.rows, b.keys]);
}

/** Keys copied from the source while reconciling windows. */
export async function addSourceKeys(tx: Sql, schema: string, table: string, keys: string | null): Promise<void> {
  if (!keys) return;
  await query(tx, 'migrate/state-add-source-keys.sql', [schema, table, keys]);
}

/** The integer keys copied from the source so far (int8multirange text). */
export async function readSourceKeys(sql: Sql, schema: string, table: string): Promise<string> {
  const r = await queryOne<{ keys: string }>(sql, 'migrate/state-source-keys.sql', [schema, table]);
  return r?.keys ?? '{}';
}

/** migrate-from-postgres finish: the --source copy has ended; returns when. */
export async function recordFinished(tx: Sql, schema: string, table: string): Promise<Date> {
  const r = await queryOne<{ at: Date }>(tx, 'migrate/state-finish.sql', [schema, table]);
  if (!r) throw new HomepotError('internal', `the migration state of ${schema}.${table} was not found`);
  return r.at;
}

/** Block ranges [lo, hi) of an online migration not copied yet. */
export async function remainingBlocks(
  sql: Sql,
  schema: string,
  table: string,
  totalBlocks: number,
): Promise<[number, number][]> {
  const rows = await query<{ lo: string; hi: string }>(sql, 'migrate/state-remaining-blocks.sql', [
    schema,
    table,
    totalBlocks,
  ]);
  return rows.map((r) => [Number(r.lo), Number(r.hi)]);
}

export async function setPhase(tx: Sql, schema: string, table: string, phase: MigrationState['phase']): Promise<void> {
  await query(tx, 'migrate/state-set-phase.sql', [schema, table, phase]);
}

/** The swap is done (same transaction): phase done, and the old table's OID for cleanup. */
export async function recordSwapped(tx: Sql, schema: string, table: string, oldTableOid: number): Promise<void> {
  await query(tx, 'migrate/state-swapped.sql', [schema, table, oldTableOid]);
}

export async function recordResult(
  sql: Sql,
  schema: string,
  table: string,
  result: unknown,
  windowSeconds: number | null = null,
): Promise<void> {
  await query(sql, 'migrate/state-result.sql', [schema, table, result, windowSeconds]);
}

/** What forgetting a table's migration runs (for --dry-run and the plan). */
export async function renderForget(sql: Sql, schema: string, table: string): Promise<string> {
  return renderStatement(sql, 'migrate/state-render-forget.sql', [schema, table]);
}

/**
 * Forget a table's migration (inside the caller's transaction); the state
 * table goes when no migration is left in it (the schema stays: it may hold
 * nothing else of ours).
 */
export async function forget(tx: Sql, schema: string, table: string): Promise<void> {
  const { tableOid } = await checkTrust(tx);
  if (!tableOid) return;
  const r = await queryOne<{ left: number }>(tx, 'migrate/state-delete.sql', [schema, table]);
  if ((r?.left ?? 0) > 0) return;
  const drop = await queryOne<{ statement: string }>(tx, 'migrate/state-render-drop-state.sql', [tableOid]);
  if (drop) await executeRendered(tx, drop.statement);
}

export interface RecordedObject {
  what: 'capture trigger' | 'capture function' | 'change log' | 'new table';
  name: string;
  /** An object with the recorded OID exists. */
  present: boolean;
  /** ... and it is still what the migration created (kind, schema, name; not the migrated table). */
  ok: boolean;
  statement: string;
}

/**
 * The objects an unfinished online migration created, by recorded OID, each
 * with the statement that drops it. `currentOid`: the OID the table's name
 * has now (null when nothing has it).
 */
export async function recordedObjects(
  sql: Sql,
  state: MigrationState,
  currentOid: number | null,
): Promise<RecordedObject[]> {
  if (!state.table_oid) return [];
  return query<RecordedObject>(sql, 'migrate/state-recorded.sql', [
    state.schema_name,
    currentOid,
    state.table_oid,
    state.new_table,
    state.new_table_oid,
    state.log_table,
    state.log_table_oid,
    state.capture_fn,
    state.capture_fn_oid,
  ]);
}

/**
 * Before continuing an online migration: the new table, change log and
 * capture function are still the ones it created (else exit 6).
 */
export async function requireRecordedObjects(
  sql: Sql,
  state: MigrationState,
  currentOid: number,
  display: string,
): Promise<void> {
  const objects = await recordedObjects(sql, state, currentOid);
  const wrong = objects.filter((o) => o.what !== 'capture trigger' && !o.ok).map((o) => `${o.what} ${o.name}`);
  if (!state.table_oid || String(currentOid) !== state.table_oid)
    wrong.unshift(`${display} itself (it is not the table the migration started on)`);
  if (wrong.length > 0) {
    throw new HomepotError(
      'permission-denied',
      `the online migration of ${display} cannot continue: ${wrong.join(', ')} ${wrong.length === 1 ? 'is' : 'are'} no longer what it created`,
      {
        hint: "Nothing was changed. Check them; migrate-from-postgres abort drops only what is still the migration's own.",
      },
    );
  }
}

interface RecordedOldTable {
  present: boolean;
  ok: boolean;
  display: string;
  statement: string;
}

/** After a finished online migration: the old table, by the OID recorded at the swap. */
export async function recordedOldTable(
  sql: Sql,
  state: MigrationState,
  currentOid: number | null,
): Promise<RecordedOldTable | null> {
  if (!state.old_table_oid || !state.old_table) return null;
  const r = await queryOne<RecordedOldTable>(sql, 'migrate/state-old-table.sql', [
    state.schema_name,
    currentOid,
    state.old_table,
    state.old_table_oid,
  ]);
  return r ?? null;
}
