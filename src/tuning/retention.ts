import { readRefreshWindows, retentionInsideWindows } from '../steps/refresh-windows.js';
import { featureGap, hasFeature, requireFeature } from '../db/features.js';
import {
  describeServerKind,
  detectCapabilities,
  requireWritable,
  type Capabilities,
  type Edition,
} from '../db/capabilities.js';
import { readTimeDimension, resolveHypertable } from '../steps/hypertable.js';
import type { Sql } from '../db/connection.js';
import type { Interval } from '../core/intervals.js';
import { resolveTable, type ResolvedTable } from '../db/names.js';
import { applyOptions, applySteps, withChangeLock, type ChangeHooks, type Step } from '../db/plan.js';
import { readPolicy, policyStep, removePolicyStatement, type PolicyJob } from '../steps/policy.js';
import { queryOne } from '../db/sql.js';
import { tuningResult, type ChangeOptions, type TuningResult } from './change.js';

/**
 * `retention show | set | remove`: a hypertable's retention policy, read,
 * created or changed, and removed. Where policies cannot exist (Apache
 * edition, plain tables, no TimescaleDB) the messages give the cron line
 * running `retention run` (src/tuning/retention-run.ts) instead.
 */

/** The crontab line we suggest where retention policies cannot run. */
export function cronExample(olderThan: string, table: string): string {
  const t =
    table === 'health_checks' || table === 'public.health_checks' ? '' : ` --table '${table.replace(/'/g, `'\\''`)}'`;
  return `17 3 * * * homepot-ts retention run --older-than '${olderThan}'${t} --quiet`;
}

/** The hypertable's primary (time) dimension, or null for a plain table or no TimescaleDB. */
export async function timeDimension(
  sql: Sql,
  caps: Capabilities,
  table: ResolvedTable,
): Promise<{ column: string; chunkInterval: string | null } | null> {
  if (!caps.timescaledb.installedVersion) return null;
  const row = await readTimeDimension(sql, table);
  return row ? { column: row.column_name, chunkInterval: row.chunk_interval } : null;
}

// ---------------------------------------------------------------- show

/** The retention policy job: the shared policy reading, with drop_after named as what it is. */
export type RetentionPolicy = Omit<PolicyJob, 'config' | 'setting' | 'matches'> & { dropAfter: string | null };

export interface RetentionReport {
  table: string;
  server: string;
  edition: Edition | null;
  hypertable: boolean;
  /** Retention policies can exist here (Community edition, a hypertable). */
  policiesAvailable: boolean;
  policy: RetentionPolicy | null;
  /** The compression policy's compress_after, when there is one. */
  compressAfter: string | null;
  /** What `retention run` would do on this table. */
  runMethod: 'drop_chunks' | 'delete';
  /** Why there is no policy, or why it may not run by itself, and what to do. */
  note: string | null;
}

/** The retention policy job in the words of `retention show`. */
async function readRetentionPolicy(sql: Sql, table: ResolvedTable): Promise<RetentionPolicy | null> {
  const p: PolicyJob | null = await readPolicy(sql, table, 'retention');
  if (!p) return null;
  return {
    jobId: p.jobId,
    dropAfter: p.setting,
    scheduleInterval: p.scheduleInterval,
    scheduled: p.scheduled,
    lastRunStatus: p.lastRunStatus,
    lastRunStartedAt: p.lastRunStartedAt,
    lastSuccessfulFinish: p.lastSuccessfulFinish,
    nextStart: p.nextStart,
    totalRuns: p.totalRuns,
    totalFailures: p.totalFailures,
  };
}

/** The compression policy's compress_after, and whether a retention of `retention` is not longer. */
async function compressionAge(
  sql: Sql,
  table: ResolvedTable,
  retention: string,
): Promise<{ compress_after: string; retention_not_longer: boolean } | undefined> {
  return queryOne(sql, 'retention/compression-age.sql', [table.schema, table.name, retention]);
}

/** The retention policy of a table, or why it has none and what `retention run` does instead. */
export async function showRetention(
  sql: Sql,
  caps: Capabilities,
  tableInput: string,
  defaultRetention: string,
): Promise<RetentionReport> {
  const table = await resolveTable(sql, tableInput);
  const dim = await timeDimension(sql, caps, table);
  const community = hasFeature(caps, 'community');
  const policy = dim ? await readRetentionPolicy(sql, table) : null;
  const compressAfter = dim ? ((await compressionAge(sql, table, defaultRetention))?.compress_after ?? null) : null;
  const cron = cronExample(policy?.dropAfter ?? defaultRetention, table.display);
  let note: string | null = null;
  if (!dim) {
    const why = !caps.timescaledb.installedVersion
      ? 'TimescaleDB is not installed in this database'
      : `${table.display} is not a hypertable`;
    note = `retention policies are not available: ${why}. homepot-ts retention run deletes the rows older than the retention in small batches instead; run it from cron, e.g. ${cron}`;
  } else if (!community) {
    note = `retention policies ${featureGap(caps, 'community')?.reason ?? 'are not available here'}. homepot-ts retention run drops the chunks older than the retention with drop_chunks (which the Apache edition has); run it from cron, e.g. ${cron}`;
  } else if (policy && !caps.features.jobScheduler) {
    note = `no TimescaleDB job scheduler runs for this database${caps.server.pglite ? ' (embedded)' : ''}, so the policy does not run by itself: run homepot-ts retention run from cron, or CALL run_job(${policy.jobId}).`;
  }
  return {
    table: table.display,
    server: describeServerKind(caps),
    edition: caps.timescaledb.edition,
    hypertable: dim !== null,
    policiesAvailable: dim !== null && community,
    policy,
    compressAfter,
    runMethod: dim ? 'drop_chunks' : 'delete',
    note,
  };
}

// ---------------------------------------------------------------- set / remove

/** retention set needs Community; elsewhere say how to enforce retention from cron (exit 5). */
function requireRetentionPolicies(caps: Capabilities, interval: Interval, table: string): void {
  const dropsChunks = Boolean(caps.timescaledb.installedVersion);
  requireFeature(
    caps,
    'community',
    'retention set',
    `Enforce retention from cron with homepot-ts retention run instead (${dropsChunks ? 'it drops old chunks' : 'it deletes old rows in batches'}), e.g.: ${cronExample(interval.text, table)}`,
  );
}

/** Warnings for `retention set`: a retention not longer than compress_after or inside an aggregate's refresh window, no job scheduler. */
async function setWarnings(sql: Sql, caps: Capabilities, table: ResolvedTable, interval: Interval): Promise<string[]> {
  const warnings: string[] = [];
  const c = await compressionAge(sql, table, interval.text);
  if (c?.retention_not_longer) {
    warnings.push(
      `retention (${interval.text}) is not longer than the compression policy's compress_after (${c.compress_after}): raw data is dropped before, or as soon as, it is compressed.`,
    );
  }
  // The same check create-aggregates makes, against the refresh policies there are.
  warnings.push(...retentionInsideWindows(interval, 'this retention', await readRefreshWindows(sql, table)));
  if (!caps.features.jobScheduler) {
    warnings.push(
      `no TimescaleDB job scheduler runs for this database${caps.server.pglite ? ' (embedded)' : ''}: the policy will not run by itself; run homepot-ts retention run from cron.`,
    );
  }
  return warnings;
}

