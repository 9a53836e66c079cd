import { hasFeature, requireFeature } from '../db/features.js';
import {
  describeServerKind,
  detectCapabilities,
  requireWritable,
  type Capabilities,
  type Edition,
} from '../db/capabilities.js';
import { findPolicyJob, validDate } from '../jobs.js';
import { checkTimeColumn, resolveHypertable } from '../steps/hypertable.js';
import { quoteIfNeeded } from '../core/columns.js';
import type { Sql } from '../db/connection.js';
import { HomepotError } from '../core/errors.js';
import type { Interval } from '../core/intervals.js';
import { resolveTable, type ResolvedTable } from '../db/names.js';
import { num } from '../core/numbers.js';
import {
  applyOptions,
  applySteps,
  withChangeLock,
  type ChangeHooks,
  type ApplyResult,
  type Step,
  type StepResult,
} from '../db/plan.js';
import { policyStep } from '../setup.js';
import { sqlFile, executeRendered, renderStatement } from '../db/sql.js';
import { requireOwnerRights } from '../db/table-owner.js';

/** What every changing tuning command returns: the plan's results and where they ran. */
export interface TuningResult extends ApplyResult {
  table: string;
  server: string;
  edition: Edition | null;
  warnings: string[];
}

export interface ChangeOptions {
  table: string;
  dryRun: boolean;
  lockTimeout: Interval;
}

export type { ChangeHooks } from '../db/plan.js';

/** The crontab line we suggest where retention policies cannot run. */
export function cronExample(olderThan: string, table: string): string {
  const t =
    table === 'health_checks' || table === 'public.health_checks' ? '' : ` --table '${table.replace(/'/g, `'\\''`)}'`;
  return `17 3 * * * homepot-ts retention run --older-than '${olderThan}'${t} --quiet`;
}

/** The hypertable's primary (time) dimension, or null for a plain table or no TimescaleDB. */
async function timeDimension(
  sql: Sql,
  caps: Capabilities,
  table: ResolvedTable,
): Promise<{ column: string; chunkInterval: string | null } | null> {
  if (!caps.timescaledb.installedVersion) return null;
  const [row] = (await sql.unsafe(sqlFile('setup/hypertable-info.sql'), [
    table.schema,
    table.name,
    null,
  ])) as unknown as {
    column_name: string;
    chunk_interval: string | null;
  }[];
  return row ? { column: row.column_name, chunkInterval: row.chunk_interval } : null;
}

// ---------------------------------------------------------------- show

export interface RetentionPolicy {
  jobId: number;
  dropAfter: string | null;
  scheduleInterval: string | null;
  scheduled: boolean;
  lastRunStatus: string | null;
  lastRunStartedAt: Date | null;
  lastSuccessfulFinish: Date | null;
  nextStart: Date | null;
  totalRuns: number;
  totalFailures: number;
}

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

async function readPolicy(sql: Sql, table: ResolvedTable): Promise<RetentionPolicy | null> {
  const r = await findPolicyJob(sql, table, 'policy_retention', 'drop_after');
  if (!r) return null;
  return {
    jobId: Number(r.job_id),
    dropAfter: r.interval_setting,
    scheduleInterval: r.schedule_interval,
    scheduled: r.scheduled,
    lastRunStatus: r.last_run_status,
    lastRunStartedAt: validDate(r.last_run_started_at),
    lastSuccessfulFinish: validDate(r.last_successful_finish),
    nextStart: validDate(r.next_start),
    totalRuns: Number(r.total_runs),
    totalFailures: Number(r.total_failures),
  };
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
  const policy = dim ? await readPolicy(sql, table) : null;
  let compressAfter: string | null = null;
  if (dim) {
    const [c] = (await sql.unsafe(sqlFile('retention/compression-age.sql'), [
      table.schema,
      table.name,
      defaultRetention,
    ])) as unknown as { compress_after: string }[];
    compressAfter = c?.compress_after ?? null;
  }
  const cron = cronExample(policy?.dropAfter ?? defaultRetention, table.display);
  let note: string | null = null;
  if (!dim) {
    const why = !caps.timescaledb.installedVersion
      ? 'TimescaleDB is not installed in this database'
      : `${table.display} is not a hypertable`;
    note = `retention policies are not available: ${why}. homepot-ts retention run deletes the rows older than the retention in small batches instead; run it from cron, e.g. ${cron}`;
  } else if (!community) {
    note = `retention policies need the TimescaleDB Community edition; this server runs the Apache-2 edition. homepot-ts retention run drops the chunks older than the retention with drop_chunks (which the Apache edition has); run it from cron, e.g. ${cron}`;
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
      const table = await resolveHypertable(conn, caps, opts.table);
      const step = await policyStep(conn, {
        id: 'retention-policy',
        title: `retention policy on ${table.display} (drop after ${opts.interval.text})`,
        table,
        installed: true,
        proc: 'policy_retention',
        add: 'add_retention_policy',
        key: 'drop_after',
        interval: opts.interval,
      });
      const warnings: string[] = [];
      const [c] = (await conn.unsafe(sqlFile('retention/compression-age.sql'), [
        table.schema,
        table.name,
        opts.interval.text,
      ])) as unknown as {
        compress_after: string;
        retention_not_longer: boolean;
      }[];
      if (c?.retention_not_longer) {
        warnings.push(
          `retention (${opts.interval.text}) is not longer than the compression policy's compress_after (${c.compress_after}): raw data is dropped before, or as soon as, it is compressed.`,
        );
      }
      if (!caps.features.jobScheduler) {
        warnings.push(
          `no TimescaleDB job scheduler runs for this database${caps.server.pglite ? ' (embedded)' : ''}: the policy will not run by itself; run homepot-ts retention run from cron.`,
        );
      }
      const result = await applySteps(conn, [step], applyOptions(opts, hooks));
      return {
        ...result,
        table: table.display,
        server: describeServerKind(caps),
        edition: caps.timescaledb.edition,
        warnings,
      };
    },
    hooks.onWait,
  );
}

