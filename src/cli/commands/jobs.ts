import { lockWaitNote } from '../feedback.js';
import { formatTime, formatDuration } from '../render/format.js';
import { table } from '../render/table.js';
import { printPlanResult } from '../render/plan.js';
import { parsePositiveInt, changeOptions, resolveSetting } from '../options.js';
import { type RunCommand, withConnection } from '../context.js';
import type { ChalkInstance } from 'chalk';
import type { Command } from 'commander';
import { requireFeature } from '../../db/features.js';
import { HomepotError } from '../../core/errors.js';
import type { Interval } from '../../core/intervals.js';
import { listJobErrors, listJobs, runJob, setJobScheduled, type JobErrorRow, type JobRow } from '../../jobs.js';
import { planFailure } from '../../db/plan.js';

export function registerJobs(program: Command, run: RunCommand): void {
  const jobs = program.command('jobs').description('background jobs (policies, aggregates refresh) and their stats');

  jobs
    .command('list', { isDefault: true })
    .description('list jobs with their last run, next start and failures (the default)')
    .option('--failed', 'only jobs whose last run failed')
    .action((opts: { failed?: boolean }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const rows = await withConnection(ctx, async (conn, caps) => {
          requireFeature(caps, 'timescaledb', 'jobs');
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
          requireFeature(caps, 'timescaledb', 'jobs errors');
          if (!caps.features.jobErrors) {
            throw new HomepotError(
              'timescaledb-edition',
              `this TimescaleDB (${caps.timescaledb.installedVersion}) has no job error history`,
              {
                hint: 'timescaledb_information.job_errors needs TimescaleDB 2.15 or later; see the server log for job failures.',
              },
            );
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

  changeOptions(
    jobs
      .command('run')
      .description('run a job now, in the foreground (CALL run_job), and report how long it took')
      .argument('<id>', 'job id (homepot-ts jobs lists them)', (v) => parsePositiveInt(v, 'job id')),
  ).action((jobId: number, flags: JobChangeFlags, cmd: Command) =>
    run(cmd, async (ctx) => {
      const lockTimeout = resolveSetting('lockTimeout', flags.lockTimeout, ctx.sources);
      const result = await withConnection(ctx, async (conn) => {
        const spin = ctx.spinner(`running job ${jobId}`);
        try {
          return await runJob(
            conn.sql,
            jobId,
            { dryRun: Boolean(flags.dryRun), lockTimeout },
            {
              onWait: () => lockWaitNote(ctx),
            },
          );
        } finally {
          spin.stop();
        }
      });
      const j = result.job;
      const label = `job ${j.jobId} (${j.applicationName}${j.hypertable ? `, ${j.hypertable}` : ''})`;
      if (ctx.options.json) {
        ctx.printJson({
          command: 'jobs run',
          jobId: j.jobId,
          job: j,
          dryRun: result.dryRun,
          statement: result.statement,
          status: result.status,
          durationMs: result.durationMs === null ? null : Math.round(result.durationMs),
          error: result.error,
        });
      } else if (result.dryRun) {
        ctx.print(`${label} would run: ${result.statement};`);
      } else if (result.status === 'succeeded') {
        ctx.print(`${label}: succeeded in ${seconds(result.durationMs)}`);
      }
      if (result.status === 'failed') {
        throw new HomepotError(
          'sql-error',
          `${label} failed after ${seconds(result.durationMs)}: ${result.error?.message ?? 'unknown error'}${result.error?.sqlstate ? ` (SQLSTATE ${result.error.sqlstate})` : ''}`,
          {
            ...(result.error?.sqlstate ? { sqlstate: result.error.sqlstate } : {}),
          },
        );
      }
    }),
  );

  for (const [name, scheduled, description] of [
    ['pause', false, 'stop the scheduler from starting a job (alter_job scheduled => false); idempotent'],
    ['resume', true, 'let the scheduler start a paused job again (alter_job scheduled => true); idempotent'],
  ] as const) {
    changeOptions(
      jobs
        .command(name)
        .description(description)
        .argument('<id>', 'job id (homepot-ts jobs lists them)', (v) => parsePositiveInt(v, 'job id')),
    ).action((jobId: number, flags: JobChangeFlags, cmd: Command) =>
      run(cmd, async (ctx) => {
        const lockTimeout = resolveSetting('lockTimeout', flags.lockTimeout, ctx.sources);
        const result = await withConnection(ctx, (conn) =>
          setJobScheduled(
            conn.sql,
            jobId,
            scheduled,
            { dryRun: Boolean(flags.dryRun), lockTimeout },
            {
              onWait: () => lockWaitNote(ctx),
              signal: ctx.signal,
            },
          ),
        );
        printPlanResult(ctx, `jobs ${name}`, result, {
          jobId: result.job.jobId,
          job: result.job,
          scheduled: result.scheduled,
        });
        const failure = planFailure(result);
        if (failure) throw failure;
      }),
    );
  }
}

interface JobChangeFlags {
  dryRun?: boolean;
  lockTimeout?: Interval;
}

function seconds(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 60_000 ? `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s` : formatDuration(ms);
}

export function renderJobsTable(jobs: JobRow[], c: ChalkInstance): string {
  return table(
    ['id', 'job', 'hypertable', 'every', 'last run', 'status', 'next start', 'runs', 'failures'],
    jobs.map((j) => [
      j.jobId,
      j.applicationName,
      j.hypertable ?? '-',
      j.scheduleInterval ?? '-',
      formatTime(j.lastRunStartedAt),
      j.lastRunStatus === 'Failed'
        ? c.red('Failed')
        : j.lastRunStatus === 'Success'
          ? c.green('Success')
          : (j.lastRunStatus ?? c.dim('never run')),
      j.scheduled ? formatTime(j.nextStart) : c.yellow('paused'),
      j.totalRuns,
      j.totalFailures > 0 ? c.red(String(j.totalFailures)) : '0',
    ]),
    c,
  );
}

export function renderJobErrorsTable(errors: JobErrorRow[], c: ChalkInstance): string {
  return table(
    ['job', 'finished', 'sqlstate', 'error'],
    errors.map((e) => [e.jobId, formatTime(e.finishTime), e.sqlerrcode ?? '-', c.red(truncate(e.message ?? '', 100))]),
    c,
  );
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}
