import { requireWritable, type Capabilities } from '../db/capabilities.js';
import type { Sql } from '../db/connection.js';
import { requireExtensionFor, requireFeature } from '../db/features.js';
import { resolveTable, type ResolvedTable } from '../db/names.js';
import { query, queryOne, renderStatement } from '../db/sql.js';
import type { Interval } from '../core/intervals.js';
import { quoteIfNeeded } from '../core/columns.js';
import { HomepotError } from '../core/errors.js';

/**
 * Checks several features run before they change a table: the server and
 * role can do it (preflight), the table can become a hypertable
 * (checkTimeColumn, checkConvertible), a typed name is a hypertable
 * (resolveHypertable); and a hypertable's time dimension, read
 * (readTimeDimension) and changed (renderSetChunkInterval).
 */

/** Refuse, before anything changes, what a command that may create the extension cannot do here. */
export function preflight(
  caps: Capabilities,
  opts: { require?: 'timescaledb' | 'community' | null },
  command = 'setup',
): void {
  requireWritable(caps, command);
  requireExtensionFor(caps, opts.require, command);
}

export interface TableInfo {
  column_exists: boolean;
  column_type: string | null;
  column_is_time: boolean | null;
  column_not_null: boolean;
  is_plain_table: boolean;
  row_estimate: number;
  total_bytes: number;
}

/** Check the table has the time column and that it holds times; throws unsuitable-table (exit 4) when not. */
export async function checkTimeColumn(sql: Sql, table: ResolvedTable, timeColumn: string): Promise<TableInfo> {
  const [info] = await query<TableInfo>(sql, 'steps/table-info.sql', [table.oid, timeColumn]);
  if (!info) throw new HomepotError('internal', `could not read ${table.display}`);
  const col = quoteIfNeeded(timeColumn);
  if (!info.column_exists) {
    throw new HomepotError('unsuitable-table', `${table.display} has no column ${col} to partition by time`, {
      hint: 'Name the time column with --time-column (HOMEPOT uses "timestamp").',
    });
  }
  if (!info.column_is_time) {
    throw new HomepotError(
      'unsuitable-table',
      `${table.display}.${col} is ${info.column_type}, not a time type (timestamptz, timestamp or date)`,
      {
        hint: 'Choose a timestamptz column with --time-column.',
      },
    );
  }
  return info;
}

/** Check the table can become a hypertable; returns warnings, throws on blockers. */
export async function checkConvertible(
  sql: Sql,
  table: ResolvedTable,
  timeColumn: string,
): Promise<{ info: TableInfo; warnings: string[] }> {
  const info = await checkTimeColumn(sql, table, timeColumn);
  const col = quoteIfNeeded(timeColumn);
  if (!info.column_not_null) {
    throw new HomepotError(
      'unsuitable-table',
      `${table.display}.${col} allows NULL; a hypertable's time column must be NOT NULL`,
      {
        hint: `Fill any NULLs, then run: ALTER TABLE ${table.display} ALTER COLUMN ${col} SET NOT NULL;`,
      },
    );
  }
  const unique = await query<{
    index_name: string;
    constraint_name: string | null;
    constraint_type: string | null;
    columns: string[] | null;
    definition: string;
  }>(sql, 'steps/unique-without-time.sql', [table.oid, timeColumn]);
  if (unique.length > 0) {
    const names = unique.map((u) => u.constraint_name ?? u.index_name);
    // A statement to run where we can write one: the same key with the time column added.
    const fix = unique
      .map((u) => {
        const cols = u.columns ? [...u.columns, timeColumn].map(quoteIfNeeded).join(', ') : null;
        if (u.constraint_name && cols && (u.constraint_type === 'p' || u.constraint_type === 'u')) {
          return `ALTER TABLE ${table.display} DROP CONSTRAINT ${quoteIfNeeded(u.constraint_name)}, ADD CONSTRAINT ${quoteIfNeeded(u.constraint_name)} ${u.constraint_type === 'p' ? 'PRIMARY KEY' : 'UNIQUE'} (${cols});`;
        }
        if (!u.constraint_name && cols) {
          return `DROP INDEX ${quoteIfNeeded(table.schema)}.${quoteIfNeeded(u.index_name)}; CREATE UNIQUE INDEX ${quoteIfNeeded(u.index_name)} ON ${table.display} (${cols});`;
        }
        return u.constraint_name
          ? `ALTER TABLE ${table.display} DROP CONSTRAINT ${quoteIfNeeded(u.constraint_name)}; then re-add it with ${col} in its columns`
          : `DROP INDEX ${quoteIfNeeded(u.index_name)}; then re-create it with ${col} in its columns`;
      })
      .join(' ');
    throw new HomepotError(
      'unsuitable-table',
      `${table.display} has unique constraints or indexes without ${col}, which a hypertable cannot keep: ${names.join(', ')}`,
      {
        hint: `Run: ${fix}`,
      },
    );
  }
  const warnings: string[] = [];
  const fks = await query<{ constraint_name: string; from_table: string }>(sql, 'steps/referencing-fks.sql', [
    table.oid,
  ]);
  if (fks.length > 0) {
    warnings.push(
      `foreign keys reference ${table.display} (${fks.map((f) => `${f.from_table}.${f.constraint_name}`).join(', ')}): TimescaleDB supports them from 2.16; older versions refuse the conversion.`,
    );
  }
  return { info, warnings };
}