/** Remove the retention policy (remove_retention_policy, if_exists); unchanged when there is none. */
export async function removeRetention(sql: Sql, opts: ChangeOptions, hooks: ChangeHooks = {}): Promise<TuningResult> {
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      requireWritable(caps, 'retention remove');
      const table = await resolveTable(conn, opts.table);
      const dim = await timeDimension(conn, caps, table);
      const policy = dim ? await readPolicy(conn, table) : null;
      const title = `retention policy on ${table.display}`;
      let step: Step;
      if (!policy) {
        const why = !caps.timescaledb.installedVersion
          ? ' (TimescaleDB is not installed in this database)'
          : !dim
            ? ' (not a hypertable)'
            : '';
        step = { id: 'retention-policy', title, state: 'in-place', current: `none${why}`, statements: [] };
      } else if (caps.timescaledb.edition !== 'community') {
        step = {
          id: 'retention-policy',
          title,
          state: 'not-available',
          current: `job ${policy.jobId}, drop_after ${policy.dropAfter}`,
          statements: [],
          reason:
            'the Apache-2 edition cannot remove policy jobs (remove_retention_policy needs the Community edition); a Community server, or a superuser deleting the job, must remove it',
        };
      } else {
        step = {
          id: 'retention-policy',
          title,
          state: 'different',
          current: `job ${policy.jobId}, drop_after ${policy.dropAfter}`,
          wanted: 'no retention policy',
          statements: [
            await renderStatement(conn, 'setup/render-remove-policy.sql', [
              'remove_retention_policy',
              table.schema,
              table.name,
            ]),
          ],
          destructive: true,
        };
      }
      const result = await applySteps(conn, [step], applyOptions(opts, hooks));
      const warnings = step.state === 'not-available' && step.reason ? [`${title}: ${step.reason}`] : [];
      return {
        ...result,
        table: table.display,
        server: describeServerKind(caps),
        edition: caps.timescaledb.edition,
        warnings,
      };
    },
    hooks.onWait,
  );
}

// ---------------------------------------------------------------- run

