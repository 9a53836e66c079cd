import { detectCapabilities, requireWritable, type Capabilities } from './db/capabilities.js';
import { requireFeature, requireJobControl, requireJobErrorHistory } from './db/features.js';
import type { Sql } from './db/connection.js';
import { HomepotError } from './core/errors.js';
import { ExitCode } from './core/exit-codes.js';
import type { Interval } from './core/intervals.js';
import { applyOptions, applySteps, withChangeLock, type ApplyResult, type ChangeHooks, type Step } from './db/plan.js';
import { validDate } from './core/times.js';
import { query, queryOne, renderStatement, setLockTimeout } from './db/sql.js';

/**
 * `jobs`: TimescaleDB's background jobs (policies and its own), their stats
 * and recent errors; and job control: run a job now, pause or resume it.
 * SQL in sql/jobs/.
 */

export interface JobRow {
  jobId: number;
  applicationName: string;
  proc: string;
  scheduleInterval: string | null;
  scheduled: boolean;
  hypertable: string | null;
  config: unknown;
  jobStatus: string | null;
  lastRunStatus: string | null;
  lastRunStartedAt: Date | null;
  lastSuccessfulFinish: Date | null;
  lastRunDuration: string | null;
  nextStart: Date | null;
  totalRuns: number;
  totalSuccesses: number;
  totalFailures: number;
  /** Scheduled, not running, and its next start passed longer ago than its schedule interval. */
  overdue: boolean;
}

export interface JobErrorRow {
  jobId: number;
  proc: string | null;
  startTime: Date | null;
  finishTime: Date | null;
  sqlerrcode: string | null;
  message: string | null;
}

interface RawJob {
  job_id: number;
  application_name: string;
  proc_schema: string;
  proc_name: string;
  schedule_interval: string | null;
  scheduled: boolean;
  hypertable_schema: string | null;
  hypertable_name: string | null;
  config: unknown;
  job_status: string | null;
  last_run_status: string | null;
  last_run_started_at: Date | null;
  last_successful_finish: Date | null;
  last_run_duration: string | null;
  next_start: Date | null;
  total_runs: number;
  total_successes: number;
  total_failures: number;
  overdue: boolean;
}

/** Background jobs and their stats (timescaledb_information.jobs + job_stats). Needs TimescaleDB. */
export async function listJobs(sql: Sql, options: { failedOnly?: boolean } = {}): Promise<JobRow[]> {
  const rows = await query<RawJob>(sql, 'jobs/jobs.sql', [options.failedOnly ?? false]);
  return rows.map((r) => ({
    jobId: Number(r.job_id),
    applicationName: r.application_name,
    proc: `${r.proc_schema}.${r.proc_name}`,
    scheduleInterval: r.schedule_interval,
    scheduled: r.scheduled,
    hypertable: r.hypertable_name ? `${r.hypertable_schema}.${r.hypertable_name}` : null,
    config: r.config,
    jobStatus: r.job_status,
    lastRunStatus: r.last_run_status,
    lastRunStartedAt: validDate(r.last_run_started_at),
    lastSuccessfulFinish: validDate(r.last_successful_finish),
    lastRunDuration: r.last_run_duration,
    nextStart: validDate(r.next_start),
    totalRuns: Number(r.total_runs),
    totalSuccesses: Number(r.total_successes),
    totalFailures: Number(r.total_failures),
    overdue: r.overdue,
  }));
}

/** Recent job errors, newest first. Needs TimescaleDB >= 2.15 (capabilities.features.jobErrors). */
export async function listJobErrors(sql: Sql, limit = 20): Promise<JobErrorRow[]> {
  const rows = await query<{
    job_id: number;
    proc_schema: string | null;
    proc_name: string | null;
    start_time: Date | null;
    finish_time: Date | null;
    sqlerrcode: string | null;
    err_message: string | null;
  }>(sql, 'jobs/job-errors.sql', [limit]);
  return rows.map((r) => ({
    jobId: Number(r.job_id),
    proc: r.proc_name ? `${r.proc_schema}.${r.proc_name}` : null,
    startTime: validDate(r.start_time),
    finishTime: validDate(r.finish_time),
    sqlerrcode: r.sqlerrcode,
    message: r.err_message,
  }));
}

// ---------------------------------------------------------------- run, pause, resume

/** `jobs`: the background jobs, after checking TimescaleDB is here (exit 5 with what to do when not). */
export async function showJobs(sql: Sql, options: { failedOnly?: boolean } = {}): Promise<JobRow[]> {
  requireFeature(await detectCapabilities(sql), 'timescaledb', 'jobs');
  return listJobs(sql, options);
}

/** `jobs errors`: recent job errors, after checking this TimescaleDB records them. */
export async function showJobErrors(sql: Sql, limit = 20): Promise<JobErrorRow[]> {
  requireJobErrorHistory(await detectCapabilities(sql), 'jobs errors');
  return listJobErrors(sql, limit);
}

/** The job a `jobs run|pause|resume <id>` names. */
export interface JobRef {
  jobId: number;
  applicationName: string;
  proc: string;
  scheduled: boolean;
  hypertable: string | null;
}

/**
 * Refuse, before anything runs, what job control cannot do here: no
 * TimescaleDB (5), a read-only session (6). The edition is checked after the
 * job is found, so an unknown id says so (4) on every edition.
 */
