import { detectCapabilities, type Capabilities } from '../db/capabilities.js';
import { quoteIfNeeded } from '../core/columns.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import { findRelation, parseQualifiedName, resolveTable, type ResolvedTable } from '../db/names.js';
import { num } from '../core/numbers.js';
import { checkConvertible } from '../steps/hypertable.js';
import { requireExtensionFor } from '../db/features.js';
import { executeRendered, query, queryOne, renderStatement } from '../db/sql.js';
import { appObjectChecks } from './app-objects.js';
import { RATE, type MigrateOptions, type MigrateResult, type PlannedStep, type Strategy } from './result.js';

/**
 * Before a migration on this database changes anything: the facts about the
 * table (sql/migrate/preflight.sql), everything that stops a conversion, the
 * strategy chosen for it (and why), the estimate shown by --dry-run, and the
 * TimescaleDB extension (planned here, created once nothing stands in the way).
 */

export interface Preflight {
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

/** TimescaleDB must be there (or creatable), the session writable; creates the extension when missing. */
export async function ensureTimescale(
  conn: Sql,
  caps: Capabilities,
  dryRun: boolean,
): Promise<{ caps: Capabilities; plan: PlannedStep[] }> {
  // A session that cannot write is refused by the caller, unless it only plans
  // (a dry run or --check, which also work on a replica).
  requireExtensionFor(caps, 'timescaledb', 'migrate-from-postgres');
  if (caps.timescaledb.installedVersion) return { caps, plan: [] };
  const statement = await renderStatement(conn, 'setup/render-create-extension.sql', []);
  if (!dryRun) {
    await executeRendered(conn, statement);
    caps = await detectCapabilities(conn);
  }
  return { caps, plan: [{ id: 'extension', title: 'create the TimescaleDB extension', statements: [statement] }] };
}

export async function isHypertable(sql: Sql, t: ResolvedTable): Promise<boolean> {
  const [r] = await sql<{ ok: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_schema = ${t.schema} AND hypertable_name = ${t.name}) AS ok`;
  return Boolean(r?.ok);
}

/** The table's schema and name, even after a swap (the name then is the new hypertable). */
export async function resolveNames(conn: Sql, input: string): Promise<ResolvedTable> {
  const qn = parseQualifiedName(input);
  const found = await findRelation(conn, qn);
  if (found) return found;
  // resolveTable throws the helpful unknown-table error.
  return resolveTable(conn, input);
}

export async function readPreflight(conn: Sql, table: ResolvedTable, timeColumn: string): Promise<Preflight> {
  const pre = await queryOne<Preflight>(conn, 'migrate/preflight.sql', [table.oid, timeColumn]);
  if (!pre) throw new HomepotError('internal', `could not read ${table.display}`);
  return pre;
}

/**
 * Everything that stops a conversion, as one error naming each problem and
 * its fix; and the strategy, chosen first: the online strategy's blockers
 * apply only when the table will move online (`auto` converts a small table
 * in place, views and triggers included).
 */
export async function checkBlockers(
  conn: Sql,
  table: ResolvedTable,
  opts: MigrateOptions,
  caps: Capabilities,
): Promise<{ pre: Preflight; warnings: string[]; choice: { strategy: Strategy; reason: string } }> {
  if (table.relkind !== 'r') {
    throw new HomepotError('unsuitable-table', `${table.display} is not a plain table and cannot become a hypertable`, {
      hint: 'Point --table at an ordinary table.',
    });
  }
  const { warnings } = await checkConvertible(conn, table, opts.timeColumn);
  const pre = await readPreflight(conn, table, opts.timeColumn);
  const hasRows = await anyRow(conn, table);
  const choice = strategyFor(opts, pre, hasRows);
  const online = choice.strategy === 'online';
  const fks = await query<{ constraint_name: string; from_table: string }>(conn, 'steps/referencing-fks.sql', [
    table.oid,
  ]);
  const { problems, fixes } = blockers(pre, fks, caps, online, hasRows);
  const app = await appObjectChecks(conn, table, {
    online,
    hasRows,
    timeColumn: opts.timeColumn,
    keyColumns: pre.key_columns,
  });
  problems.push(...app.problems);
  fixes.push(...app.fixes);
  if (problems.length > 0) {
    throw new HomepotError(
      'unsuitable-table',
      `${table.display} cannot be migrated ${online ? 'online' : 'in place'}: ${problems.join('; ')}`,
      {
        hint: `Fix: ${fixes.join('; ')}. Nothing was changed.`,
      },
    );
  }
  if (online) requireKey(table, opts, pre);
  return { pre, warnings: [...warnings, ...app.warnings, CROSS_CHUNK_UPDATES], choice };
}

/**
 * TimescaleDB routes a row to its chunk when it is inserted; an UPDATE that
 * moves "timestamp" into another chunk's range fails (23514) where it
 * succeeded on the plain table (seen on 2.19.3 and 2.28.3).
 */
const CROSS_CHUNK_UPDATES =
  "after the migration, an UPDATE that moves a row's time into another chunk fails (23514, a TimescaleDB limitation): delete the row and insert it again instead";

/** The problems that stop a conversion (each with its fix). */
function blockers(
  pre: Preflight,
  fks: { constraint_name: string; from_table: string }[],
  caps: Capabilities,
  online: boolean,
  hasRows: boolean,
): { problems: string[]; fixes: string[] } {
  const problems: string[] = [];
  const fixes: string[] = [];
  const tsVersion = caps.timescaledb.installedVersion ?? caps.timescaledb.availableVersion ?? '0';
  // TimescaleDB 2.16+ keeps foreign keys into an empty table it converts, but
  // create_hypertable(migrate_data) truncates the table after moving its rows,
  // and PostgreSQL refuses that while foreign keys point in (0A000; 2.19.3, 2.23, 2.28.3).
  const fkSupported = compareVersions(tsVersion, '2.16.0') >= 0 && !hasRows;
  if (fks.length > 0 && (online || !fkSupported)) {
    problems.push(`foreign keys point into it (${fks.map((f) => `${f.from_table}.${f.constraint_name}`).join(', ')})`);
    fixes.push(
      online
        ? 'drop those foreign keys and re-create them after the migration (TimescaleDB 2.16+ keeps foreign keys that point into a hypertable)'
        : 'drop those foreign keys and re-create them after the migration (moving the rows into chunks truncates the table, which PostgreSQL refuses while foreign keys point into it; TimescaleDB 2.16+ keeps foreign keys added afterwards)',
    );
  }
  if (pre.inheritance) {
    problems.push('it takes part in table inheritance');
    fixes.push('detach the child or parent tables first');
  }
  if (!online) return { problems, fixes };
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
  return { problems, fixes };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

async function anyRow(conn: Sql, table: ResolvedTable): Promise<boolean> {
  const [any] = await conn<
    { any: boolean }[]
  >`SELECT EXISTS (SELECT 1 FROM ${conn(table.schema)}.${conn(table.name)}) AS any`;
  return Boolean(any?.any);
}

/** The online strategy replays captured writes by key: the table must have one that contains the time column. */
function requireKey(table: ResolvedTable, opts: MigrateOptions, pre: Preflight): void {
  if (pre.key_columns) return;
  throw new HomepotError(
    'unsuitable-table',
    `${table.display} has no primary key (or unique NOT NULL key) that includes ${quoteIfNeeded(opts.timeColumn)}: the online strategy needs one to replay the writes that arrive during the copy`,
    {
      hint: `Add one (for HOMEPOT: ALTER TABLE ${table.display} ADD PRIMARY KEY (id, ${quoteIfNeeded(opts.timeColumn)});), or use --strategy in-place (blocks writes for the whole conversion).`,
    },
  );
}

function strategyFor(opts: MigrateOptions, pre: Preflight, hasRows: boolean): { strategy: Strategy; reason: string } {
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

/** Rows, bytes, seconds and the lock a conversion takes, for the result and --dry-run. */
export async function estimate(
  conn: Sql,
  table: ResolvedTable,
  opts: MigrateOptions,
  pre: Preflight,
  strategy: Strategy,
): Promise<MigrateResult['estimate']> {
  const rows = await estimateRows(conn, table, pre);
  const bytes = num(pre.total_bytes) ?? 0;
  const rate = strategy === 'in-place' ? RATE.inPlaceRowsPerSecond : RATE.onlineRowsPerSecond;
  const seconds = Math.round(rows / rate);
  return {
    rows,
    bytes,
    seconds,
    lock:
      strategy === 'in-place'
        ? `ACCESS EXCLUSIVE on ${table.display} for the whole conversion (${seconds < 1 ? 'under a second' : `about ${seconds} s`}): no reads or writes`
        : `SHARE ROW EXCLUSIVE on ${table.display} for milliseconds (to add the capture trigger), then ACCESS EXCLUSIVE for the final step (replay the last changes, verify, swap names; well under 1 s), each bounded by --lock-timeout ${opts.lockTimeout.text}`,
  };
}

/** The planner's row count, or (a table never analyzed, as after a restore) one counted from its first 64 blocks. */
async function estimateRows(conn: Sql, table: ResolvedTable, pre: Preflight): Promise<number> {
  const rows = num(pre.row_estimate) ?? 0;
  const blocks = num(pre.blocks) ?? 0;
  if (rows > 0 || blocks === 0) return rows;
  const sample = Math.min(blocks, 64);
  return Math.round(((await rowsInFirstBlocks(conn, table, sample)) / sample) * blocks);
}

/** The rows in the table's first `blocks` blocks (counted, for tables without statistics). */
export async function rowsInFirstBlocks(conn: Sql, table: ResolvedTable, blocks: number): Promise<number> {
  const [r] = await conn<{ n: number }[]>`
    SELECT count(*)::int AS n FROM ${conn(table.schema)}.${conn(table.name)} WHERE ctid < format('(%s,0)', ${blocks}::bigint)::tid`;
  return r?.n ?? 0;
}
