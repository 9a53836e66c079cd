import type { Sql } from '../../db/connection.js';
import type { ResolvedTable } from '../../db/names.js';
import type { MigrationState } from '../state.js';
import type { MigrateHooks, MigrateOptions, MigrateResult } from '../result.js';
import type { SourceTable, TableFacts } from './source.js';
import type { KeyedTable, Reference } from './natural-keys.js';

/**
 * One --source run, as its phases (schema, copy, verify and reconcile,
 * sequences) share it: both servers' connections, the source table and the
 * tables it references with their facts, the copy statements rendered for
 * each, and the result being filled.
 */

export interface RemoteRun {
  /** This server's connection (holding the change lock). */
  conn: Sql;
  /** The source server's. */
  src: Sql;
  /** The source URL, password redacted. */
  shownSource: string;
  opts: MigrateOptions;
  hooks: MigrateHooks;
  result: MigrateResult;
  srcTable: ResolvedTable;
  /** The source table and the tables it references, in order. */
  tables: SourceTable[];
  main: SourceTable;
  deps: SourceTable[];
  facts: Map<number, TableFacts>;
  mainFacts: TableFacts;
  /** The embedded database here: JSON batches instead of COPY. */
  pglite: boolean;
  /** The state of an earlier run, or null. */
  state: MigrationState | null;
  /** Named statements of remote/render-copy.sql, for the source table and each dependency (by OID). */
  copy: Record<string, string>;
  depCopies: Map<number, Record<string, string>>;
  /** The referenced tables matched by natural key (natural-keys.ts). */
  keyed: KeyedTable[];
  /** The source table's references whose key values differ here, and the statements translating them (or null). */
  references: Reference[];
  translate: Record<string, string> | null;
}
