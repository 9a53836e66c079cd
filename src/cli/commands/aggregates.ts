import { lockWaitNote } from '../feedback.js';
import { formatBytes, formatTime, formatDuration } from '../render/format.js';
import { table } from '../render/table.js';
import { printPlanResult } from '../render/plan.js';
import { type RunCommand, withConnection, type CommandContext } from '../context.js';
import { Argument, type Command } from 'commander';
import { AGGREGATE_NAMES, describePolicy, type AggregateName } from '../../aggregates/definitions.js';
import { listAggregates, type AggregateInfo } from '../../aggregates/inspect.js';
import { runCreateAggregates } from '../../aggregates/create.js';
import { resolveTime, runRefresh, type MaterializeProgress, type MaterializeResult } from '../../aggregates/refresh.js';
import { runDrop, runSetPolicy } from '../../aggregates/manage.js';
import { HomepotError } from '../../core/errors.js';
import { intervalOption, parseInterval, type Interval } from '../../core/intervals.js';
import { formatCount } from '../../core/numbers.js';
import { planFailure } from '../../db/plan.js';
import {
  AGGREGATE_WINDOW_DEFAULT,
  changeOptions,
  explicitFlags,
  resolveAggregateOptions,
  resolvePolicies,
  resolveSetting,
  type AggregateFlags,
} from '../options.js';

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

function renderMaterialized(ctx: CommandContext, results: MaterializeResult[], dryRun: boolean): void {
  if (results.length === 0) return;
  const c = ctx.chalk;
  ctx.print('\n' + c.bold(dryRun ? 'Would materialize:' : 'Materialized:'));
  ctx.print(
    table(
      ['aggregate', 'kind', 'from', 'to', 'windows', 'time'],
      results.map((m) => [
        m.aggregate,
        m.kind === 'continuous' ? 'continuous' : 'materialized view',
        m.from ? formatTime(m.from) : m.kind === 'materialized' && m.windows ? 'all' : '-',
        m.to ? formatTime(m.to) : '-',
        m.note ?? (dryRun ? `${m.windows}` : `${m.windowsDone}/${m.windows}`),
        dryRun ? '-' : formatDuration(m.elapsedMs),
      ]),
      c,
    ),
  );
  if (dryRun) {
    for (const m of results) for (const st of m.statements) ctx.print(st + ';');
  }
}

