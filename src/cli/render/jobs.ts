/**
 * How background jobs read for people: the jobs table (jobs list, and status), the
 * job errors table (jobs errors, and status), and the outcome of jobs run (a line,
 * or JSON). Nothing here talks to the database.
 */
import type { ChalkInstance } from 'chalk';
import type { CommandContext } from '../context.js';
import { formatDuration, formatInterval, formatTime } from './format.js';
import { table, wrapped } from './table.js';
import type { JobErrorRow, JobRow, JobRunResult } from '../../index.js';

export function renderJobsTable(jobs: JobRow[], c: ChalkInstance): string {
  return table(
    ['id', 'job', 'hypertable', 'every', 'last run', 'status', 'next start', 'runs', 'failures'],
    jobs.map((j) => [
      j.jobId,
      jobName(j.applicationName),
      j.hypertable ?? '-',
      formatInterval(j.scheduleInterval),
      formatTime(j.lastRunStartedAt),
      j.lastRunStatus === 'Failed'
        ? c.red('Failed')
        : j.lastRunStatus === 'Success'
          ? c.green('Success')
          : (j.lastRunStatus ?? c.dim('never run')),
      !j.scheduled
        ? c.yellow('paused')
        : j.overdue
          ? c.red(`${formatTime(j.nextStart)} overdue`)
          : formatTime(j.nextStart),
      j.totalRuns,
      j.totalFailures > 0 ? c.red(String(j.totalFailures)) : '0',
    ]),
    c,
    { middle: ['hypertable'], end: ['job'], drop: ['runs', 'last run', 'failures', 'every'] },
  );
}

export function renderJobErrorsTable(errors: JobErrorRow[], c: ChalkInstance): string {
  return table(
    ['job', 'finished', 'sqlstate', 'error'],
    errors.map((e) => [e.jobId, formatTime(e.finishTime), e.sqlerrcode ?? '-', c.red(truncate(e.message ?? '', 100))]),
    c,
    { wrap: ['error'], drop: ['sqlstate'] },
  );
}

/** "Retention Policy [1001]" → "Retention Policy": the id has its own column. */
function jobName(applicationName: string): string {
  return applicationName.replace(/ \[\d+\]$/, '');
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

/** How jobs run names a job: "job <id> (<application name>, <hypertable>)". */
export function jobLabel(j: JobRunResult['job']): string {
  return `job ${j.jobId} (${j.applicationName}${j.hypertable ? `, ${j.hypertable}` : ''})`;
}

/** A job's run time: seconds with decimals under a minute, else 1m05s. */
export function seconds(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 60_000 ? `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s` : formatDuration(ms);
}

/** jobs run: JSON, the statement on --dry-run, or how long a successful run took. */
export function printJobRun(ctx: CommandContext, result: JobRunResult): void {
  const label = jobLabel(result.job);
  if (ctx.options.json) {
    ctx.printJson({
      command: 'jobs run',
      jobId: result.job.jobId,
      job: result.job,
      dryRun: result.dryRun,
      statement: result.statement,
      status: result.status,
      durationMs: result.durationMs === null ? null : Math.round(result.durationMs),
      error: result.error,
    });
  } else if (result.dryRun) {
    ctx.print(wrapped(`${label} would run: ${result.statement};`));
  } else if (result.status === 'succeeded') {
    ctx.print(`${label}: succeeded in ${seconds(result.durationMs)}`);
    // run_job in our session is not the scheduler's run: job_stats (what jobs and status show) keeps the last scheduled run.
    ctx.logger.info(
      'A run by hand is not recorded in job_stats: jobs and status still show the last scheduled run (and its failure, if it failed) until the scheduler runs the job again.',
    );
  }
}
