/**
 * Concurrent runs that really contend for homepot-ts's change lock.
 *
 * Started at the same moment, N processes may still run one after another (the
 * first finishes before the second connects), and then a test of "N at once"
 * proves no more than N runs in a row. So the test takes the change lock
 * itself (the advisory lock every changing command takes, src/db/plan.ts),
 * starts the runs, waits until the server shows every one of them waiting for
 * that lock, and only then lets go: from there they queue on each other. A run
 * that did not take the lock would never show up as waiting, and the wait
 * fails with what each run printed.
 *
 * Needs a server that serves connections at once (not the embedded PGlite,
 * which queues whole connections).
 */
import { startCli, type CliOptions, type CliResult } from './cli.js';
import type { TestDatabase } from './databases.js';
import { sleep } from './assertions.js';

/** The lock every changing command takes (ADVISORY_LOCK_NAME in src/db/plan.ts). */
export const CHANGE_LOCK = 'homepot-ts:change';

/** What a run prints on stderr (without --json or --quiet) while it waits (lockWaitNote, src/cli/feedback.ts). */
export const LOCK_WAIT_NOTE = 'another homepot-ts run is changing this database: waiting for it to finish';

/** Sessions of this database waiting for the change lock (not granted), by pid. */
async function waitingPids(watcher: ReturnType<TestDatabase['connect']>): Promise<number[]> {
  const rows = await watcher<{ pid: number }[]>`
    SELECT pid FROM pg_locks
    WHERE locktype = 'advisory' AND NOT granted
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND objid = (hashtext(${CHANGE_LOCK})::bigint & 4294967295)::oid
      AND classid = ((hashtext(${CHANGE_LOCK})::bigint >> 32) & 4294967295)::oid`;
  return rows.map((r) => r.pid);
}

/**
 * Run each argument list as its own CLI process while this test holds the
 * change lock; let go once all of them wait for it. Resolves with every
 * result, in the order given.
 */
export async function runContending(
  db: TestDatabase,
  runs: string[][],
  options: CliOptions & { waitMs?: number } = {},
): Promise<CliResult[]> {
  if (db.singleConnection) throw new Error('runContending needs a server with concurrent connections (not embedded)');
  const holder = db.connect({ max: 1 });
  const watcher = db.connect({ max: 1 });
  const held = await holder.reserve();
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await held`SELECT pg_advisory_unlock(hashtext(${CHANGE_LOCK}))`;
  };
  const started: { child: { exitCode: number | null }; result: Promise<CliResult> }[] = [];
  try {
    await held`SELECT pg_advisory_lock(hashtext(${CHANGE_LOCK}))`;
    for (const args of runs) started.push(startCli(args, options));
    const deadline = Date.now() + (options.waitMs ?? 60_000);
    for (;;) {
      const waiting = await waitingPids(watcher);
      if (waiting.length >= runs.length) break;
      const exited = started.filter((s) => s.child.exitCode !== null).length;
      if (exited > 0 || Date.now() > deadline) {
        await release();
        const results = await Promise.all(started.map((s) => s.result));
        throw new Error(
          `expected ${runs.length} runs waiting for the change lock held by the test; ${waiting.length} waited, ` +
            `${exited} finished without waiting:\n` +
            results
              .map((r, i) => `run ${i + 1}: exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`)
              .join('\n'),
        );
      }
      await sleep(20);
    }
    await release();
    return await Promise.all(started.map((s) => s.result));
  } finally {
    await release().catch(() => {});
    held.release();
    await Promise.allSettled([holder.end({ timeout: 5 }), watcher.end({ timeout: 5 })]);
    await db.closeClients();
  }
}