export function registerAggregates(program: Command, run: RunCommand): void {
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
      intervalOption('--window'),
    );
  changeOptions(create).action((flags: AggregateFlags, cmd: Command) =>
    run(cmd, async (ctx) => {
      const opts = resolveAggregateOptions(explicitFlags(cmd, flags), ctx.sources);
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
      printPlanResult(ctx, 'create-aggregates', result, {
        server: result.server,
        kind: result.kind,
        materialized: result.materialized,
      });
      if (!ctx.options.json) renderMaterialized(ctx, result.materialized, result.dryRun);
      if (ctx.signal.aborted) {
        throw new HomepotError('interrupted', 'interrupted: the steps and windows before the interruption are kept', {
          hint: 'Run create-aggregates again: it continues where it stopped.',
        });
      }
      const failure = planFailure(result);
      if (failure) throw failure;
    }),
  );

  const agg = program.command('aggregates').description('look after the aggregates: list, refresh, policy, drop');
  const nameArg = (required: boolean) =>
    new Argument(required ? '<name>' : '[name]', 'aggregate').choices([...AGGREGATE_NAMES]);

  agg
    .command('list')
    .description('each aggregate: kind, refresh policy, materialized up to, rows, size')
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

  agg
    .command('refresh')
    .description(
      'bring aggregates up to date (all, or one). Fit for cron, e.g.: */15 * * * * homepot-ts aggregates refresh --quiet',
    )
    .addArgument(nameArg(false))
    .option(
      '--from <time>',
      'continuous aggregates: refresh from this timestamp, or this long ago ("7 days"); default: the oldest health check',
    )
    .option(
      '--to <time>',
      "continuous aggregates: refresh up to this timestamp or this long ago; default: now minus the policy's end offset",
    )
    .option(
      '--window <interval>',
      `refresh in windows of this length (default ${AGGREGATE_WINDOW_DEFAULT})`,
      intervalOption('--window'),
    )
    .option('--dry-run', 'show what would be refreshed; change nothing')
    .action(
      (
        name: AggregateName | undefined,
        flags: { from?: string; to?: string; window?: Interval; dryRun?: boolean },
        cmd: Command,
      ) =>
        run(cmd, async (ctx) => {
          const policies = resolvePolicies(ctx.config);
          const window = resolveSetting('aggregateWindow', flags.window, ctx.sources);
          const result = await withConnection(ctx, async (conn) => {
            const from = await resolveTime(conn.sql, flags.from, '--from');
            const to = await resolveTime(conn.sql, flags.to, '--to');
            if (from && to && from >= to) throw new HomepotError('usage', '--from must be before --to');
            const progress = materializeProgress(ctx);
            try {
              return await runRefresh(
                conn.sql,
                {
                  names: name ? [name] : [...AGGREGATE_NAMES],
                  ...(from ? { from } : {}),
                  ...(to ? { to } : {}),
                  policies,
                  window,
                  dryRun: Boolean(flags.dryRun),
                },
                {
                  onProgress: (p) => progress.update(p),
                  signal: ctx.signal,
                  onWait: () => lockWaitNote(ctx),
                },
              );
            } finally {
              progress.stop();
            }
          });
          if (ctx.options.json) {
            ctx.printJson({
              command: 'aggregates refresh',
              server: result.server,
              dryRun: Boolean(flags.dryRun),
              results: result.results,
              warnings: result.warnings,
            });
          } else {
            for (const w of result.warnings) ctx.logger.warn(w);
            renderMaterialized(ctx, result.results, Boolean(flags.dryRun));
          }
          if (ctx.signal.aborted)
            throw new HomepotError('interrupted', 'interrupted: the windows before the interruption are refreshed', {
              hint: 'Run aggregates refresh again to finish.',
            });
        }),
    );

  const policy = agg
    .command('policy')
    .description(
      "set a continuous aggregate's refresh policy (TimescaleDB Community). create-aggregates sets it back to config aggregates.<name> unless you put it there too",
    )
    .addArgument(nameArg(true))
    .option('--start-offset <interval>', 'refresh window start, this long before now ("none": from the beginning)')
    .option('--end-offset <interval>', 'refresh window end, this long before now', intervalOption('--end-offset'))
    .option('--schedule <interval>', 'run the refresh this often', intervalOption('--schedule'));
  changeOptions(policy).action(
    (
      name: AggregateName,
      flags: {
        startOffset?: string;
        endOffset?: Interval;
        schedule?: Interval;
        lockTimeout?: Interval;
        dryRun?: boolean;
      },
      cmd: Command,
    ) =>
      run(cmd, async (ctx) => {
        const base = resolvePolicies(ctx.config)[name];
        const startOffset =
          flags.startOffset === undefined
            ? base.startOffset
            : flags.startOffset.trim().toLowerCase() === 'none'
              ? null
              : parseInterval(flags.startOffset, '--start-offset');
        const wanted = {
          startOffset,
          endOffset: flags.endOffset ?? base.endOffset,
          schedule: flags.schedule ?? base.schedule,
        };
        const lockTimeout = resolveSetting('lockTimeout', flags.lockTimeout, ctx.sources);
        const result = await withConnection(ctx, (conn) =>
          runSetPolicy(conn.sql, name, wanted, { lockTimeout, dryRun: Boolean(flags.dryRun) }),
        );
        printPlanResult(ctx, 'aggregates policy', result);
        const failure = planFailure(result);
        if (failure) throw failure;
      }),
  );

  const drop = agg
    .command('drop')
    .description('drop an aggregate with its materialized rows and policy (destructive; --dry-run shows it)')
    .addArgument(nameArg(true));
  changeOptions(drop).action((name: AggregateName, flags: { lockTimeout?: Interval; dryRun?: boolean }, cmd: Command) =>
    run(cmd, async (ctx) => {
      const lockTimeout = resolveSetting('lockTimeout', flags.lockTimeout, ctx.sources);
      const result = await withConnection(ctx, (conn) =>
        runDrop(conn.sql, name, { lockTimeout, dryRun: Boolean(flags.dryRun) }),
      );
      printPlanResult(ctx, 'aggregates drop', result);
      const failure = planFailure(result);
      if (failure) throw failure;
    }),
  );
}

export function renderAggregatesTable(list: AggregateInfo[], ctx: Pick<CommandContext, 'chalk'>): string {
  const c = ctx.chalk;
  return table(
    ['aggregate', 'kind', 'policy', 'materialized up to', 'rows', 'size'],
    list.map((a) => [
      a.name + (a.definitionMatches === false ? c.yellow(' (definition differs)') : ''),
      !a.exists
        ? c.red('missing')
        : a.kind === 'continuous'
          ? `continuous${a.realTime ? ', real-time' : ''}`
          : a.kind === 'materialized'
            ? 'materialized view'
            : String(a.kind),
      a.policy
        ? `job ${a.policy.jobId}, ${describePolicy(a.policy)}`
        : a.kind === 'materialized'
          ? c.dim('none: cron aggregates refresh')
          : a.exists
            ? c.yellow('none')
            : '-',
      a.materializedUpTo
        ? `${formatTime(a.materializedUpTo)} (${formatDuration((a.behindSeconds ?? 0) * 1000)} ago)`
        : a.exists
          ? c.yellow('nothing yet')
          : '-',
      formatCount(a.rows),
      formatBytes(a.totalBytes),
    ]),
    c,
  );
}