/** Create the retention policy, or change its drop_after; unchanged when it already matches. */
export async function setRetention(
  sql: Sql,
  opts: ChangeOptions & { interval: Interval },
  hooks: ChangeHooks = {},
): Promise<TuningResult> {
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      requireWritable(caps, 'retention set');
      requireRetentionPolicies(caps, opts.interval, opts.table);
      const table = await resolveHypertable(conn, caps, opts.table, 'retention set');
      const step = await policyStep(conn, 'retention', {
        table,
        installed: true,
        interval: opts.interval,
        title: `retention policy on ${table.display} (drop after ${opts.interval.text})`,
      });
      const warnings = await setWarnings(conn, caps, table, opts.interval);
      const result = await applySteps(conn, [step], applyOptions(opts, hooks));
      return tuningResult(result, table.display, caps, warnings);
    },
    hooks.onWait,
  );
}

/** The step removing the retention policy, or saying why it cannot be, or that there is none. */
async function removeStep(sql: Sql, caps: Capabilities, table: ResolvedTable): Promise<Step> {
  const dim = await timeDimension(sql, caps, table);
  const policy = dim ? await readRetentionPolicy(sql, table) : null;
  const base = { id: 'retention-policy', title: `retention policy on ${table.display}` };
  if (!policy) {
    const why = !caps.timescaledb.installedVersion
      ? ' (TimescaleDB is not installed in this database)'
      : !dim
        ? ' (not a hypertable)'
        : '';
    return { ...base, state: 'in-place', current: `none${why}`, statements: [] };
  }
  const current = `job ${policy.jobId}, drop_after ${policy.dropAfter}`;
  if (!hasFeature(caps, 'community')) {
    return {
      ...base,
      state: 'not-available',
      current,
      statements: [],
      reason: `remove_retention_policy ${featureGap(caps, 'community')?.reason ?? 'is not available here'}: a Community server, or a superuser deleting the job, must remove the policy`,
    };
  }
  return {
    ...base,
    state: 'different',
    current,
    wanted: 'no retention policy',
    statements: [await removePolicyStatement(sql, 'retention', table)],
    destructive: true,
  };
}

/** Remove the retention policy (remove_retention_policy, if_exists); unchanged when there is none. */
export async function removeRetention(sql: Sql, opts: ChangeOptions, hooks: ChangeHooks = {}): Promise<TuningResult> {
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      requireWritable(caps, 'retention remove');
      const table = await resolveTable(conn, opts.table);
      const step = await removeStep(conn, caps, table);
      const result = await applySteps(conn, [step], applyOptions(opts, hooks));
      const warnings = step.state === 'not-available' && step.reason ? [`${step.title}: ${step.reason}`] : [];
      return tuningResult(result, table.display, caps, warnings);
    },
    hooks.onWait,
  );
}
