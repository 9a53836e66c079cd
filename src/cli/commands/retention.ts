import { formatTime } from '../render/format.js';
import { progressReporter, withChangeFeedback } from '../feedback.js';
import { printPlanResult } from '../render/plan.js';
import {
  parsePositiveInt,
  changeOptions,
  resolveSetting,
  resolveSettings,
  SETUP_DEFAULTS,
  tableOption,
} from '../options.js';
import { type RunCommand, withConnection, type CommandContext } from '../context.js';
import type { Command } from 'commander';
import { HomepotError } from '../../core/errors.js';
import { intervalOption, type Interval } from '../../core/intervals.js';
import { formatCount } from '../../core/numbers.js';
import { planFailure } from '../../db/plan.js';
import { removeRetention, setRetention, showRetention, type RetentionReport } from '../../tuning/retention.js';
import { runRetention, type RetentionRunResult } from '../../tuning/retention-run.js';
import type { TuningResult } from '../../tuning/change.js';

const DEFAULT_BATCH_ROWS = 10_000;

interface TuningFlags {
  table?: string;
  dryRun?: boolean;
  lockTimeout?: Interval;
}

/** --table, --lock-timeout and --dry-run of a tuning command (cli/options.ts resolves them). */
export function resolveTuning(flags: TuningFlags, ctx: CommandContext) {
  return { ...resolveSettings(['table', 'lockTimeout'], flags, ctx.sources), dryRun: Boolean(flags.dryRun) };
}

/** Print a tuning command's plan result and end with its failure, if any. */
export function finishChange(
  ctx: CommandContext,
  command: string,
  result: TuningResult,
  extra: Record<string, unknown> = {},
): void {
  printPlanResult(ctx, command, result, {
    table: result.table,
    server: result.server,
    edition: result.edition,
    ...extra,
  });
  const failure = planFailure(result);
  if (failure) throw failure;
}

