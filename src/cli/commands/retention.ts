import { progressReporter, withChangeFeedback } from '../feedback.js';
import { printRetention, printRetentionRun } from '../render/retention.js';
import { resolveSetting, SETUP_DEFAULTS } from '../options.js';
import { changeOptions, tableOption } from '../parse/flags.js';
import * as kinds from '../parse/values.js';
import { type RunCommand, withConnection, type CommandContext } from '../context.js';
import type { Command } from 'commander';
import { HomepotError } from '../../core/errors.js';
import type { Interval } from '../../core/intervals.js';
import { formatCount } from '../../core/numbers.js';
import { planFailure } from '../../db/plan.js';
import { removeRetention, setRetention, showRetention } from '../../tuning/retention.js';
import { runRetention } from '../../tuning/retention-run.js';
import { finishChange, resolveTuning, type TuningFlags } from './change.js';

const DEFAULT_BATCH_ROWS = 10_000;

interface RunFlags extends TuningFlags {
  olderThan?: Interval;
  timeColumn?: string;
  batchRows?: number;
}

/** retention, with its subcommands show (the default), set, remove and run. */
export function registerRetention(program: Command, run: RunCommand): void {
  const retention = program
    .command('retention')
    .description('how long health checks are kept: show, set or remove the retention policy, or enforce retention now');
  registerRetentionShow(retention, run);
  registerRetentionSet(retention, run);
  registerRetentionRemove(retention, run);
  registerRetentionRun(retention, run);
}

/** The retention setup aims for: environment > config setup.retention (false: none) > the seed's 90 days. */
function defaultRetention(ctx: CommandContext): Interval | null {
  return resolveSetting('retention', undefined, ctx.sources);
}

function registerRetentionShow(retention: Command, run: RunCommand): void {
  tableOption(
    retention
      .command('show', { isDefault: true })
      .description(
        'the retention policy (job, drop_after, schedule, last run, next start), or what to use instead (the default)',
      ),
  ).action((flags: { table?: string }, cmd: Command) =>
    run(cmd, async (ctx) => {
      const { table } = resolveTuning(flags, ctx);
      const report = await withConnection(ctx, (conn, caps) =>
        showRetention(conn.sql, caps, table, defaultRetention(ctx)?.text ?? SETUP_DEFAULTS.retention),
      );
      printRetention(ctx, report);
    }),
  );
}

function registerRetentionSet(retention: Command, run: RunCommand): void {
  changeOptions(
    tableOption(
      retention
        .command('set')
        .description(
          'create the retention policy, or change its drop_after to <interval> (Community edition; idempotent: unchanged only when drop_after is exactly this interval as PostgreSQL stores it, so "2 months" replaces "60 days")',
        )
        .argument('<interval>', 'drop chunks older than this, e.g. 90d or "6 months"', kinds.interval('interval')),
    ),
  ).action((interval: Interval, flags: TuningFlags, cmd: Command) =>
    run(cmd, async (ctx) => {
      const opts = { ...resolveTuning(flags, ctx), interval };
      const result = await withConnection(ctx, (conn) =>
        withChangeFeedback(ctx, (hooks) => setRetention(conn.sql, opts, hooks)),
      );
      finishChange(ctx, 'retention set', result, { dropAfter: interval.text });
    }),
  );
}

function registerRetentionRemove(retention: Command, run: RunCommand): void {
  changeOptions(
    tableOption(
      retention.command('remove').description('remove the retention policy (idempotent: unchanged when there is none)'),
    ),
  ).action((flags: TuningFlags, cmd: Command) =>
    run(cmd, async (ctx) => {
      const opts = resolveTuning(flags, ctx);
      const result = await withConnection(ctx, (conn) =>
        withChangeFeedback(ctx, (hooks) => removeRetention(conn.sql, opts, hooks)),
      );
      finishChange(ctx, 'retention remove', result);
    }),
  );
}

function registerRetentionRun(retention: Command, run: RunCommand): void {
  changeOptions(
    tableOption(
      retention
        .command('run')
        .description(
          'enforce retention now: drop_chunks on a hypertable (any TimescaleDB edition), or DELETE in batches on plain PostgreSQL; for cron. The range: everything older than now() minus --older-than, fixed once when the run starts (a hypertable loses only chunks lying wholly before it). The rows of compressed chunks are counted exactly, those of uncompressed chunks estimated from statistics. Aggregate tables (Apache edition, plain PostgreSQL) and continuous aggregates keep their rows of the dropped days',
        )
        .option(
          '--older-than <interval>',
          `remove data older than now() minus this (default: the table's retention policy's drop_after, read when the run starts; without a policy config setup.retention, else ${SETUP_DEFAULTS.retention})`,
          kinds.interval('--older-than'),
        )
        .option(
          '--time-column <column>',
          'time column of a plain table (default config setup.timeColumn, else "timestamp"; a hypertable uses its own)',
          kinds.columnName('--time-column'),
        )
        .option(
          '--batch-rows <n>',
          `rows per DELETE transaction on a plain table (default ${formatCount(DEFAULT_BATCH_ROWS)})`,
          kinds.count('--batch-rows', kinds.COUNT_MAX.batchRows),
        ),
    ),
  ).action((flags: RunFlags, cmd: Command) => run(cmd, (ctx) => enforceRetention(ctx, flags)));
}

async function enforceRetention(ctx: CommandContext, flags: RunFlags): Promise<void> {
  const opts = {
    ...resolveTuning(flags, ctx),
    olderThan: flags.olderThan ?? null,
    defaultOlderThan: defaultRetention(ctx),
    ...(flags.timeColumn !== undefined ? { timeColumn: flags.timeColumn } : {}),
    defaultTimeColumn: resolveSetting('timeColumn', undefined, ctx.sources),
    batchRows: flags.batchRows ?? DEFAULT_BATCH_ROWS,
  };
  const progress = progressReporter(ctx, 'deleting old rows');
  const r = await withConnection(ctx, (conn) =>
    withChangeFeedback(ctx, (hooks) =>
      runRetention(conn.sql, opts, { ...hooks, onProgress: (p) => progress.update(p) }),
    ),
  );
  if (r.method === 'delete' && r.batches)
    progress.succeed(`deleted ${formatCount(r.rowsDeleted)} rows in ${r.batches} batches`);
  printRetentionRun(ctx, r);
  if (r.interrupted) {
    throw new HomepotError(
      'interrupted',
      `interrupted: ${formatCount(r.rowsDeleted)} rows deleted in ${r.batches} batches stay deleted`,
      { hint: 'Run homepot-ts retention run again to continue where it stopped.' },
    );
  }
  const failure = planFailure(r);
  if (failure) throw failure;
}
