import type { Sql } from '../db/connection.js';
import type { ResolvedTable } from '../db/names.js';
import { executeRendered, query, queryOne } from '../db/sql.js';
import { quoteIfNeeded } from '../core/columns.js';
import { migrationNames } from './online/names.js';

/**
 * What the application relies on around the table, read before a migration
 * on this database changes anything (sql/migrate/app-objects.sql): rules and
 * publications, which a hypertable cannot carry (refused, both strategies);
 * objects bound to the table or its row type by OID, which an online swap
 * leaves with the old table (listed with what will happen); rows at infinity,
 * which no chunk can hold (refused). After the swap, the same dependents keep
 * the old table from being dropped: cleanup and --drop-old name them and
 * refuse, never with CASCADE (it would drop the application's functions).
 */

export interface AppObjects {
  rules: string[];
  publications: string[];
  dependents: string[];
  not_valid_checks: string[];
}

function readAppObjects(conn: Sql, oid: number): Promise<AppObjects | undefined> {
  return queryOne<AppObjects>(conn, 'migrate/app-objects.sql', [oid]);
}

/** Problems (with fixes) and warnings about what the application relies on; `hasRows` gates the scan for infinite times. */
export async function appObjectChecks(
  conn: Sql,
  table: ResolvedTable,
  p: { online: boolean; hasRows: boolean; timeColumn: string; keyColumns: string[] | null },
): Promise<{ problems: string[]; fixes: string[]; warnings: string[] }> {
  const app = (await readAppObjects(conn, table.oid)) ?? {
    rules: [],
    publications: [],
    dependents: [],
    not_valid_checks: [],
  };
  const problems: string[] = [];
  const fixes: string[] = [];
  const warnings: string[] = [];
  if (app.rules.length > 0) {
    problems.push(`it has rules, which hypertables do not support: ${app.rules.join(', ')}`);
    fixes.push(
      `re-create each rule as a trigger (CREATE TRIGGER … AFTER INSERT … FOR EACH ROW EXECUTE FUNCTION …), then DROP RULE … ON ${table.display}`,
    );
  }
  if (app.publications.length > 0) {
    problems.push(
      `publications list it (TimescaleDB refuses a hypertable on a published table): ${app.publications.join(', ')}`,
    );
    fixes.push(
      `ALTER PUBLICATION … DROP TABLE ${table.display} for each, migrate, then publish the hypertable's data as TimescaleDB's documentation describes`,
    );
  }
  if (!p.online && app.not_valid_checks.length > 0) {
    problems.push(
      `CHECK constraints added NOT VALID would be checked on every row as it moves into a chunk: ${app.not_valid_checks.join(', ')}`,
    );
    fixes.push(
      `ALTER TABLE ${table.display} VALIDATE CONSTRAINT … (after fixing the rows that break it), or use --strategy online (it keeps them NOT VALID)`,
    );
  }
  const infinite = p.hasRows ? await infiniteTimes(conn, table, p.timeColumn, p.keyColumns) : null;
  if (infinite && infinite.n > 0) {
    problems.push(
      `${infinite.n} row(s) have ${quoteIfNeeded(p.timeColumn)} at infinity or -infinity, which no chunk can hold: ${infinite.rows.join(', ')}${infinite.n > infinite.rows.length ? ', …' : ''}`,
    );
    fixes.push(`give those rows a real time (UPDATE) or delete them`);
  }
  if (p.online && app.dependents.length > 0) warnings.push(dependentsWarning(table, app.dependents));
  return { problems, fixes, warnings };
}

/** What happens to objects bound to the table by OID in an online migration. */
function dependentsWarning(table: ResolvedTable, dependents: string[]): string {
  const one = dependents.length === 1;
  return `${dependents.join(', ')} use${one ? 's' : ''} ${table.display} or its row type: after the swap ${one ? 'it stays' : 'they stay'} bound to the old table (${migrationNames(table.name).oldTable}), which is kept until you re-create ${one ? 'it' : 'them'} against the new ${table.display} (DROP, then CREATE again); cleanup and --drop-old refuse to drop it until then`;
}

/** Rows whose time is ±infinity: how many, and the first five named by key. */
async function infiniteTimes(
  conn: Sql,
  table: ResolvedTable,
  timeColumn: string,
  keyColumns: string[] | null,
): Promise<{ n: number; rows: string[] } | null> {
  const [r] = await query<{ statement: string }>(conn, 'migrate/render-infinite-times.sql', [
    table.oid,
    timeColumn,
    keyColumns,
  ]);
  if (!r) return null;
  const [found] = await executeRendered<{ n: string; rows: string[] | null }[]>(conn, r.statement);
  return { n: Number(found?.n ?? 0), rows: found?.rows ?? [] };
}

/** What keeps the old table of a finished migration from being dropped (objects bound to it by OID). */
export async function oldTableDependents(conn: Sql, oid: number): Promise<string[]> {
  return (await readAppObjects(conn, oid))?.dependents ?? [];
}
