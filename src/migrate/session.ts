import type { Sql } from '../db/connection.js';
import { executeRendered } from '../db/sql.js';

/**
 * The connections of a migration on this database: the session settings
 * every connection of a migration runs with, how many connections copy at
 * once, running work on several of them (withWorkers) or beside the main one
 * (alongside), and running rendered statements one by one.
 */

/** Rendered statements, one at a time, each alone (executeRendered). */
export async function runStatements(sql: Sql, statements: Iterable<string>): Promise<void> {
  for (const s of statements) await executeRendered(sql, s);
}

/**
 * Settings for the connections of a migration, for the session and reset
 * after:
 * - no JIT: its compile time dominated the checksum scans (2.3 s of 3.9 s on
 *   4.3 M rows) and the lookups under the final lock (0.6 s), and bulk
 *   INSERT ... SELECT gains nothing from it;
 * - COMMIT does not wait for the WAL flush: right after gigabytes of copy the
 *   disks are busy writing them back and one flush took ~1 s here (under the
 *   final lock, too). Safe because every transaction of a migration carries
 *   its own progress mark (a batch and its block range, the swap and its
 *   phase): a crash before the flush loses both together, and everything
 *   committed after them (which flushes them first), so a rerun redoes
 *   exactly what was lost.
 */
export async function withMigrationSession<T>(conn: Sql, fn: () => Promise<T>): Promise<T> {
  await setMigrationSession(conn);
  try {
    return await fn();
  } finally {
    await resetMigrationSession(conn);
  }
}

async function setMigrationSession(c: Sql): Promise<void> {
  await c`SELECT set_config('jit', 'off', false), set_config('synchronous_commit', 'off', false)`;
}

async function resetMigrationSession(c: Sql): Promise<void> {
  await c`RESET jit`.catch(() => {});
  await c`RESET synchronous_commit`.catch(() => {});
}

/** A connection of its own from the pool, with the migration's session settings, for fn; given back after. */
export async function withReserved<T>(pool: Sql, fn: (c: Sql) => Promise<T>): Promise<T> {
  const c = await pool.reserve();
  try {
    return await withMigrationSession(c, () => fn(c));
  } finally {
    c.release();
  }
}

/** How many connections work at once: --jobs, but one where the server takes one connection (embedded). */
export function workerCount(jobs: number, pool: Sql): number {
  return pool.options.max <= 1 ? 1 : Math.max(1, Math.min(jobs, pool.options.max - 1));
}

/**
 * Start `work` on a connection of its own from the pool (when `parallel`),
 * or run it to the end on `conn`; the returned function waits for it and
 * rethrows its error.
 */
export async function alongside(
  pool: Sql,
  conn: Sql,
  parallel: boolean,
  work: (c: Sql) => Promise<void>,
): Promise<() => Promise<void>> {
  if (!parallel) {
    // One connection: run it to the end first (its statements must not mix into the caller's transactions).
    await work(conn);
    return () => Promise.resolve();
  }
  const done = withReserved(pool, work);
  done.catch(() => {}); // awaited (and rethrown) by the caller
  return () => done;
}

/**
 * Run `work` on n connections at once: the caller's own and n - 1 reserved
 * from the pool. The first failure stops the others after their current
 * batch; every connection is given back before this returns.
 */
export async function withWorkers(
  pool: Sql,
  conn: Sql,
  n: number,
  work: (c: Sql, stop: () => boolean) => Promise<void>,
): Promise<void> {
  const extra = await Promise.all(Array.from({ length: n - 1 }, () => pool.reserve()));
  for (const c of extra) await setMigrationSession(c);
  let failed = false;
  const stop = () => failed;
  try {
    const connections: Sql[] = [conn, ...extra];
    const results = await Promise.allSettled(
      connections.map((c) =>
        work(c, stop).catch((err: unknown) => {
          failed = true;
          throw err;
        }),
      ),
    );
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
  } finally {
    for (const c of extra) {
      await resetMigrationSession(c);
      c.release();
    }
  }
}
