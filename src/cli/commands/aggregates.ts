import type { ExitCodeValue } from '../../core/exit-codes.js';
import { lockWaitNote, withChangeFeedback } from '../feedback.js';
import { formatTime, formatDuration } from '../render/format.js';
import { printPlanResult } from '../render/plan.js';
import { printRefreshResult, renderAggregatesTable, renderMaterialized } from '../render/aggregates.js';
import { type RunCommand, withConnection, type CommandContext } from '../context.js';
import { Argument, type Command } from 'commander';
import { AGGREGATE_NAMES, type AggregateName } from '../../aggregates/definitions.js';
import { listAggregates } from '../../aggregates/inspect.js';
import { runCreateAggregates } from '../../aggregates/create.js';
import { runRefresh, type MaterializeProgress } from '../../aggregates/refresh.js';
import { runDrop, runSetPolicy } from '../../aggregates/manage.js';
import { HomepotError } from '../../core/errors.js';
import { parseInterval, type Interval } from '../../core/intervals.js';
import * as kinds from '../parse/values.js';
import { changeOptions, checkOption } from '../parse/flags.js';
import { checkFields, endCheck, pendingOf } from './change.js';
import { planFailure } from '../../db/plan.js';
import {
  AGGREGATE_WINDOW_DEFAULT,
  explicitFlags,
  resolveAggregateOptions,
  resolvePolicies,
  resolveSetting,
  type AggregateFlags,
} from '../options.js';

interface RefreshFlags {
  from?: string;
  to?: string;
  window?: Interval;
  dryRun?: boolean;
}
interface DropFlags {
  lockTimeout?: Interval;
  dryRun?: boolean;
}
interface PolicyFlags extends DropFlags {
  startOffset?: string;
  endOffset?: Interval;
  schedule?: Interval;
}

/** Progress of materializing, for people: one line per window on stderr (spinner on a TTY). */
function materializeProgress(ctx: CommandContext) {
  const spin = ctx.spinner('materializing');
  const plain = !ctx.interactive && !ctx.options.json && !ctx.options.quiet;
  return {
    update(p: MaterializeProgress) {
      const range = p.from && p.to ? ` ${formatTime(p.from)} → ${formatTime(p.to)}` : '';
      const text = `materializing ${p.aggregate}${range}: ${p.done}/${p.total} ${p.from ? 'windows' : 'refresh'}, ${formatDuration(p.elapsedMs)}`;
      spin.update(text);
      if (plain && p.done > 0) ctx.logger.info(text);
    },
    stop: () => spin.stop(),
  };
}

/** create-aggregates, and aggregates with its subcommands list, refresh, policy and drop. */
export function registerAggregates(program: Command, run: RunCommand): void {
  registerCreateAggregates(program, run);
  const agg = program.command('aggregates').description('look after the aggregates: list, refresh, policy, drop');
  registerAggregatesList(agg, run);
  registerAggregatesRefresh(agg, run);
  registerAggregatesPolicy(agg, run);
  registerAggregatesDrop(agg, run);
}

function nameArg(required: boolean): Argument {
  return new Argument(required ? '<name>' : '[name]', 'aggregate')
    .choices([...AGGREGATE_NAMES])
    .argParser(kinds.choice('aggregate', AGGREGATE_NAMES));
}

function registerCreateAggregates(program: Command, run: RunCommand): void {
  const create = program
    .command('create-aggregates')
    .description(
      'create device_metrics_hourly, device_metrics_daily and site_metrics_hourly (continuous aggregates with refresh policies on TimescaleDB Community, materialized views elsewhere) and materialize the history (idempotent)',
    )
    .option('--recreate', 'drop and rebuild an aggregate whose definition differs from ours (destructive)')
    .option('--no-real-time', 'continuous aggregates answer from materialized rows only (materialized_only = true)')
    .option('--no-materialize', 'create only; leave the history for the refresh policy or aggregates refresh')
    .option(
      '--window <interval>',
      `materialize history in windows of this length, oldest first (default ${AGGREGATE_WINDOW_DEFAULT})`,
      kinds.interval('--window'),
    );
  checkOption(changeOptions(create)).action((flags: AggregateFlags & { check?: boolean }, cmd: Command) =>
    run(cmd, (ctx) => createAggregates(ctx, explicitFlags(cmd, flags))),
  );
}

