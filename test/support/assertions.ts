/** Assertions and small helpers every CLI test file uses. */
import { expect } from 'vitest';
import { catalogSnapshot } from './catalog.js';
import { runCli, type CliResult } from './cli.js';
import type { TestDatabase } from './databases.js';

/**
 * stderr holds one error line naming the problem, and no stack trace. Warning lines
 * are set aside unless `warnings: false` (then the error is all of stderr).
 */
export function oneLineError(stderr: string, pattern: RegExp, options: { warnings?: boolean } = {}): void {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => options.warnings === false || !l.startsWith('warning:'));
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

/** A failed run that says nothing but its one error line: no warning, nothing on stdout. */
export function expectOneLineError(r: { stderr: string; stdout: string }, pattern: RegExp): void {
  oneLineError(r.stderr, pattern, { warnings: false });
  expect(r.stdout).toBe('');
}

/**
 * With the database read-only for new sessions, each changing command exits 6
 * with one line matching `pattern`, before anything runs; `also` may check more
 * while it is read-only. The database is writable again afterwards, also on failure.
 */
export async function expectReadOnlyRefusal(
  db: TestDatabase,
  commands: string[][],
  pattern: RegExp,
  also?: () => Promise<void>,
): Promise<void> {
  await db.sql().unsafe(`ALTER DATABASE "${db.name}" SET default_transaction_read_only = on`);
  await db.closeClients();
  try {
    for (const args of commands) {
      const r = await runCli([...args, '--database-url', db.url]);
      expectExit(r, 6);
      oneLineError(r.stderr, pattern);
    }
    await also?.();
  } finally {
    await db
      .sql()
      .begin('read write', (tx) => tx.unsafe(`ALTER DATABASE "${db.name}" RESET default_transaction_read_only`));
    await db.closeClients();
  }
}

/** Each step's outcome by step id, from a changing command's --json result. */
export function outcomes(j: { steps: { id: string; outcome: string }[] }): Record<string, string> {
  return Object.fromEntries(j.steps.map((s) => [s.id, s.outcome]));
}

/**
 * In a two-column table printed for people, the value next to `label`, whatever the
 * borders and padding look like (the layout may change; the content may not).
 */
export function cellAfter(output: string, label: string): string {
  for (const line of output.split('\n')) {
    const cells = line
      .split(/\s*[│┃|]\s*|\s{2,}/)
      .map((c) => c.trim())
      .filter(Boolean);
    if (cells[0] === label) return cells.slice(1).join(' ');
  }
  throw new Error(`no row labelled ${JSON.stringify(label)} in:\n${output}`);
}

/** The catalog as a changing command may touch it; the clients are closed after (embedded). */
export async function snapshot(db: TestDatabase): Promise<unknown> {
  const s = await catalogSnapshot(db.sql());
  await db.closeClients();
  return s;
}

/** Run one query on the test database and give the connection back (embedded: one at a time). */
export async function query<T = any>(db: TestDatabase, text: string): Promise<T[]> {
  const rows = await db.sql().unsafe(text);
  await db.closeClients();
  return rows as unknown as T[];
}

/** The CLI's exit code, with its output when the code is not the one expected. */
export function expectExit(r: CliResult, code: number): void {
  expect(r.code, `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(
    code,
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
