/**
 * Helpers for the migrate-from-postgres tests (test/migrate.test.ts): fresh
 * plain databases, the CLI's exit code with its output, a kill -9 in the
 * middle of an online copy, and the concurrent writer that plays HOMEPOT's
 * devices while the table moves.
 */
import { expect } from 'vitest';
import { startCli, type CliResult } from './cli.js';
import { createTestDatabase, type Sql, type TestDatabase } from './databases.js';
import { loadPlainHealthChecks } from './migration.js';
import { expectExit, sleep } from './assertions.js';

export { expectExit, sleep };
import { client } from './pg.js';

export const MIGRATE = 'migrate-from-postgres';

/** A fresh database of the flavour with HOMEPOT's plain tables and `rows` health checks. */
export async function plainDatabase(
  flavour: 'apache' | 'timescale',
  label: string,
  rows: number,
  analyze = true,
): Promise<TestDatabase> {
  const d = await createTestDatabase(flavour, { label });
  try {
    await loadPlainHealthChecks(d.sql(), { rows, analyze });
    await d.closeClients();
    return d;
  } catch (err) {
    await d.dropAndClose();
    throw err;
  }
}

export async function withDb<T>(
  flavour: 'apache' | 'timescale',
  label: string,
  rows: number,
  fn: (d: TestDatabase) => Promise<T>,
  analyze = true,
): Promise<T> {
  const d = await plainDatabase(flavour, label, rows, analyze);
  try {
    return await fn(d);
  } finally {
    await d.dropAndClose();
  }
}

/** Duplicate ids (each health check has its own id from the sequence). */
export async function duplicateIds(sql: Sql): Promise<unknown[]> {
  return sql.unsafe(`SELECT id, count(*)::int AS n FROM health_checks GROUP BY id HAVING count(*) > 1 LIMIT 5`);
}

/**
 * Start an online migration with small batches and stop it with `signal` in the
 * middle of the copy. To stop it there for sure, the state row is held FOR
 * UPDATE as soon as the first batch is recorded: the next batch then waits on
 * its UPDATE of that row, and the signal lands while it waits. SIGKILL: the
 * server rolls that batch back; SIGINT: the batch finishes once the row is let
 * go and the run stops before the next. `url` is the run's connection (default
 * the database's superuser URL); `d` watches. Returns where the copy stood.
 */
