import { validDate } from './core/times.js';
import { listAggregates, type AggregateInfo } from './aggregates/inspect.js';
import { readStateForStatus } from './migrate/state.js';
import { formatCount } from './core/numbers.js';
import { detectCapabilities, HOMEPOT_TABLES, type Capabilities } from './db/capabilities.js';
import { hasFeature, serverKindWarning } from './db/features.js';
import type { Sql } from './db/connection.js';
import { listJobErrors, listJobs, type JobErrorRow, type JobRow } from './jobs.js';
import { num } from './core/numbers.js';
import { query } from './db/sql.js';
import { commonJobError, listFailingJobs, type CommonJobError } from './steps/job-failures.js';
import type { SchedulerInfo } from './db/capabilities.js';

/**
 * `status`: everything an operator looks at, read-only: HOMEPOT's tables,
 * hypertables, continuous aggregates, HOMEPOT's aggregates, jobs and their
 * errors, and warnings in plain words. SQL in sql/status/.
 */

export interface HypertableInfo {
  schema: string;
  name: string;
  timeColumn: string | null;
  chunkInterval: string | null;
  chunks: number;
  compressionEnabled: boolean;
  compressedChunks: number;
  totalBytes: number | null;
  rowEstimate: number | null;
  beforeCompressionBytes: number | null;
  afterCompressionBytes: number | null;
}

export interface ContinuousAggregateInfo {
  schema: string;
  name: string;
  hypertable: string;
  materializedOnly: boolean;
  compressionEnabled: boolean;
  policyJobId: number | null;
  policySchedule: string | null;
  policyLastRunStatus: string | null;
  /** When the refresh policy last succeeded; null when it never did (job_stats says -infinity) or has not run. */
  policyLastSuccess: Date | null;
  /** The policy ran but never succeeded (job_stats.last_successful_finish is -infinity). */
  policyNeverSucceeded: boolean;
}

export interface HomepotTableInfo {
  name: string;
  schema: string | null;
  exists: boolean;
  /** 'hypertable', 'table', 'partitioned table', 'view', ... or null when missing. */
  kind: string | null;
  owner: string | null;
  rowEstimate: number | null;
  totalBytes: number | null;
}

/** The `status` report; its JSON form is documented in README ("JSON output"). */
export interface StatusReport {
  capabilities: Capabilities;
  tables: HomepotTableInfo[];
  hypertables: HypertableInfo[];
  continuousAggregates: ContinuousAggregateInfo[];
  /** HOMEPOT's three aggregates (continuous or materialized views) and how fresh they are. */
  aggregates: AggregateInfo[];
  jobs: JobRow[];
  jobErrors: JobErrorRow[];
  /** TimescaleDB's job scheduler for this database (capabilities.scheduler). */
  scheduler: SchedulerInfo;
  /** commonError: every job whose last run failed (two or more) fails with this one error; else null. */
  jobFailures: { failing: number; commonError: CommonJobError | null };
  /** Things an operator should act on, in plain words. */
  warnings: string[];
}

const RELKIND: Record<string, string> = {
  r: 'table',
  p: 'partitioned table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
};

interface HypertableRow {
  schema: string;
  name: string;
  chunks: number;
  compression_enabled: boolean;
  compressed_chunks: number;
  time_column: string | null;
  chunk_interval: string | null;
  chunk_interval_integer: number | null;
  total_bytes: number | null;
  row_estimate: number | null;
  before_compression_bytes: number | null;
  after_compression_bytes: number | null;
}

export async function listHypertables(sql: Sql): Promise<HypertableInfo[]> {
  const rows = await query<HypertableRow>(sql, 'status/hypertables.sql');
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    timeColumn: r.time_column,
    chunkInterval: r.chunk_interval ?? (r.chunk_interval_integer === null ? null : String(r.chunk_interval_integer)),
    chunks: Number(r.chunks),
    compressionEnabled: r.compression_enabled,
    compressedChunks: Number(r.compressed_chunks),
    totalBytes: num(r.total_bytes),
    rowEstimate: num(r.row_estimate),
    beforeCompressionBytes: num(r.before_compression_bytes),
    afterCompressionBytes: num(r.after_compression_bytes),
  }));
}