export interface RetentionRunOptions extends ChangeOptions {
  olderThan: Interval;
  /** --time-column as given (plain tables; must match a hypertable's own). */
  timeColumn?: string;
  /** Config setup.timeColumn, else "timestamp": used for plain tables when --time-column is not given. */
  defaultTimeColumn: string;
  batchRows: number;
}

export interface RetentionRunProgress {
  done: number;
  total: number;
  elapsedMs: number;
}

/**
 * What `retention run` removed. With dryRun the counts are what it would
 * remove. drop_chunks removes whole chunks, so its rows are an estimate from
 * statistics (null when a chunk was never analyzed); delete counts exactly.
 */
export interface RetentionRunResult extends TuningResult {
  method: 'drop_chunks' | 'delete';
  olderThan: string;
  /** Rows (or chunks) older than this were removed. */
  cutoff: Date;
  timeColumn: string;
  chunksDropped: number | null;
  chunks: string[];
  rowsDeleted: number | null;
  rowsEstimate: number | null;
  batches: number | null;
  /** Stopped by Ctrl-C between batches; what was deleted stays deleted. */
  interrupted: boolean;
}

/**
 * Enforce retention now: drop_chunks on a hypertable (any edition), or
 * DELETE in bounded batches on a plain table. Under the change lock, so two
 * runs never work on the same table at once.
 */
export async function runRetention(
  sql: Sql,
  opts: RetentionRunOptions,
  hooks: ChangeHooks & { onProgress?: (p: RetentionRunProgress) => void } = {},
): Promise<RetentionRunResult> {
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      requireWritable(caps, 'retention run');
      const table = await resolveTable(conn, opts.table);
      const dim = await timeDimension(conn, caps, table);
      const base = {
        table: table.display,
        server: describeServerKind(caps),
        edition: caps.timescaledb.edition,
        olderThan: opts.olderThan.text,
      };
      if (dim) {
        if (opts.timeColumn !== undefined && opts.timeColumn !== dim.column) {
          throw new HomepotError(
            'unsuitable-table',
            `${table.display} is a hypertable on ${quoteIfNeeded(dim.column)}, not ${quoteIfNeeded(opts.timeColumn)}`,
            {
              hint: `Leave out --time-column: a hypertable's chunks are cut on ${quoteIfNeeded(dim.column)}.`,
            },
          );
        }
        await checkTimeColumn(conn, table, dim.column);
        return { ...base, ...(await dropOldChunks(conn, table, dim.column, opts, hooks)) };
      }
      if (table.relkind !== 'r') {
        throw new HomepotError(
          'unsuitable-table',
          `${table.display} is not an ordinary table (relkind ${table.relkind}): retention run deletes rows only from ordinary tables and hypertables`,
          {
            hint: 'Point --table at the table itself.',
          },
        );
      }
      const column = opts.timeColumn ?? opts.defaultTimeColumn;
      await checkTimeColumn(conn, table, column);
      return { ...base, ...(await deleteOldRows(conn, table, column, opts, hooks)) };
    },
    hooks.onWait,
  );
}

type RunPart = Omit<RetentionRunResult, 'table' | 'server' | 'edition' | 'olderThan'>;

