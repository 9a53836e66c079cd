/**
 * Stopping the statements this run has on the server when the run is
 * interrupted. A backend whose client goes away keeps running its statement
 * (and keeps its locks: an in-place migration's ACCESS EXCLUSIVE) until the
 * statement ends or tries to write to the gone socket, seconds or hours
 * later. So on SIGTERM, a second Ctrl-C, or a first Ctrl-C whose statement
 * outlives a short grace, src/cli.ts cancels what every open pool runs, then
 * closes the pools: the server rolls back and lets go before we exit.
 */

/** A pool of this run, as connection.ts registers it. */
export interface RunningPool {
  /** Cancel the pool's statements running on the server. Never throws. */
  cancel(): Promise<void>;
  /** Close the pool: wait up to `seconds` for its queries to end, then drop the connections. */
  end(seconds: number): Promise<void>;
}

const running = new Set<RunningPool>();

/** Register a pool while it is open; the returned function unregisters it. */
export function trackPool(pool: RunningPool): () => void {
  running.add(pool);
  return () => void running.delete(pool);
}

/** How long the cancel itself (a short extra connection per server) may take. */
const CANCEL_BUDGET_MS = 3000;

/** Cancel the statements of every open pool (at most ~3 s, even when a server does not answer). */
export async function cancelRunningStatements(): Promise<void> {
  const all = [...running].map((p) => p.cancel());
  await Promise.race([Promise.allSettled(all), sleep(CANCEL_BUDGET_MS)]);
}

/** Close every open pool, giving running queries up to `seconds` to end. */
export async function endRunningPools(seconds: number): Promise<void> {
  const all = [...running].map((p) => p.end(seconds));
  running.clear();
  await Promise.race([Promise.allSettled(all), sleep(seconds * 1000 + 1000)]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
