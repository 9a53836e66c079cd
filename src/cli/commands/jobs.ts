import { lockWaitNote } from '../feedback.js';
import { printPlanResult } from '../render/plan.js';
import { jobLabel, printJobRun, renderJobErrorsTable, renderJobsTable, seconds } from '../render/jobs.js';
import { resolveSetting } from '../options.js';
import { changeOptions } from '../parse/flags.js';
import * as kinds from '../parse/values.js';
import { type RunCommand, withConnection, type CommandContext } from '../context.js';
import type { Command } from 'commander';
import { HomepotError } from '../../core/errors.js';
import type { Interval } from '../../core/intervals.js';
import { runJob, setJobScheduled, showJobErrors, showJobs } from '../../jobs.js';
import { planFailure } from '../../db/plan.js';

interface JobChangeFlags {
  dryRun?: boolean;
  lockTimeout?: Interval;
}

/** jobs, with its subcommands list (the default), errors, run, pause and resume. */
export function registerJobs(program: Command, run: RunCommand): void {
  const jobs = program.command('jobs').description('background jobs (policies, aggregates refresh) and their stats');
  registerJobsList(jobs, run);
  registerJobsErrors(jobs, run);
  registerJobsRun(jobs, run);
  registerJobsSchedule(
    jobs,
    run,
    'pause',
    false,
    'stop the scheduler from starting a job (alter_job scheduled => false); idempotent',
  );
  registerJobsSchedule(
    jobs,
    run,
    'resume',
    true,
    'let the scheduler start a paused job again (alter_job scheduled => true); idempotent',
  );
}

function jobIdArgument(cmd: Command): Command {
  return cmd.argument('<id>', 'job id (homepot-ts jobs lists them)', kinds.jobId);
}

function registerJobsList(jobs: Command, run: RunCommand): void {
  jobs
    .command('list', { isDefault: true })
    .description('list jobs with their last run, next start and failures (the default)')
    .option('--failed', 'only jobs whose last run failed')
    .action((opts: { failed?: boolean }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const rows = await withConnection(ctx, (conn) => showJobs(conn.sql, { failedOnly: Boolean(opts.failed) }));
        if (ctx.options.json) return ctx.printJson({ jobs: rows });
        if (rows.length === 0) {
          ctx.logger.info(opts.failed ? 'No failing jobs.' : 'No background jobs.');
          return;
        }
        ctx.print(renderJobsTable(rows, ctx.chalk));
      }),
    );
}

function registerJobsErrors(jobs: Command, run: RunCommand): void {
  jobs
    .command('errors')
    .description('recent job errors, newest first')
    .option('--limit <n>', 'how many errors', kinds.count('--limit'), 20)
    .action((opts: { limit: number }, cmd: Command) =>
      run(cmd, async (ctx) => {
        const rows = await withConnection(ctx, (conn) => showJobErrors(conn.sql, opts.limit));
        if (ctx.options.json) return ctx.printJson({ jobErrors: rows });
        if (rows.length === 0) {
          ctx.logger.info('No job errors recorded.');
          return;
        }
        ctx.print(renderJobErrorsTable(rows, ctx.chalk));
      }),
    );
}

function registerJobsRun(jobs: Command, run: RunCommand): void {
  changeOptions(
    jobIdArgument(
      jobs.command('run').description('run a job now, in the foreground (CALL run_job), and report how long it took'),
    ),
  ).action((jobId: number, flags: JobChangeFlags, cmd: Command) => run(cmd, (ctx) => runJobNow(ctx, jobId, flags)));
}

async function runJobNow(ctx: CommandContext, jobId: number, flags: JobChangeFlags): Promise<void> {
  const lockTimeout = resolveSetting('lockTimeout', flags.lockTimeout, ctx.sources);
  const result = await withConnection(ctx, async (conn) => {
    const spin = ctx.spinner(`running job ${jobId}`);
    try {
      return await runJob(
        conn.sql,
        jobId,
        { dryRun: Boolean(flags.dryRun), lockTimeout },
        { onWait: () => lockWaitNote(ctx) },
      );
    } finally {
      spin.stop();
    }
  });
  printJobRun(ctx, result);
  if (result.status === 'failed') {
    const e = result.error;
    throw new HomepotError(
      'sql-error',
      `${jobLabel(result.job)} failed after ${seconds(result.durationMs)}: ${e?.message ?? 'unknown error'}${e?.sqlstate ? ` (SQLSTATE ${e.sqlstate})` : ''}`,
      { ...(e?.sqlstate ? { sqlstate: e.sqlstate } : {}) },
    );
  }
}

/** jobs pause and jobs resume: alter_job scheduled => false / true. */
function registerJobsSchedule(
  jobs: Command,
  run: RunCommand,
  name: 'pause' | 'resume',
  scheduled: boolean,
  description: string,
): void {
  changeOptions(jobIdArgument(jobs.command(name).description(description))).action(
    (jobId: number, flags: JobChangeFlags, cmd: Command) =>
      run(cmd, async (ctx) => {
        const lockTimeout = resolveSetting('lockTimeout', flags.lockTimeout, ctx.sources);
        const result = await withConnection(ctx, (conn) =>
          setJobScheduled(
            conn.sql,
            jobId,
            scheduled,
            { dryRun: Boolean(flags.dryRun), lockTimeout },
            { onWait: () => lockWaitNote(ctx), signal: ctx.signal },
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
