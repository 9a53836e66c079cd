/**
 * Synthetic HOMEPOT fleet data: sites, devices and one health check per device
 * per interval, generated deterministically from a seed and loaded fast.
 *
 * Used by `homepot-ts demo` (small fleet, a few days, embedded PGlite) and by the
 * benchmarks (e.g. 100 devices x 30 days x 1/min = 4.3 M rows on a real server).
 *
 * This module is the entry point: loadFleet runs the load in one transaction, feeds the
 * generator's batches to a loader and reports progress; the spec and plan are in
 * fleet-plan.ts, the layout in fleet-layout.ts, the rows in fleet-generator.ts and
 * fleet-encode.ts, the statements in fleet-loaders.ts.
 *
 * The module never prints; progress goes to the optional callback.
 */
import type { Sql, TransactionSql } from 'postgres';
import { HealthCheckGenerator } from './fleet-generator.js';
import { Timestamps } from './fleet-encode.js';
import { fleetLayout } from './fleet-layout.js';
import {
  detectServer,
  LOADERS,
  type Loader,
  PGLITE_MAX_STATEMENT_BYTES,
  resolveMethod,
  upsertFleet,
  type ServerLimits,
} from './fleet-loaders.js';
import {
  planFleet,
  type FleetPlan,
  type FleetSpec,
  type FleetSql,
  type LoadMethod,
  type LoadProgress,
  type LoadResult,
} from './fleet-plan.js';

export { planFleet } from './fleet-plan.js';
export type { FleetPlan, FleetSpec, FleetSql, LoadMethod, LoadProgress, LoadResult } from './fleet-plan.js';

/**
 * Create the fleet's sites and devices (idempotent: ON CONFLICT DO NOTHING; names depend
 * only on sites and devicesPerSite) and append its health checks (not idempotent: a second
 * call adds them again, with new ids from health_checks_id_seq).
 *
 * Everything happens in one transaction (sql.begin, or the transaction passed in): on an
 * error, or when `signal` aborts (checked between batches), nothing of this call stays
 * and the promise rejects (with the signal's reason on abort). `onProgress` is called at
 * most every 100 ms while loading, and once after the commit with rowsDone = rowsTotal.
 */
export async function loadFleet(
  sql: FleetSql,
  spec: FleetSpec,
  onProgress?: (p: LoadProgress) => void,
  signal?: AbortSignal,
): Promise<LoadResult> {
  const plan = planFleet(spec);
  const t0 = performance.now();
  signal?.throwIfAborted();
  const progress = new ProgressReport(onProgress, plan.healthChecks, t0);
  const load = (tx: FleetSql) => loadInTransaction(tx, spec, plan, progress, signal);

  // One transaction: an abort or error leaves nothing of this call behind, and every
  // statement runs on one connection (which the COPY error check in fleet-loaders.ts relies
  // on). postgres.js's own sql.begin, not inTransaction: `sql` may be a pool, and sql.begin
  // reserves one connection of it for the whole transaction.
  const method = isTransaction(sql) ? await load(sql) : await sql.begin<Exclude<LoadMethod, 'auto'>>(load);
  progress.finished();

  const elapsedMs = performance.now() - t0;
  return {
    sites: plan.sites,
    devices: plan.devices,
    healthChecks: plan.healthChecks,
    from: plan.from,
    to: plan.to,
    elapsedMs,
    rowsPerSecond: elapsedMs > 0 ? (plan.healthChecks * 1000) / elapsedMs : 0,
    method,
  };
}

function isTransaction(sql: FleetSql): sql is TransactionSql {
  return typeof (sql as Sql).begin !== 'function';
}

/** Sites, devices and health checks, inside the transaction `tx`; returns the method used. */
async function loadInTransaction(
  tx: FleetSql,
  spec: FleetSpec,
  plan: FleetPlan,
  progress: ProgressReport,
  signal: AbortSignal | undefined,
): Promise<Exclude<LoadMethod, 'auto'>> {
  const server = await detectServer(tx);
  const method = resolveMethod(spec.method ?? 'auto', server);
  const limits: ServerLimits = { maxStatementBytes: server.pglite ? PGLITE_MAX_STATEMENT_BYTES : Infinity };
  const batchRows = spec.batchRows ?? (method === 'copy' ? 20_000 : 5_000);

  const layout = fleetLayout(spec.sites, spec.devicesPerSite);
  const deviceDbIds = await upsertFleet(tx, layout, limits);

  const gen = new HealthCheckGenerator(layout, plan, (spec.seed ?? 42) >>> 0, deviceDbIds);
  const timestamps = new Timestamps(plan.from.getTime(), plan.intervalSeconds * 1000);
  const loader = LOADERS[method](tx, timestamps, limits);
  await pump(gen, loader, batchRows, progress, signal);
  return method;
}

/**
 * Every batch of `gen` through `loader`, as a depth-1 pipeline: batch k+1 is built while the
 * server takes batch k. `signal` is checked between batches.
 */
async function pump(
  gen: HealthCheckGenerator,
  loader: Loader,
  batchRows: number,
  progress: ProgressReport,
  signal: AbortSignal | undefined,
): Promise<void> {
  let done = 0;
  let pending: Promise<void> | null = null;
  let pendingRows = 0;
  try {
    while (gen.remaining > 0) {
      signal?.throwIfAborted();
      const batch = gen.next(batchRows);
      if (pending) {
        await pending;
        done += pendingRows;
        progress.loading(done);
      }
      signal?.throwIfAborted();
      pending = loader.send(batch);
      pending.catch(() => {}); // handled when awaited; avoids an unhandled rejection meanwhile
      pendingRows = batch.n;
    }
    await pending;
    done += pendingRows;
    pending = null;
    await loader.finish();
  } catch (err) {
    // Let the in-flight batch settle and stop any COPY, so the connection can roll back.
    await pending?.catch(() => {});
    await loader.close(err);
    throw err;
  }
}

/** onProgress while loading (at most every 100 ms), and once more when the load committed. */
class ProgressReport {
  private lastReport = -Infinity;

  constructor(
    private readonly onProgress: ((p: LoadProgress) => void) | undefined,
    private readonly total: number,
    private readonly t0: number,
  ) {}

  loading(done: number): void {
    if (!this.onProgress) return;
    const now = performance.now();
    if (now - this.lastReport < 100) return;
    this.lastReport = now;
    const elapsedMs = now - this.t0;
    const rowsPerSecond = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
    const total = this.total;
    this.onProgress({
      rowsDone: done,
      rowsTotal: total,
      elapsedMs,
      rowsPerSecond,
      etaMs: done >= total ? 0 : rowsPerSecond > 0 ? ((total - done) * 1000) / rowsPerSecond : null,
    });
  }

  finished(): void {
    if (!this.onProgress) return;
    const elapsedMs = performance.now() - this.t0;
    const total = this.total;
    this.onProgress({
      rowsDone: total,
      rowsTotal: total,
      elapsedMs,
      rowsPerSecond: elapsedMs > 0 ? (total * 1000) / elapsedMs : 0,
      etaMs: 0,
    });
  }
}