/** Check a typed name is a hypertable here; the error says what to do when it is not. */
export async function resolveHypertable(
  sql: Sql,
  caps: Capabilities,
  input: string,
  command = 'chunks',
): Promise<ResolvedTable> {
  requireFeature(caps, 'timescaledb', command);
  const table = await resolveTable(sql, input);
  const [row] = await sql<{ ok: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables
                   WHERE hypertable_schema = ${table.schema} AND hypertable_name = ${table.name}) AS ok`;
  if (!row?.ok) throw await notAHypertable(sql, table);
  return table;
}

const KINDS: Record<string, string> = {
  v: 'a view',
  m: 'a materialized view',
  f: 'a foreign table',
  p: 'a partitioned table',
  r: 'a plain table',
};

/**
 * Why a relation is not a hypertable, and what to do: only a plain table of the user's
 * can be converted (never a system catalog, nor HOMEPOT's devices and sites, which stay
 * plain); a continuous aggregate is a view over a hypertable TimescaleDB keeps.
 */
async function notAHypertable(sql: Sql, table: ResolvedTable): Promise<HomepotError> {
  const cagg =
    table.relkind === 'v' &&
    (await queryOne<{ ok: boolean }>(sql, 'steps/is-continuous-aggregate.sql', [table.schema, table.name]))?.ok;
  const kind = cagg ? 'a continuous aggregate' : (KINDS[table.relkind] ?? 'not a table');
  const system = /^(pg_catalog|information_schema|_timescaledb|timescaledb_)/.test(table.schema);
  const hint = cagg
    ? 'Its rows live in a hypertable TimescaleDB manages: homepot-ts aggregates list shows it.'
    : system
      ? 'It is a system catalog: give the hypertable, e.g. health_checks.'
      : table.relkind !== 'r'
        ? 'Give a hypertable, e.g. health_checks (homepot-ts status lists them).'
        : table.name === 'health_checks'
          ? 'Run homepot-ts setup to convert it.'
          : ['devices', 'sites'].includes(table.name)
            ? "HOMEPOT's devices and sites stay plain tables; health_checks is the hypertable."
            : `Convert it with homepot-ts setup --table ${table.display}.`;
  return new HomepotError('not-a-hypertable', `${table.display} is ${kind}, not a hypertable`, { hint });
}

/** A hypertable's primary dimension as sql/steps/hypertable-info.sql returns it. */
export interface TimeDimension {
  column_name: string;
  /** null on an integer time column. */
  chunk_interval: string | null;
  /** The chunk interval equals the wanted one (null when none was asked about). */
  interval_matches: boolean | null;
}

/** The hypertable's primary (time) dimension, or undefined for a table that is not a hypertable. */
export async function readTimeDimension(
  sql: Sql,
  table: { schema: string; name: string },
  wanted: string | null = null,
): Promise<TimeDimension | undefined> {
  return queryOne<TimeDimension>(sql, 'steps/hypertable-info.sql', [table.schema, table.name, wanted]);
}

/** set_chunk_time_interval for the chunks created from now on. */
export async function renderSetChunkInterval(
  sql: Sql,
  table: { schema: string; name: string },
  interval: Interval,
): Promise<string> {
  return renderStatement(sql, 'steps/render-set-chunk-interval.sql', [table.schema, table.name, interval.text]);
}

/** A hypertable's time column cannot change: asking for another one is exit 4 (setup, migrate-from-postgres). */
export function requireTimeColumn(table: ResolvedTable, current: string, wanted: string): void {
  if (current === wanted) return;
  throw new HomepotError(
    'unsuitable-table',
    `${table.display} is already a hypertable on ${quoteIfNeeded(current)}, not ${quoteIfNeeded(wanted)}`,
    { hint: `Use --time-column ${quoteIfNeeded(current)}; a hypertable's time column cannot change.` },
  );
}