export function registerRetention(program: Command, run: RunCommand): void {
  const retention = program
    .command('retention')
    .description('how long health checks are kept: show, set or remove the retention policy, or enforce retention now');

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

  changeOptions(
    tableOption(
      retention
        .command('set')
        .description('create the retention policy, or change its drop_after (Community edition; idempotent)')
        .argument('<interval>', 'drop chunks older than this, e.g. 90d or "6 months"', intervalOption('interval')),
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

  changeOptions(
    tableOption(
      retention
        .command('run')
        .description(
          'enforce retention now: drop_chunks on a hypertable (any TimescaleDB edition), or DELETE in batches on plain PostgreSQL; for cron',
        )
        .option(
          '--older-than <interval>',
          `remove data older than this (default config setup.retention, else ${SETUP_DEFAULTS.retention})`,
          intervalOption('--older-than'),
        )
        .option(
          '--time-column <column>',
          'time column of a plain table (default config setup.timeColumn, else "timestamp"; a hypertable uses its own)',
        )
        .option(
          '--batch-rows <n>',
          `rows per DELETE transaction on a plain table (default ${formatCount(DEFAULT_BATCH_ROWS)})`,
          (v) => parsePositiveInt(v, '--batch-rows'),
        ),
    ),
  ).action((flags: TuningFlags & { olderThan?: Interval; timeColumn?: string; batchRows?: number }, cmd: Command) =>
    run(cmd, async (ctx) => {
      const olderThan = flags.olderThan ?? defaultRetention(ctx);
      if (!olderThan) {
        throw new HomepotError(
          'usage',
          'no retention to enforce: the config sets setup.retention to false and --older-than is not given',
          {
            hint: "Give --older-than, e.g. --older-than '90 days'.",
          },
        );
      }
      const opts = {
        ...resolveTuning(flags, ctx),
        olderThan,
        ...(flags.timeColumn !== undefined ? { timeColumn: flags.timeColumn } : {}),
        defaultTimeColumn: resolveSetting('timeColumn', undefined, ctx.sources),
        batchRows: flags.batchRows ?? DEFAULT_BATCH_ROWS,
      };
      const progress = progressReporter(ctx, 'deleting old rows');
      const result = await withConnection(ctx, (conn) =>
        withChangeFeedback(ctx, (hooks) =>
          runRetention(conn.sql, opts, { ...hooks, onProgress: (p) => progress.update(p) }),
        ),
      );
      if (result.method === 'delete' && result.batches)
        progress.succeed(`deleted ${formatCount(result.rowsDeleted)} rows in ${result.batches} batches`);
      finishRun(ctx, result);
    }),
  );
}

/** The retention setup aims for: environment > config setup.retention (false: none) > the seed's 90 days. */
function defaultRetention(ctx: CommandContext): Interval | null {
  return resolveSetting('retention', undefined, ctx.sources);
}

function finishRun(ctx: CommandContext, r: RetentionRunResult): void {
  printPlanResult(ctx, 'retention run', r, {
    table: r.table,
    server: r.server,
    edition: r.edition,
    method: r.method,
    olderThan: r.olderThan,
    cutoff: r.cutoff,
    timeColumn: r.timeColumn,
    chunksDropped: r.chunksDropped,
    chunks: r.chunks,
    rowsDeleted: r.rowsDeleted,
    rowsEstimate: r.rowsEstimate,
    batches: r.batches,
    interrupted: r.interrupted,
  });
  ctx.logger.info(runSummary(r));
  if (r.interrupted) {
    throw new HomepotError(
      'interrupted',
      `interrupted: ${formatCount(r.rowsDeleted)} rows deleted in ${r.batches} batches stay deleted`,
      {
        hint: 'Run homepot-ts retention run again to continue where it stopped.',
      },
    );
  }
  const failure = planFailure(r);
  if (failure) throw failure;
}

function runSummary(r: RetentionRunResult): string {
  const older = `older than ${r.olderThan} (before ${formatTime(r.cutoff)})`;
  if (r.method === 'drop_chunks') {
    if (!r.chunksDropped) return `no chunk of ${r.table} lies entirely ${older}: nothing to drop.`;
    const rows =
      r.rowsEstimate === null
        ? 'rows not counted (chunks not analyzed yet)'
        : `about ${formatCount(r.rowsEstimate)} rows`;
    return `${r.dryRun ? 'would drop' : 'dropped'} ${r.chunksDropped} chunk${r.chunksDropped === 1 ? '' : 's'} of ${r.table} ${older}: ${rows}.`;
  }
  if (!r.rowsDeleted) return `no row of ${r.table} is ${older}: nothing to delete.`;
  return r.dryRun
    ? `would delete ${formatCount(r.rowsDeleted)} rows of ${r.table} ${older}, in batches.`
    : `deleted ${formatCount(r.rowsDeleted)} rows of ${r.table} ${older} in ${r.batches} batch${r.batches === 1 ? '' : 'es'}.`;
}

function printRetention(ctx: CommandContext, r: RetentionReport): void {
  if (ctx.options.json) {
    ctx.printJson({ command: 'retention show', ...r });
    return;
  }
  const c = ctx.chalk;
  const p = r.policy;
  const lines: [string, string][] = [
    ['table', r.table],
    ['server', r.server],
    [
      'retention policy',
      p
        ? `job ${p.jobId}: drop chunks older than ${p.dropAfter ?? '?'}`
        : c.dim(r.policiesAvailable ? 'none' : 'none (not available here)'),
    ],
  ];
  if (p) {
    lines.push(
      ['schedule', p.scheduled ? `every ${p.scheduleInterval ?? '?'}` : c.yellow('paused')],
      [
        'last run',
        p.lastRunStartedAt
          ? `${formatTime(p.lastRunStartedAt)} (${p.lastRunStatus === 'Failed' ? c.red('Failed') : (p.lastRunStatus ?? '?')})`
          : c.dim('never'),
      ],
      ['next start', p.scheduled ? formatTime(p.nextStart) : '-'],
      ['failures', p.totalFailures > 0 ? c.red(String(p.totalFailures)) : '0'],
    );
  }
  if (r.compressAfter) lines.push(['compression', `after ${r.compressAfter}`]);
  lines.push([
    'retention run',
    r.runMethod === 'drop_chunks' ? 'drops old chunks (drop_chunks)' : 'deletes old rows in batches (DELETE)',
  ]);
  const width = Math.max(...lines.map(([k]) => k.length));
  ctx.print(lines.map(([k, v]) => `${c.bold(k.padEnd(width))}  ${v}`).join('\n'));
  if (r.note) ctx.logger.info(r.note);
}
