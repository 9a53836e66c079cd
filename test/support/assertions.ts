/** Assertions and small helpers every CLI test file uses. */
import { expect } from 'vitest';
import { catalogSnapshot } from './catalog.js';
import type { CliResult } from './cli.js';
import type { TestDatabase } from './databases.js';

/** stderr holds one error line (warnings aside) naming the problem, and no stack trace. */
export function oneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('warning:'));
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

/** Each step's outcome by step id, from a changing command's --json result. */
export function outcomes(j: { steps: { id: string; outcome: string }[] }): Record<string, string> {
  return Object.fromEntries(j.steps.map((s) => [s.id, s.outcome]));
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
