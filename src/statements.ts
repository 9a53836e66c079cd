import type { Sql } from './connection.js';
import { sqlFile } from './sql-files.js';

/**
 * Statements that change the database are rendered by the server from our
 * templates in sql/setup/ (format() with %I and %L, user values bound as
 * parameters), shown as-is by --dry-run, and executed exactly as shown.
 */
export async function renderStatement(sql: Sql, template: string, params: unknown[]): Promise<string> {
  const rows = (await sql.unsafe(sqlFile(template), params as never[])) as unknown as { statement: string }[];
  const text = rows[0]?.statement;
  if (!text) throw new Error(`template ${template} rendered no statement`);
  return text;
}

/** Execute a rendered statement inside the caller's transaction. */
export async function executeStatement(tx: Sql, statement: string): Promise<void> {
  await tx.unsafe(sqlFile('setup/execute.sql'), [statement]);
  await tx.unsafe(sqlFile('setup/execute-block.sql'));
}