export async function listContinuousAggregates(sql: Sql): Promise<ContinuousAggregateInfo[]> {
  const rows = await query<{
    schema: string;
    name: string;
    hypertable_schema: string;
    hypertable_name: string;
    materialized_only: boolean;
    compression_enabled: boolean;
    policy_job_id: number | null;
    policy_schedule: string | null;
    policy_last_run_status: string | null;
    policy_last_success: Date | null;
  }>(sql, 'status/continuous-aggregates.sql');
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    hypertable: `${r.hypertable_schema}.${r.hypertable_name}`,
    materializedOnly: r.materialized_only,
    compressionEnabled: r.compression_enabled,
    policyJobId: r.policy_job_id,
    policySchedule: r.policy_schedule,
    policyLastRunStatus: r.policy_last_run_status,
    policyLastSuccess: validDate(r.policy_last_success),
    policyNeverSucceeded: r.policy_last_success !== null && validDate(r.policy_last_success) === null,
  }));
}

async function homepotTables(sql: Sql, hypertables: HypertableInfo[]): Promise<HomepotTableInfo[]> {
  const rows = await query<{
    name: string;
    schema: string | null;
    exists: boolean;
    relkind: string | null;
    owner: string | null;
    row_estimate: number | null;
    total_bytes: number | null;
  }>(sql, 'db/homepot-tables.sql', [[...HOMEPOT_TABLES]]);
  return rows.map((r) => {
    const ht = hypertables.find((h) => h.schema === r.schema && h.name === r.name);
    return {
      name: r.name,
      schema: r.schema,
      exists: r.exists,
      kind: ht ? 'hypertable' : r.relkind ? (RELKIND[r.relkind] ?? r.relkind) : null,
      owner: r.owner,
      // A hypertable's parent holds no rows itself: use TimescaleDB's estimate and total size.
      rowEstimate: ht ? ht.rowEstimate : num(r.row_estimate),
      totalBytes: ht ? ht.totalBytes : num(r.total_bytes),
    };
  });
}

/** What status says about health_checks' migration state, or about a plain health_checks table. */
function migrationWarning(
  migration: Awaited<ReturnType<typeof readStateForStatus>>['state'],
  timescaledb: boolean,
  health: HomepotTableInfo | undefined,
): string | null {
  if (migration && migration.phase !== 'done' && migration.strategy === 'online') {
    return `an online migration of health_checks is in progress (${migration.phase}, ${formatCount(Number(migration.rows_copied))} rows copied): a trigger records every write until it finishes. Run homepot-ts migrate-from-postgres to finish it, or homepot-ts migrate-from-postgres abort.`;
  }
  if (migration?.strategy === 'remote' && migration.phase === 'finished') {
    return `health_checks was copied here from another server (migrate-from-postgres --source); the copy was finished at ${new Date(migration.finished_at as string | Date).toISOString()} and reruns are refused. migrate-from-postgres cleanup forgets the copy's state.`;
  }
  if (migration?.strategy === 'remote') {
    return "health_checks was copied here from another server (migrate-from-postgres --source): run it again to catch up until HOMEPOT writes here, then migrate-from-postgres cleanup forgets the copy's state.";
  }
  if (migration?.phase === 'done') {
    return 'health_checks was migrated online; the old table is kept as health_checks_pre_timescaledb until homepot-ts migrate-from-postgres cleanup.';
  }
  if (timescaledb && health?.exists && health.kind !== 'hypertable') {
    return 'health_checks is a plain table, not a hypertable: run homepot-ts setup to convert it (homepot-ts migrate-from-postgres --dry-run shows how to do it without blocking writes, for a large table).';
  }
  return null;
}

/**
 * TimescaleDB's own job-history retention job needs the Community license: on
 * the Apache edition it fails every time it runs (0A000). Such a failure is
 * expected and harmless, and is not counted as a failing job.
 */
export function expectedJobFailure(caps: Capabilities, job: Pick<JobRow, 'proc'>): boolean {
  const apache = Boolean(caps.timescaledb.installedVersion) && !hasFeature(caps, 'community');
  return apache && job.proc.endsWith('.policy_job_stat_history_retention');
}

/**
 * Everything `status` shows, read-only. Works on any PostgreSQL server: the
 * TimescaleDB parts are empty (with a warning saying what to do) when the
 * extension is missing.
 */
