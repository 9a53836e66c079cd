import type postgres from 'postgres';
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

/**
 * Run one statement rendered from our sql/ templates (or read from our own
 * files), alone, through the extended query protocol. The server parses the
 * text as exactly one statement and refuses a text that carries two ("cannot
 * insert multiple commands into a prepared statement", 42601), so a quoting
 * slip in a template cannot smuggle in a second statement. postgres.js's
 * unsafe() would use the simple protocol, which runs any number of statements,
 * whenever no parameters are passed; `simple: false` forces the extended one.
 * COPY works through it too (`.writable()` / `.readable()` on the result).
 */
export function executeRendered<T extends postgres.MaybeRow[] = postgres.Row[]>(
  sql: Sql,
  statement: string,
  params: unknown[] = [],
): postgres.PendingQuery<T> {
  return sql.unsafe<T>(statement, params as never[], { simple: false } as postgres.UnsafeQueryOptions);
}

/**
 * Execute a rendered statement inside the caller's transaction (the caller
 * owns BEGIN/COMMIT and lock_timeout).
 */
export async function executeStatement(tx: Sql, statement: string): Promise<void> {
  await executeRendered(tx, statement);
}