function preflightJobs(caps: Capabilities, what: string): void {
  requireFeature(caps, 'timescaledb', what);
  requireWritable(caps, what);
}

/** Look a job up by id; an unknown id is exit 4 with where to find the ids. */
export async function findJob(sql: Sql, jobId: number): Promise<JobRef> {
  const r = await queryOne<{
    job_id: number;
    application_name: string;
    proc_schema: string;
    proc_name: string;
    scheduled: boolean;
    hypertable_schema: string | null;
    hypertable_name: string | null;
  }>(sql, 'jobs/job.sql', [jobId]);
  if (!r) {
    // No 'unknown-job' kind exists yet; exit 4 is what matters to pipelines, 42704 is what TimescaleDB itself says.
    throw new HomepotError('sql-error', `job ${jobId} does not exist`, {
      hint: 'homepot-ts jobs lists the job ids.',
      exitCode: ExitCode.notFound,
      sqlstate: '42704',
    });
  }
  return {
    jobId: Number(r.job_id),
    applicationName: r.application_name,
    proc: `${r.proc_schema}.${r.proc_name}`,
    scheduled: r.scheduled,
    hypertable: r.hypertable_name ? `${r.hypertable_schema}.${r.hypertable_name}` : null,
  };
}

export interface JobRunResult {
  job: JobRef;
  dryRun: boolean;
  /** The statement that runs (or would run) the job. */
  statement: string;
  status: 'succeeded' | 'failed' | 'not run';
  /** Wall-clock time of the run, measured here (the embedded database keeps no job stats for foreground runs). */
  durationMs: number | null;
  error: { message: string; sqlstate?: string } | null;
}

/**
 * Run a job now, in the foreground (CALL run_job), under the change lock, with
 * lock_timeout for the session. Not in a transaction block: policies commit as
 * they go. A failing job is a result (status 'failed'), not an exception.
 */
export async function runJob(
  sql: Sql,
  jobId: number,
  opts: { dryRun: boolean; lockTimeout: Interval },
  hooks: ChangeHooks = {},
): Promise<JobRunResult> {
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      preflightJobs(caps, 'jobs run');
      const job = await findJob(conn, jobId);
      requireJobControl(caps, 'jobs run', 'run_job');
      const statement = `CALL run_job(${job.jobId})`;
      if (opts.dryRun) return { job, dryRun: true, statement, status: 'not run', durationMs: null, error: null };
      // For the session, not a transaction: CALL run_job must run outside a
      // transaction block because policies commit as they go; RESET below.
      await setLockTimeout(conn, opts.lockTimeout, 'session');
      const started = performance.now();
      try {
        await query(conn, 'jobs/run-job.sql', [job.jobId]);
        return {
          job,
          dryRun: false,
          statement,
          status: 'succeeded',
          durationMs: performance.now() - started,
          error: null,
        };
      } catch (err) {
        const e = err as { message?: string; code?: string };
        // A job that failed is reported; a lost connection is not a job failure.
        if (!e.code || !/^[0-9A-Z]{5}$/.test(e.code)) throw err;
        return {
          job,
          dryRun: false,
          statement,
          status: 'failed',
          durationMs: performance.now() - started,
          error: { message: oneLine(e.message ?? String(err)), sqlstate: e.code },
        };
      } finally {
        await conn`RESET lock_timeout`.catch(() => {});
      }
    },
    hooks.onWait,
  );
}

export interface JobScheduleResult extends ApplyResult {
  job: JobRef;
  /** Whether the job is scheduled now, after this run (unchanged on --dry-run or failure). */
  scheduled: boolean;
}

/**
 * Pause (scheduled => false) or resume (true) a job with alter_job, as a
 * plan step: a job already in that state is unchanged.
 */
export async function setJobScheduled(
  sql: Sql,
  jobId: number,
  scheduled: boolean,
  opts: { dryRun: boolean; lockTimeout: Interval },
  hooks: ChangeHooks = {},
): Promise<JobScheduleResult> {
  const what = scheduled ? 'jobs resume' : 'jobs pause';
  return withChangeLock(
    sql,
    async (conn) => {
      const caps = await detectCapabilities(conn);
      preflightJobs(caps, what);
      const job = await findJob(conn, jobId);
      requireJobControl(caps, what, 'alter_job');
      const word = (s: boolean) => (s ? 'scheduled' : 'paused');
      const step: Step =
        job.scheduled === scheduled
          ? {
              id: 'job-schedule',
              title: `job ${job.jobId} (${job.applicationName})`,
              state: 'in-place',
              current: word(job.scheduled),
              statements: [],
            }
          : {
              id: 'job-schedule',
              title: `job ${job.jobId} (${job.applicationName})`,
              state: 'different',
              current: word(job.scheduled),
              wanted: word(scheduled),
              statements: [await renderStatement(conn, 'jobs/render-alter-job-scheduled.sql', [job.jobId, scheduled])],
            };
      const result = await applySteps(conn, [step], applyOptions(opts, hooks));
      const applied = result.steps[0]?.outcome === 'updated' || result.steps[0]?.outcome === 'unchanged';
      return { ...result, job, scheduled: applied ? scheduled : job.scheduled };
    },
    hooks.onWait,
  );
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
