import { detectCapabilities, type Edition } from './db/capabilities.js';
import { connectTarget, type Connection } from './db/connection.js';
import { describeError } from './db/describe-error.js';
import { parseQualifiedName } from './db/names.js';
import type { Target } from './db/target.js';
import type { ErrorKind } from './core/errors.js';
import type { Logger } from './core/logger.js';
import { listJobs } from './jobs.js';
import { expectedJobFailure, listHypertables } from './status.js';

/**
 * `status --all-targets`: one summary per named target of the config file,
 * read-only. Targets are reached at most ALL_TARGETS_CONCURRENCY at a time,
 * each with its own connect timeout, so one unreachable server costs its
 * timeout once and never holds up the others beyond that.
 */

/** At most this many targets are connected at once (a config may list a whole fleet of site servers). */
export const ALL_TARGETS_CONCURRENCY = 4;

export interface TargetToSummarize {
  name: string;
  target: Target;
  /** Seconds, as resolved for this target (flag > environment > target > shared > 10). */
  connectTimeout: number;
  /** The table its setup aims at (setup.table, as resolved for this target). */
  table: string;
}

export interface TargetSummary {
  target: string;
  /** Where the connection came from, e.g. `target production (PROD_DATABASE_URL)`. */
  source: string;
  /** host:port/database, or the embedded directory; null when the connection failed before we knew. */
  endpoint: { host: string; port: number; database: string; user: string; embedded: boolean } | null;
  reachable: boolean;
  serverVersion: string | null;
  timescaledbVersion: string | null;
  edition: Edition | null;
  table: string;
  /** The table is a hypertable; null when the target could not be reached. */
  hypertable: boolean | null;
  /** Background jobs attached to a hypertable or continuous aggregate (retention, compression, refresh). */
  policies: number | null;
  /** Jobs whose last run failed, without the one the Apache edition fails by design (as `status`). */
  failingJobs: number | null;
  error: { kind: ErrorKind; message: string; hint: string | null; exitCode: number } | null;
}

async function summarizeOne(t: TargetToSummarize, logger: Logger): Promise<TargetSummary> {
  const base = { target: t.name, source: t.target.source, table: t.table };
  let conn: Connection | undefined;
  try {
    conn = await connectTarget(t.target, { logger, connectTimeout: t.connectTimeout });
    const caps = await detectCapabilities(conn.sql);
    const installed = caps.timescaledb.installedVersion !== null;
    const hypertables = installed ? await listHypertables(conn.sql) : [];
    const jobs = installed ? await listJobs(conn.sql) : [];
    const wanted = parseQualifiedName(t.table);
    return {
      ...base,
      endpoint: conn.endpoint,
      reachable: true,
      serverVersion: caps.server.version,
      timescaledbVersion: caps.timescaledb.installedVersion,
      edition: installed ? caps.timescaledb.edition : null,
      // Sessions run with search_path public, pg_temp: an unqualified name is public's.
      hypertable: hypertables.some((h) => h.name === wanted.name && h.schema === (wanted.schema ?? 'public')),
      policies: jobs.filter((j) => j.hypertable !== null).length,
      failingJobs: jobs.filter((j) => j.lastRunStatus === 'Failed' && !expectedJobFailure(caps, j)).length,
      error: null,
    };
  } catch (err) {
    const e = describeError(err, conn?.endpoint);
    return {
      ...base,
      endpoint: conn?.endpoint ?? null,
      reachable: false,
      serverVersion: null,
      timescaledbVersion: null,
      edition: null,
      hypertable: null,
      policies: null,
      failingJobs: null,
      error: { kind: e.kind, message: e.message, hint: e.hint ?? null, exitCode: e.exitCode },
    };
  } finally {
    await conn?.close().catch((e: unknown) => logger.debug(`closing ${t.name}: ${(e as Error).message}`));
  }
}

/** Summarize every target, in the order given, with bounded concurrency; never throws for one target's failure. */
export async function summarizeTargets(
  targets: readonly TargetToSummarize[],
  options: { logger: Logger; concurrency?: number },
): Promise<TargetSummary[]> {
  const out = new Array<TargetSummary>(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const i = next++;
      out[i] = await summarizeOne(targets[i]!, options.logger);
    }
  };
  const n = Math.max(1, Math.min(options.concurrency ?? ALL_TARGETS_CONCURRENCY, targets.length));
  await Promise.all(Array.from({ length: n }, () => worker()));
  return out;
}
