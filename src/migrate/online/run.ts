import type { Sql } from '../../db/connection.js';
import type { ResolvedTable } from '../../db/names.js';
import { renderNamed } from '../../db/sql.js';
import type { MigrationState } from '../state.js';
import type { MigrateHooks, MigrateOptions, MigrateResult } from '../result.js';
import type { MigrationNames } from './names.js';
import type { NewTable } from './guard.js';

/**
 * One online migration run, as its phases (prepare, copy, catch-up, verify,
 * swap) share it: the connections, the table, the options, the result being
 * filled, the saved state and the statements rendered for the copy and replay.
 */

export interface OnlineRun {
  /** The pool: further connections for copying and verifying at once. */
  pool: Sql;
  /** The connection holding the change lock. */
  conn: Sql;
  table: ResolvedTable;
  opts: MigrateOptions;
  hooks: MigrateHooks;
  result: MigrateResult;
  names: MigrationNames;
  keyColumns: string[];
  state: MigrationState;
  /** The new table, as the writes into it check it (guardNewTable). */
  newTable: NewTable;
  /** Named statements of online/render-copy.sql: backfill, replay, pending, check-keys, ... */
  copy: Record<string, string>;
}

/** The statements that copy and replay into the new table (online/render-copy.sql). */
export function renderCopy(
  conn: Sql,
  table: ResolvedTable,
  newTable: string,
  logTable: string,
  timeColumn: string,
  keyColumns: string[],
): Promise<Record<string, string>> {
  return renderNamed(conn, 'migrate/online/render-copy.sql', [table.oid, newTable, logTable, timeColumn, keyColumns]);
}