async function dropOldChunks(
  conn: Sql,
  table: ResolvedTable,
  column: string,
  opts: RetentionRunOptions,
  hooks: ChangeHooks,
): Promise<RunPart> {
  // drop_chunks(older_than => interval) takes now() - interval itself; this is what we report.
  const { date: cutoff } = await readCutoff(conn, opts.olderThan);
  const old = (await conn.unsafe(sqlFile('retention/old-chunks.sql'), [
    table.schema,
    table.name,
    opts.olderThan.text,
  ])) as unknown as {
    chunk: string;
    row_estimate: unknown;
    analyzed: boolean;
  }[];
  const estimateOf = (rows: typeof old) =>
    rows.every((r) => r.analyzed) ? rows.reduce((n, r) => n + (num(r.row_estimate) ?? 0), 0) : null;
  const estimate = estimateOf(old);
  const statement = await renderStatement(conn, 'retention/render-drop-chunks.sql', [
    table.schema,
    table.name,
    opts.olderThan.text,
  ]);
  const rowsText =
    estimate === null ? 'rows not counted: not analyzed yet' : `about ${estimate.toLocaleString('en-US')} rows`;
  const step: Step =
    old.length === 0
      ? {
          id: 'drop-chunks',
          title: `chunks of ${table.display} older than ${opts.olderThan.text}`,
          state: 'in-place',
          current: 'none: nothing to drop',
          statements: [],
        }
      : {
          id: 'drop-chunks',
          title: `chunks of ${table.display} older than ${opts.olderThan.text}`,
          state: 'different',
          current: `${old.length} chunk${old.length === 1 ? '' : 's'} (${rowsText})`,
          wanted: 'dropped',
          statements: [statement],
          destructive: true,
        };
  const result = await applySteps(conn, [step], applyOptions(opts, hooks));
  let dropped = old;
  if (!opts.dryRun) {
    const names = old.map((r) => r.chunk);
    const gone = await conn<
      { chunk: string }[]
    >`SELECT c AS chunk FROM unnest(${names}::text[]) AS c WHERE to_regclass(c) IS NULL`;
    const goneSet = new Set(gone.map((g) => g.chunk));
    dropped = old.filter((r) => goneSet.has(r.chunk));
  }
  return {
    ...result,
    warnings: [],
    method: 'drop_chunks',
    cutoff,
    timeColumn: column,
    chunksDropped: dropped.length,
    chunks: dropped.map((r) => r.chunk),
    rowsDeleted: null,
    rowsEstimate: estimateOf(dropped),
    batches: null,
    interrupted: false,
  };
}

async function deleteOldRows(
  conn: Sql,
  table: ResolvedTable,
  column: string,
  opts: RetentionRunOptions,
  hooks: ChangeHooks & { onProgress?: (p: RetentionRunProgress) => void },
): Promise<RunPart> {
  const cutoff = await readCutoff(conn, opts.olderThan);
  const [r] = (await conn.unsafe(sqlFile('retention/render-old-rows.sql'), [
    table.schema,
    table.name,
    column,
    cutoff.text,
    opts.batchRows,
  ])) as unknown as {
    no_statistics: boolean;
    delete_batch: string;
    count_rows: string;
    any_rows: string;
    estimate_rows: string;
  }[];
  if (!r) throw new HomepotError('internal', 'retention/render-old-rows.sql rendered nothing');
  const title = `rows of ${table.display} with ${quoteIfNeeded(column)} older than ${opts.olderThan.text} (batches of ${opts.batchRows.toLocaleString('en-US')})`;
  const common = {
    method: 'delete' as const,
    cutoff: cutoff.date,
    timeColumn: column,
    chunksDropped: null,
    chunks: [],
    rowsEstimate: null,
    warnings: [],
  };
  const any = (await readScalar(conn, r.any_rows)) === true;
  if (!any || opts.dryRun) {
    const count = any ? Number(await readScalar(conn, r.count_rows)) : 0;
    const step: Step = any
      ? {
          id: 'delete-rows',
          title,
          state: 'different',
          current: `${count.toLocaleString('en-US')} rows`,
          wanted: 'deleted',
          statements: [r.delete_batch],
          destructive: true,
        }
      : { id: 'delete-rows', title, state: 'in-place', current: 'none: nothing to delete', statements: [] };
    const result = await applySteps(conn, [step], applyOptions(opts, hooks));
    return { ...result, ...common, rowsDeleted: count, batches: 0, interrupted: false };
  }

  // A DELETE runs the owner's triggers and row-level security policies as us: rows are
  // deleted only with the owner's rights (README, "Security").
  await requireOwnerRights(conn, table, 'retention run');

  // The progress total (and ETA): the planner's estimate, which is cheap; a
  // table never analyzed has none worth the name, so count it once instead.
  let estimate: number;
  if (r.no_statistics) estimate = Number(await readScalar(conn, r.count_rows));
  else {
    const explained = await readScalar(conn, r.estimate_rows);
    const plan = (typeof explained === 'string' ? JSON.parse(explained) : explained) as {
      Plan?: { 'Plan Rows'?: number };
    }[];
    estimate = Math.max(0, Math.round(plan[0]?.Plan?.['Plan Rows'] ?? 0));
  }
  const step: Step = {
    id: 'delete-rows',
    title,
    state: 'different',
    wanted: 'deleted',
    statements: [r.delete_batch],
    destructive: true,
    current: r.no_statistics
      ? `${estimate.toLocaleString('en-US')} rows`
      : `about ${estimate.toLocaleString('en-US')} rows (planner estimate)`,
  };
  hooks.onStep?.(step, 0);
  const started = performance.now();
  let deleted = 0;
  let batches = 0;
  let interrupted = false;
  let error: StepResult['error'];
  for (;;) {
    if (hooks.signal?.aborted) {
      interrupted = true;
      break;
    }
    let n: number;
    try {
      n = await deleteBatch(conn, r.delete_batch, opts.lockTimeout);
    } catch (err) {
      const e = err as { message?: string; code?: string; hint?: string };
      error = {
        message: e.message ?? String(err),
        ...(e.code && /^[0-9A-Z]{5}$/.test(e.code) ? { sqlstate: e.code } : {}),
        ...(e.hint ? { hint: e.hint } : {}),
      };
      break;
    }
    batches++;
    deleted += n;
    hooks.onProgress?.({ done: deleted, total: Math.max(estimate, deleted), elapsedMs: performance.now() - started });
    if (n < opts.batchRows) break;
  }
  const outcome: StepResult['outcome'] = error ? 'failed' : deleted > 0 ? 'updated' : 'unchanged';
  const stepResult: StepResult = {
    id: step.id,
    title: step.title,
    state: step.state,
    outcome,
    statements: step.statements,
    current: step.current!,
    wanted: step.wanted!,
    ...(interrupted ? { reason: `interrupted after ${batches} batch${batches === 1 ? '' : 'es'}` } : {}),
    ...(error ? { error } : {}),
  };
  return {
    dryRun: false,
    changed: deleted > 0,
    steps: [stepResult],
    failedStep: error ? step.id : null,
    ...common,
    rowsDeleted: deleted,
    batches,
    interrupted,
  };
}