export async function stopMidCopy(
  d: TestDatabase,
  options: { batchRows: number; signal: 'SIGKILL' | 'SIGINT'; url?: string },
): Promise<{ nextBlock: number; totalBlocks: number; phase: string; result: CliResult }> {
  const { child, result } = startCli([
    MIGRATE,
    '--strategy',
    'online',
    '--batch-rows',
    String(options.batchRows),
    '--database-url',
    options.url ?? d.url,
  ]);
  const watcher = d.connect({ max: 1 });
  const deadline = Date.now() + 30_000;
  try {
    for (;;) {
      const [t] = await watcher`SELECT to_regclass('homepot_ts.migration') IS NOT NULL AS ok`;
      if (t.ok) {
        const [s] = await watcher`SELECT next_block FROM homepot_ts.migration WHERE table_name = 'health_checks'`;
        if (s && Number(s.next_block) > 0) break;
      }
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        const r = await result;
        throw new Error(`the migration never showed copy progress (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
      }
      await sleep(5);
    }
    const held = await watcher.reserve();
    try {
      await held`BEGIN`;
      const [s] =
        await held`SELECT next_block, total_blocks, phase FROM homepot_ts.migration WHERE table_name = 'health_checks' FOR UPDATE`;
      child.kill(options.signal);
      // A killed run is gone at once; an interrupted one waits for the row, so give the signal time to land.
      if (options.signal === 'SIGKILL') await result;
      else await sleep(300);
      await held`ROLLBACK`;
      return {
        nextBlock: Number(s.next_block),
        totalBlocks: Number(s.total_blocks),
        phase: String(s.phase),
        result: await result,
      };
    } finally {
      held.release();
    }
  } finally {
    await watcher.end({ timeout: 5 });
  }
}

/** stopMidCopy with SIGKILL: the copy is left as it was at the kill. */
export async function killMidCopy(
  d: TestDatabase,
  batchRows: number,
  url?: string,
): Promise<{ nextBlock: number; totalBlocks: number; killed: CliResult }> {
  const { nextBlock, totalBlocks, phase, result } = await stopMidCopy(d, { batchRows, signal: 'SIGKILL', url });
  expect(phase).toBe('copying');
  return { nextBlock, totalBlocks, killed: result };
}

// ---------------------------------------------------------------------------
// The concurrent writer: what HOMEPOT's devices and API do while the table moves.

export interface WriterRow {
  endpoint: string;
  rt: number;
  /** ISO, millisecond precision (what the writer sent). */
  ts: string;
}

export interface Writer {
  /** Statements run so far. */
  statements(): number;
  stop(): Promise<WriterReport>;
}

export interface WriterReport {
  statements: number;
  /** Rows the writer inserted that are still alive, with what they must hold now. */
  alive: Map<number, WriterRow>;
  /** Writer rows it deleted again. */
  deletedOwn: number[];
  /** Rows from before the migration it updated (response_time_ms = -id, endpoint '/writer-updated'). */
  updatedBaseline: number[];
  /** Rows from before the migration it deleted. */
  deletedBaseline: number[];
  /** Updates/deletes that found no row (a lost row), and statements that failed. */
  missing: string[];
  errors: string[];
  longestMs: number;
}

/**
 * Loop until stopped: INSERT (a third of them late data, hours to days old),
 * UPDATE (rows from before the migration and its own, some moving the row's
 * "timestamp", i.e. its key) and DELETE (both kinds). Own client with
 * `prepare: false`: the table is swapped by name under it.
 */
export function startWriter(url: string, baselineRows: number, deviceIds: number[]): Writer {
  const sql = client(url, { prepare: false, max: 1 });
  const alive = new Map<number, WriterRow>();
  const deletedOwn: number[] = [];
  const updatedBaseline: number[] = [];
  const deletedBaseline: number[] = [];
  const touched = new Set<number>();
  const missing: string[] = [];
  const errors: string[] = [];
  let longestMs = 0;
  let statements = 0;
  let stopping = false;
  let pick = 0;
  /** A baseline id nobody touched yet, spread over the whole table (so over every block range). */
  const baselineId = () => {
    for (;;) {
      pick++;
      const id = 1 + ((pick * 7919) % baselineRows);
      if (!touched.has(id)) {
        touched.add(id);
        return id;
      }
    }
  };
  const timed = async <T>(run: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await run();
    } finally {
      longestMs = Math.max(longestMs, performance.now() - t0);
      statements++;
    }
  };
  const at = (msAgo: number) => {
    const d = new Date(Date.now() - msAgo);
    d.setUTCSeconds(30); // never within a second of a day (chunk) boundary: key-moving updates stay in their chunk
    return d.toISOString();
  };

  const loop = (async () => {
    for (let i = 0; !stopping; i++) {
      try {
        const op = i % 10;
        if (op <= 4) {
          const late = i % 3 === 0;
          const row: WriterRow = {
            endpoint: '/writer',
            rt: 1_000_000 + i,
            ts: at(late ? ((i * 37) % (6 * 24 * 60)) * 60_000 + 3_600_000 : 0),
          };
          const [r] = await timed(
            () => sql`
            INSERT INTO health_checks (device_id, is_healthy, response_time_ms, status_code, endpoint, "timestamp")
            VALUES (${deviceIds[i % deviceIds.length]}, true, ${row.rt}, 200, ${row.endpoint}, ${row.ts}::timestamptz) RETURNING id`,
          );
          alive.set(Number(r.id), row);
        } else if (op <= 6 || op === 8) {
          const id = baselineId();
          const r =
            op === 8
              ? await timed(() => sql`DELETE FROM health_checks WHERE id = ${id}`)
              : await timed(
                  () =>
                    sql`UPDATE health_checks SET response_time_ms = ${-id}, endpoint = '/writer-updated' WHERE id = ${id}`,
                );
          if (r.count !== 1)
            missing.push(
              `${op === 8 ? 'delete' : 'update'} of row ${id} from before the migration found ${r.count} rows`,
            );
          (op === 8 ? deletedBaseline : updatedBaseline).push(id);
        } else {
          const own = [...alive.keys()];
          if (own.length < 10) continue;
          const id = own[(i * 13) % own.length];
          const row = alive.get(id)!;
          if (op === 9) {
            const r = await timed(() => sql`DELETE FROM health_checks WHERE id = ${id}`);
            if (r.count !== 1) missing.push(`delete of writer row ${id} found ${r.count} rows`);
            alive.delete(id);
            deletedOwn.push(id);
          } else if (i % 20 === 7) {
            // moves the row: its key (id, "timestamp") changes
            const ts = new Date(Date.parse(row.ts) - 1000).toISOString();
            const r = await timed(
              () =>
                sql`UPDATE health_checks SET "timestamp" = ${ts}::timestamptz, endpoint = '/writer-moved' WHERE id = ${id}`,
            );
            if (r.count !== 1) missing.push(`key update of writer row ${id} found ${r.count} rows`);
            alive.set(id, { ...row, ts, endpoint: '/writer-moved' });
          } else {
            const r = await timed(
              () =>
                sql`UPDATE health_checks SET response_time_ms = ${-id}, endpoint = '/writer-updated' WHERE id = ${id}`,
            );
            if (r.count !== 1) missing.push(`update of writer row ${id} found ${r.count} rows`);
            alive.set(id, { ...row, rt: -id, endpoint: '/writer-updated' });
          }
        }
      } catch (err) {
        if (errors.length < 20) errors.push(String((err as Error).message ?? err));
      }
      await sleep(1);
    }
  })();

  return {
    statements: () => statements,
    async stop() {
      stopping = true;
      await loop;
      await sql.end({ timeout: 5 });
      return { statements, alive, deletedOwn, updatedBaseline, deletedBaseline, missing, errors, longestMs };
    },
  };
}

export async function until(what: string, ok: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