export async function getStatus(
  sql: Sql,
  options: { capabilities?: Capabilities; jobErrorLimit?: number } = {},
): Promise<StatusReport> {
  const caps = options.capabilities ?? (await detectCapabilities(sql));
  const warnings: string[] = [];
  const ts = caps.timescaledb;
  let hypertables: HypertableInfo[] = [];
  let continuousAggregates: ContinuousAggregateInfo[] = [];
  let jobs: JobRow[] = [];
  let jobErrors: JobErrorRow[] = [];

  if (ts.installedVersion) {
    hypertables = await listHypertables(sql);
    if (caps.features.continuousAggregates) continuousAggregates = await listContinuousAggregates(sql);
    jobs = await listJobs(sql);
    if (caps.features.jobErrors) jobErrors = await listJobErrors(sql, options.jobErrorLimit ?? 10);
  }
  const kindWarning = serverKindWarning(caps);
  if (kindWarning) warnings.push(kindWarning);

  const tables = await homepotTables(sql, hypertables);
  const health = tables.find((t) => t.name === 'health_checks');
  // Never a SELECT on a state that is not the tool's own: a warning says why instead.
  const read =
    health?.exists && health.schema
      ? await readStateForStatus(sql, health.schema, 'health_checks')
      : { state: null, warnings: [] };
  warnings.push(...read.warnings);
  const warning = migrationWarning(read.state, Boolean(ts.installedVersion), health);
  if (warning) warnings.push(warning);
  const jobFailures = ts.installedVersion ? await jobFailureWarnings(sql, caps, jobs, warnings) : noFailures;
  const scheduled = jobs.some((j) => j.scheduled);
  const scheduler = schedulerWarning(caps, scheduled);
  if (scheduler) warnings.push(scheduler);
  const overdue = jobs.filter((j) => j.overdue);
  if (overdue.length > 0)
    warnings.push(
      `${overdue.length} background job${overdue.length > 1 ? 's are' : ' is'} overdue (${overdue.map((j) => j.jobId).join(', ')}): due longer ago than ${overdue.length > 1 ? 'their' : 'its'} schedule interval. The scheduler may be out of background workers (server log: "failed to launch job ... out of background workers"): raise timescaledb.max_background_workers (and max_worker_processes) and restart.`,
    );
  if (caps.server.readOnly)
    warnings.push(
      'This session is read-only (a replica or default_transaction_read_only): changing commands will refuse to run; their --dry-run and --check (setup, create-aggregates, migrate-from-postgres) show what they would do on the primary.',
    );

  const aggregates = await listAggregates(sql, { capabilities: caps });
  return {
    capabilities: caps,
    tables,
    hypertables,
    continuousAggregates,
    aggregates,
    jobs,
    jobErrors,
    scheduler: caps.scheduler,
    jobFailures,
    warnings,
  };
}

const noFailures: StatusReport['jobFailures'] = { failing: 0, commonError: null };

/**
 * Warnings about failing jobs: one line when they all fail with the same
 * error (the server's fault, said once), else one line listing them; the
 * Apache edition's own job-history retention job is named as harmless.
 */
async function jobFailureWarnings(
  sql: Sql,
  caps: Capabilities,
  jobs: JobRow[],
  warnings: string[],
): Promise<StatusReport['jobFailures']> {
  // Say so when TimescaleDB's own job fails as expected, so an operator does not chase it.
  const licenseFailure = (proc: string) => expectedJobFailure(caps, { proc });
  const failing = (await listFailingJobs(sql, caps.features.jobErrors)).filter((j) => !licenseFailure(j.proc));
  const commonError = commonJobError(failing);
  if (commonError) {
    warnings.push(
      `every failing job (${commonError.jobIds.join(', ')}) fails with the same error${commonError.sqlerrcode ? ` (${commonError.sqlerrcode})` : ''}: ${commonError.message}; ${commonError.advice}.`,
    );
  } else if (failing.length > 0) {
    warnings.push(
      `${failing.length} background job${failing.length > 1 ? 's' : ''} failed on the last run (${failing.map((j) => j.jobId).join(', ')}): see homepot-ts jobs errors.`,
    );
  }
  for (const j of jobs.filter((j) => j.lastRunStatus === 'Failed' && licenseFailure(j.proc))) {
    warnings.push(
      `job ${j.jobId} (${j.applicationName}) failed: expected on the Apache edition, where this built-in job needs the Community license; harmless.`,
    );
  }
  return { failing: failing.length, commonError };
}

/** What status says about the scheduler where policies would wait for it; null when nothing. */
function schedulerWarning(caps: Capabilities, scheduled: boolean): string | null {
  const s = caps.scheduler;
  if (!scheduled || s.state === 'running' || s.state === 'n/a') return null;
  if (s.state === 'replica')
    // A standby runs no background jobs: its policies run on the primary, whose results replicate here.
    return "This server is a replica: background jobs run on the primary (their runs and errors shown here are the primary's, as replicated).";
  if (s.state === 'absent')
    return `No TimescaleDB job scheduler runs for this database (${s.reason}; elsewhere check timescaledb.max_background_workers): policies will not run on their own; run them with homepot-ts jobs run <id>.`;
  return null;
}
