import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import { requireTimescaledb } from '../capabilities.js';
import { withConnection } from '../context.js';
import { HomepotError } from '../errors.js';
import { listJobErrors, listJobs, type JobErrorRow, type JobRow } from '../jobs.js';
import { formatTime, table } from '../output.js';
import { parsePositiveInt, type RunCommand } from './shared.js';

export function registerJobs(program: Command, run: RunCommand): void {
  const jobs = program
    .command('jobs')
    .description('background jobs (policies, aggregates refresh) and their stats');

  jobs
    .command('list', { isDefault: true })
    .description('list jobs with their last run, next start and failures (the default)')
    .option('--failed', 'only jobs whose last run failed')
    .action((opts: { failed?: boolean }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const rows = await withConnection(ctx, async (conn, caps) => {
          requireTimescaledb(caps, 'jobs');
          return listJobs(conn.sql, { failedOnly: Boolean(opts.failed) });
        });
        if (ctx.options.json) return ctx.printJson({ jobs: rows });
        if (rows.length === 0) {
          ctx.logger.info(opts.failed ? 'No failing jobs.' : 'No background jobs.');
          return;
        }
        ctx.print(renderJobsTable(rows, ctx.chalk));
      }),
    );

  jobs
    .command('errors')
    .description('recent job errors, newest first')
    .option('--limit <n>', 'how many errors', (v) => parsePositiveInt(v, '--limit'), 20)
    .action((opts: { limit: number }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const rows = await withConnection(ctx, async (conn, caps) => {
          requireTimescaledb(caps, 'jobs errors');
          if (!caps.features.jobErrors) {
            throw new HomepotError('timescaledb-edition', `this TimescaleDB (${caps.timescaledb.installedVersion}) has no job error history`, {
              hint: 'timescaledb_information.job_errors needs TimescaleDB 2.15 or later; see the server log for job failures.',
            });
          }
          return listJobErrors(conn.sql, opts.limit);
        });
        if (ctx.options.json) return ctx.printJson({ jobErrors: rows });
        if (rows.length === 0) {
          ctx.logger.info('No job errors recorded.');
          return;
        }
        ctx.print(renderJobErrorsTable(rows, ctx.chalk));
      }),
    );
}

export function renderJobsTable(jobs: JobRow[], c: ChalkInstance): string {
  return table(['id', 'job', 'hypertable', 'every', 'last run', 'status', 'next start', 'runs', 'failures'], jobs.map((j) => [
    j.jobId,
    j.applicationName,
    j.hypertable ?? '-',
    j.scheduleInterval ?? '-',
    formatTime(j.lastRunStartedAt),
    j.lastRunStatus === 'Failed' ? c.red('Failed') : j.lastRunStatus === 'Success' ? c.green('Success') : (j.lastRunStatus ?? c.dim('never run')),
    j.scheduled ? formatTime(j.nextStart) : c.yellow('paused'),
    j.totalRuns,
    j.totalFailures > 0 ? c.red(String(j.totalFailures)) : '0',
  ]), c);
}

export function renderJobErrorsTable(errors: JobErrorRow[], c: ChalkInstance): string {
  return table(['job', 'finished', 'sqlstate', 'error'], errors.map((e) => [
    e.jobId,
    formatTime(e.finishTime),
    e.sqlerrcode ?? '-',
    c.red(truncate(e.message ?? '', 100)),
  ]), c);
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}
