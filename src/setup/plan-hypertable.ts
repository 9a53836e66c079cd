import type { Capabilities } from '../db/capabilities.js';
import { quoteIfNeeded } from '../core/columns.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import type { ResolvedTable } from '../db/names.js';
import { num } from '../core/numbers.js';
import type { Step } from '../db/plan.js';
import { renderStatement } from '../db/sql.js';
import { requireOwnerRights } from '../db/table-owner.js';
import {
  checkConvertible,
  checkTimeColumn,
  readTimeDimension,
  renderSetChunkInterval,
  requireTimeColumn,
} from '../steps/hypertable.js';
import type { SetupOptions } from '../setup.js';

/**
 * setup's first steps: the TimescaleDB extension, and the table as a
 * hypertable (created, or its chunk interval changed, or in place). Refuses
 * a table that cannot become one, and one already partitioned on another
 * column. SQL in sql/setup/ and sql/steps/.
 */

const EXTENSION_TITLE = 'TimescaleDB extension';

/** The extension step; separate because everything after it depends on it. */
export async function extensionStep(sql: Sql, caps: Capabilities): Promise<Step> {
  const ts = caps.timescaledb;
  const statements = [await renderStatement(sql, 'setup/render-create-extension.sql', [])];
  if (ts.installedVersion)
    return { id: 'extension', title: EXTENSION_TITLE, state: 'in-place', current: ts.installedVersion, statements };
  if (!ts.availableVersion) {
    return {
      id: 'extension',
      title: EXTENSION_TITLE,
      state: 'not-available',
      statements,
      reason:
        'TimescaleDB is not installed on this server: HOMEPOT keeps working on plain PostgreSQL. Install the timescaledb package for this PostgreSQL version, preload it, restart, and run setup again.',
    };
  }
  return { id: 'extension', title: EXTENSION_TITLE, state: 'needed', wanted: ts.availableVersion, statements };
}

/**
 * The hypertable step, and whether the table is a hypertable already (the
 * later steps read its settings only then). `hasTimescale`: the extension is
 * there, or the extension step creates it.
 */
export async function hypertableStep(
  sql: Sql,
  table: ResolvedTable,
  opts: SetupOptions,
  p: { installed: boolean; hasTimescale: boolean },
): Promise<{ step: Step; isHypertable: boolean; warnings: string[] }> {
  const title = `${table.display} as a hypertable on ${quoteIfNeeded(opts.timeColumn)}, ${opts.chunkInterval.text} chunks`;
  if (!p.hasTimescale) {
    // No hypertable is made here, but the column the user named must still exist: a typo is
    // an error on every server kind, never a skipped step.
    await checkTimeColumn(sql, table, opts.timeColumn);
    const reason = 'needs TimescaleDB (not installed on this server)';
    return {
      step: { id: 'hypertable', title, state: 'not-available', statements: [], reason },
      isHypertable: false,
      warnings: [],
    };
  }
  const current = p.installed ? await readTimeDimension(sql, table, opts.chunkInterval.text) : undefined;
  if (current) {
    requireTimeColumn(table, current.column_name, opts.timeColumn);
    const now = `chunks of ${current.chunk_interval}`;
    const step: Step = current.interval_matches
      ? { id: 'hypertable', title, state: 'in-place', current: now, statements: [] }
      : {
          id: 'hypertable',
          title,
          state: 'different',
          current: now,
          wanted: `chunks of ${opts.chunkInterval.text} (new chunks only; existing chunks keep their size)`,
          statements: [await renderSetChunkInterval(sql, table, opts.chunkInterval)],
        };
    return { step, isHypertable: true, warnings: [] };
  }
  const { step, warnings } = await convertStep(sql, table, opts, title);
  return { step, isHypertable: false, warnings };
}

/** Converting a plain table: refuse what cannot be converted, warn about a copy of existing rows. */
async function convertStep(
  sql: Sql,
  table: ResolvedTable,
  opts: SetupOptions,
  title: string,
): Promise<{ step: Step; warnings: string[] }> {
  if (table.relkind !== 'r') {
    throw new HomepotError(
      'unsuitable-table',
      `${table.display} is not a plain table (it is a ${table.relkind === 'p' ? 'partitioned table' : table.relkind === 'v' ? 'view' : 'relation of kind ' + table.relkind}) and cannot become a hypertable`,
      {
        hint: 'Point --table at an ordinary table.',
      },
    );
  }
  const { info, warnings } = await checkConvertible(sql, table, opts.timeColumn);
  const [rows] = await sql<
    { any: boolean }[]
  >`SELECT EXISTS (SELECT 1 FROM ${sql(table.schema)}.${sql(table.name)}) AS any`;
  const hasRows = Boolean(rows?.any);
  // Converting moves the rows into chunks: only with the owner's rights (README "Who moves the rows").
  // An empty table moves nothing and runs no code of its owner.
  if (hasRows) await requireOwnerRights(sql, table, 'setup');
  const estimate = num(info.row_estimate) ?? 0;
  const step: Step = {
    id: 'hypertable',
    title,
    state: 'needed',
    statements: [
      await renderStatement(sql, 'setup/render-create-hypertable.sql', [
        table.schema,
        table.name,
        opts.timeColumn,
        opts.chunkInterval.text,
        hasRows,
      ]),
    ],
    ...(hasRows
      ? {
          warning: `${table.display} already holds rows${estimate > 0 ? ` (about ${estimate.toLocaleString('en-US')})` : ''}: converting copies them into chunks while holding an ACCESS EXCLUSIVE lock on the table (no reads or writes) for the whole copy, about 33 s per 4.3 M rows (1.5 GB) measured here. For a large table in use, run homepot-ts migrate-from-postgres instead (online: writes keep flowing), or convert it in a maintenance window.`,
        }
      : {}),
  };
  return { step, warnings };
}
