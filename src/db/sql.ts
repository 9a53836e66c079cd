import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type postgres from 'postgres';
import type { Sql } from './connection.js';
import type { Interval } from '../core/intervals.js';

/**
 * Everything that runs SQL text goes through this module: our own files in
 * sql/ (query), statements the server renders from our templates (render*),
 * running one rendered statement alone (executeRendered), and transactions
 * with a lock_timeout (inTransaction).
 */

/** The package's sql/ directory: the same relative place from src/ (tests) and dist/ (built). */
export const SQL_DIR = fileURLToPath(new URL('../../sql/', import.meta.url));

const cache = new Map<string, string>();

/**
 * Text of one of our own SQL files, e.g. `sqlFile('chunks/chunks.sql')`.
 * Only these files are ever run as text; user input goes in as parameters
 * ($1, $2, ...), never into the text.
 */
export function sqlFile(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(path.join(SQL_DIR, name), 'utf8');
    cache.set(name, text);
  }
  return text;
}

/** Run one of our SQL files with bound parameters; the rows typed as the caller says the file returns. */
export async function query<T extends object>(sql: Sql, file: string, params: readonly unknown[] = []): Promise<T[]> {
  return await sql.unsafe<T[]>(sqlFile(file), params as never[]);
}

/** The first row of one of our SQL files, or undefined when it returns none. */
export async function queryOne<T extends object>(
  sql: Sql,
  file: string,
  params: readonly unknown[] = [],
): Promise<T | undefined> {
  const [row] = await query<T>(sql, file, params);
  return row;
}

/**
 * Statements that change the database are rendered by the server from our
 * templates (format() with %I and %L, user values bound as parameters), shown
 * as-is by --dry-run, and executed exactly as shown.
 */
export async function renderStatement(sql: Sql, template: string, params: readonly unknown[]): Promise<string> {
  const [row] = await query<{ statement: string }>(sql, template, params);
  if (!row?.statement) throw new Error(`template ${template} rendered no statement`);
  return row.statement;
}

/** A template that renders several statements, in order. */
export async function renderList(sql: Sql, file: string, params: readonly unknown[]): Promise<string[]> {
  return (await query<{ statement: string }>(sql, file, params)).map((r) => r.statement);
}

/** A template that renders statements of several kinds (column `kind`), each kind in order. */
export async function renderKinds(
  sql: Sql,
  file: string,
  params: readonly unknown[],
): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const r of await query<{ kind: string; statement: string }>(sql, file, params))
    (out[r.kind] ??= []).push(r.statement);
  return out;
}

/** A template that renders named statements (column `name`). */
export async function renderNamed(sql: Sql, file: string, params: readonly unknown[]): Promise<Record<string, string>> {
  const rows = await query<{ name: string; statement: string }>(sql, file, params);
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
  params: readonly unknown[] = [],
): postgres.PendingQuery<T> {
  return sql.unsafe<T>(statement, params as never[], { simple: false } as postgres.UnsafeQueryOptions);
}

/** lock_timeout as the server's setting text: whole milliseconds. */
export function lockTimeoutSetting(lockTimeout: Interval): string {
  return `${Math.round(lockTimeout.seconds * 1000)}ms`;
}

/**
 * Set lock_timeout on this connection: for the rest of the transaction
 * (`local`), or for the session where a statement must run outside a
 * transaction block (CALL run_job). null: no limit (0), e.g. once the one
 * lock worth waiting for is held.
 */
export async function setLockTimeout(
  conn: Sql,
  lockTimeout: Interval | null,
  scope: 'local' | 'session',
): Promise<void> {
  const value = lockTimeout ? lockTimeoutSetting(lockTimeout) : '0';
  await conn`SELECT set_config('lock_timeout', ${value}, ${scope === 'local'})`;
}

export interface TransactionOptions {
  /** SET LOCAL lock_timeout: a busy table makes the transaction fail (55P03) instead of blocking writers. */
  lockTimeout?: Interval;
  isolation?: 'repeatable read' | 'serializable';
  readOnly?: boolean;
  /** End with ROLLBACK even when fn succeeds (a read that must leave nothing behind). */
  rollback?: boolean;
}

/**
 * Run fn in one transaction on a single connection (a reserved one, or the
 * embedded database's only one): BEGIN with the options, COMMIT when fn
 * returns, ROLLBACK when it throws. The one place BEGIN is written.
 */
export async function inTransaction<T>(conn: Sql, options: TransactionOptions, fn: () => Promise<T>): Promise<T> {
  const mode = [
    options.isolation === 'repeatable read' ? 'ISOLATION LEVEL REPEATABLE READ' : '',
    options.isolation === 'serializable' ? 'ISOLATION LEVEL SERIALIZABLE' : '',
    options.readOnly ? 'READ ONLY' : '',
  ]
    .filter(Boolean)
    .join(' ');
  // The mode words are ours (the union above), never user text.
  await conn.unsafe(mode ? `BEGIN ${mode}` : 'BEGIN');
  try {
    if (options.lockTimeout) await setLockTimeout(conn, options.lockTimeout, 'local');
    const value = await fn();
    await conn.unsafe(options.rollback ? 'ROLLBACK' : 'COMMIT');
    return value;
  } catch (err) {
    await conn`ROLLBACK`.catch(() => {});
    throw err;
  }
}