async function createAggregates(
  ctx: CommandContext,
  all: AggregateFlags & { check?: boolean },
): Promise<ExitCodeValue | void> {
  const { check: checkFlag, ...flags } = all;
  const check = Boolean(checkFlag);
  const opts = resolveAggregateOptions(check ? { ...flags, dryRun: true } : flags, ctx.sources);
  const result = await withConnection(ctx, async (conn) => {
    const spin = ctx.spinner('waiting for the change lock');
    const progress = materializeProgress(ctx);
    try {
      return await runCreateAggregates(conn.sql, opts, {
        onWait: () => lockWaitNote(ctx),
        onStep: (s) => spin.update(`applying: ${s.title}`),
        onProgress: (p) => {
          spin.stop();
          progress.update(p);
        },
        signal: ctx.signal,
      });
    } finally {
      spin.stop();
      progress.stop();
    }
  });
  const pending = pendingOf(check, result);
  printPlanResult(ctx, 'create-aggregates', result, {
    server: result.server,
    kind: result.kind,
    materialized: result.materialized,
    ...checkFields(check, pending),
  });
  if (!ctx.options.json) renderMaterialized(ctx, result.materialized, result.dryRun);
  if (ctx.signal.aborted) {
    throw new HomepotError('interrupted', 'interrupted: the steps and windows before the interruption are kept', {
      hint: 'Run create-aggregates again: it continues where it stopped.',
    });
  }
  const failure = planFailure(result);
  if (failure) throw failure;
  if (check) return endCheck(ctx, 'create-aggregates', pending);
}

function registerAggregatesList(agg: Command, run: RunCommand): void {
  agg
    .command('list', { isDefault: true })
    .description('each aggregate: kind, refresh policy, last refresh, materialized up to, rows, size (the default)')
    .action((_o: unknown, cmd: Command) =>
      run(cmd, async (ctx) => {
        const list = await withConnection(ctx, (conn, caps) =>
          listAggregates(conn.sql, { capabilities: caps, compareDefinitions: true }),
        );
        if (ctx.options.json) {
          ctx.printJson({ aggregates: list });
          return;
        }
        ctx.print(renderAggregatesTable(list, ctx));
      }),
    );
}

function registerAggregatesRefresh(agg: Command, run: RunCommand): void {
  agg
    .command('refresh')
    .description(
      'bring aggregates up to date (all, or one). Fit for cron, e.g.: */15 * * * * homepot-ts aggregates refresh --quiet',
    )
    .addArgument(nameArg(false))
    .option(
      '--from <time>',
      'recompute every bucket from this timestamp, or this long ago ("7 days"); default: the oldest health check (continuous aggregates: changed buckets only; aggregate tables: the policy\'s start offset back)',
      kinds.timeOrAgo('--from'),
    )
    .option(
      '--to <time>',
      "recompute every bucket up to this timestamp or this long ago; default: now minus the policy's end offset",
      kinds.timeOrAgo('--to'),
    )
    .option(
      '--window <interval>',
      `refresh in windows of this length, rounded up to whole buckets of each view (default ${AGGREGATE_WINDOW_DEFAULT}; config aggregates.window)`,
      kinds.interval('--window'),
    )
    .option('--dry-run', 'show what would be refreshed; change nothing')
    .addHelpText(
      'after',
      `
The range is cut to whole buckets (hours; UTC days for device_metrics_daily)
and never reaches below the oldest raw health check, nor into a bucket whose
raw rows retention dropped in part: those keep what they hold. With --from or
--to every bucket of the range is recomputed (force, TimescaleDB 2.18+), so a
device that moved site is counted under its new site; without, only buckets
whose raw rows changed. Aggregate tables (Apache edition, plain PostgreSQL)
recompute every bucket of their range, which without --from starts the
policy's start offset back. The output says which (--json: mode, notes).`,
    )
    .action((name: AggregateName | undefined, flags: RefreshFlags, cmd: Command) =>
      run(cmd, (ctx) => refreshAggregates(ctx, name, flags)),
    );
}

