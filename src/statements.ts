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

/** A template that renders several statements, in order. */
export async function renderList(sql: Sql, file: string, params: unknown[]): Promise<string[]> {
  const rows = (await sql.unsafe(sqlFile(file), params as never[])) as unknown as { statement: string }[];
  return rows.map((r) => r.statement);
}

/** A template that renders statements of several kinds (column `kind`), each kind in order. */
export async function renderKinds(sql: Sql, file: string, params: unknown[]): Promise<Record<string, string[]>> {
  const rows = (await sql.unsafe(sqlFile(file), params as never[])) as unknown as { kind: string; statement: string }[];
  const out: Record<string, string[]> = {};
  for (const r of rows) (out[r.kind] ??= []).push(r.statement);
  return out;
}

/** A template that renders named statements (column `name`). */
export async function renderNamed(sql: Sql, file: string, params: unknown[]): Promise<Record<string, string>> {
  const rows = (await sql.unsafe(sqlFile(file), params as never[])) as unknown as { name: string; statement: string }[];
  return Object.fromEntries(rows.map((r) => [r.name, r.statement]));
}

/** Execute a rendered statement inside the caller's transaction. */
export async function executeStatement(tx: Sql, statement: string): Promise<void> {
  await tx.unsafe(sqlFile('setup/execute.sql'), [statement]);
  await tx.unsafe(sqlFile('setup/execute-block.sql'));
}