/**
 * now() - olderThan, fixed once: ISO 8601 text in UTC with its offset (bound
 * back as $n::timestamptz, shown as a literal) and the same instant as a Date.
 * Read as text the server built with to_char, never a timestamptz printed in
 * the session's DateStyle and TimeZone.
 */
async function readCutoff(conn: Sql, olderThan: Interval): Promise<{ text: string; date: Date }> {
  const [r] = (await conn.unsafe(sqlFile('retention/cutoff.sql'), [olderThan.text])) as unknown as { cutoff: string }[];
  const date = new Date(r?.cutoff ?? '');
  if (!r || Number.isNaN(date.getTime()))
    throw new HomepotError('internal', `retention/cutoff.sql gave no instant (${r?.cutoff})`);
  return { text: r.cutoff, date };
}

/** Run a rendered read-only statement and return the first column of its first row (null when none). */
async function readScalar(conn: Sql, statement: string, params: unknown[] = []): Promise<unknown> {
  await conn`BEGIN READ ONLY`;
  try {
    const [row] = await executeRendered(conn, statement, params).values();
    return row?.[0] ?? null;
  } finally {
    await conn`ROLLBACK`.catch(() => {});
  }
}

/** One batch: its own transaction with lock_timeout; returns the rows it deleted. */
async function deleteBatch(
  conn: Sql,
  statement: string,
  lockTimeout: Interval,
  params: unknown[] = [],
): Promise<number> {
  await conn`BEGIN`;
  try {
    await conn`SELECT set_config('lock_timeout', ${`${Math.round(lockTimeout.seconds * 1000)}ms`}, true)`;
    const r = await executeRendered(conn, statement, params);
    await conn`COMMIT`;
    return r.count;
  } catch (err) {
    await conn`ROLLBACK`.catch(() => {});
    throw err;
  }
}