async function refreshAggregates(ctx: CommandContext, name: AggregateName | undefined, flags: RefreshFlags) {
  const policies = resolvePolicies(ctx.config);
  const window = resolveSetting('aggregateWindow', flags.window, ctx.sources);
  const result = await withConnection(ctx, async (conn) => {
    const progress = materializeProgress(ctx);
    try {
      return await runRefresh(
        conn.sql,
        {
          names: name ? [name] : [...AGGREGATE_NAMES],
          ...(flags.from !== undefined ? { from: flags.from } : {}),
          ...(flags.to !== undefined ? { to: flags.to } : {}),
          policies,
          window,
          dryRun: Boolean(flags.dryRun),
        },
        { onProgress: (p) => progress.update(p), signal: ctx.signal, onWait: () => lockWaitNote(ctx) },
      );
    } finally {
      progress.stop();
    }
  });
  printRefreshResult(ctx, result, Boolean(flags.dryRun));
  if (ctx.signal.aborted)
    throw new HomepotError('interrupted', 'interrupted: the windows before the interruption are refreshed', {
      hint: 'Run aggregates refresh again to finish.',
    });
}

function registerAggregatesPolicy(agg: Command, run: RunCommand): void {
  const policy = agg
    .command('policy')
    .description(
      "set a continuous aggregate's refresh policy (TimescaleDB Community). create-aggregates sets it back to config aggregates.<name> unless you put it there too",
    )
    .addArgument(nameArg(true))
    .option(
      '--start-offset <interval>',
      'refresh window start, this long before now ("none": from the beginning)',
      kinds.intervalOrNone('--start-offset'),
    )
    .option('--end-offset <interval>', 'refresh window end, this long before now', kinds.interval('--end-offset'))
    .option('--schedule <interval>', 'run the refresh this often', kinds.interval('--schedule'));
  changeOptions(policy).action((name: AggregateName, flags: PolicyFlags, cmd: Command) =>
    run(cmd, async (ctx) => {
      const wanted = wantedPolicy(ctx, name, flags);
      const lockTimeout = resolveSetting('lockTimeout', flags.lockTimeout, ctx.sources);
      const result = await withConnection(ctx, (conn) =>
        withChangeFeedback(ctx, (hooks) =>
          runSetPolicy(conn.sql, name, wanted, { lockTimeout, dryRun: Boolean(flags.dryRun) }, hooks),
        ),
      );
      printPlanResult(ctx, 'aggregates policy', result);
      const failure = planFailure(result);
      if (failure) throw failure;
    }),
  );
}

/** The policy asked for: each flag given, else config aggregates.<name>, else the seed's. */
function wantedPolicy(ctx: CommandContext, name: AggregateName, flags: PolicyFlags) {
  const base = resolvePolicies(ctx.config)[name];
  const startOffset =
    flags.startOffset === undefined
      ? base.startOffset
      : flags.startOffset.trim().toLowerCase() === 'none'
        ? null
        : parseInterval(flags.startOffset, '--start-offset');
  return {
    startOffset,
    endOffset: flags.endOffset ?? base.endOffset,
    schedule: flags.schedule ?? base.schedule,
  };
}

function registerAggregatesDrop(agg: Command, run: RunCommand): void {
  const drop = agg
    .command('drop')
    .description('drop an aggregate with its materialized rows and policy (destructive; --dry-run shows it)')
    .addArgument(nameArg(true));
  changeOptions(drop).action((name: AggregateName, flags: DropFlags, cmd: Command) =>
    run(cmd, async (ctx) => {
      const lockTimeout = resolveSetting('lockTimeout', flags.lockTimeout, ctx.sources);
      const result = await withConnection(ctx, (conn) =>
        withChangeFeedback(ctx, (hooks) =>
          runDrop(conn.sql, name, { lockTimeout, dryRun: Boolean(flags.dryRun) }, hooks),
        ),
      );
      printPlanResult(ctx, 'aggregates drop', result);
      const failure = planFailure(result);
      if (failure) throw failure;
    }),
  );
}
